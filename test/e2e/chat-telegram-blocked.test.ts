/**
 * A blocked run in Telegram, for a person whose Telegram speaks Russian: the developer asks a
 * question, the person sees it (and every message the system composes) in Russian, answers with
 * their next message, and the run goes on to a live link. Real `orchestrator up`, Bot API and
 * Anthropic fakes, scripted agent, local deploy. The PO's model is slow on purpose: its last
 * reply comes only once the run has blocked, so the question has to find the chat while the PO is
 * still talking.
 *
 * The scripted agent plays the playbook the process read at start, one script per stage for
 * every run; as the engineering-answer suite swaps its playbook between the blocked run and the
 * continuation, this one restarts the orchestrator with the continuation's playbook while the
 * question waits, which also shows the waiting question survives a restart. The agents write the
 * light time service (plain JavaScript, no dependencies), so the Tester and the deploy cost no npm.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run } from "../../src/contracts/index.js";
import type { FakeSentMessage } from "../fakes/telegram/index.js";
import {
  afterToolResult,
  BUILD_DEADLINE_MS,
  linkIn,
  respond,
  startTelegramChat,
  type TelegramChat,
  TelegramPerson,
  toolCall,
} from "../support/chat.js";
import { lightBlockingPlaybook, lightChangeAwarePlaybook } from "../support/chat-playbook.js";
import { until } from "../support/until.js";

const PERSON_ID = 3001;
const BRIEF = "сделай веб-сервис, который говорит время";
const STARTED = "Начинаю: проект «Часы» создан, команда его собирает.";
const QUESTION = "В каком часовом поясе отвечать на /api/time?";
const ANSWER = "UTC, всегда";

let chat: TelegramChat;
let person: TelegramPerson;

beforeAll(async () => {
  chat = await startTelegramChat({ admins: [PERSON_ID], playbook: lightBlockingPlaybook(QUESTION) });
  person = new TelegramPerson(chat.tg, PERSON_ID, { firstName: "Ирина", languageCode: "ru" });
}, 120_000);
afterAll(async () => {
  await chat?.close();
});

const isProgress = (m: FakeSentMessage) => m.text.startsWith("🛠");

describe("Telegram: a blocked run answered in the chat, in Russian", () => {
  it("the developer's question reaches the person; their next message answers it; the run ends live", {
    timeout: 2 * BUILD_DEADLINE_MS,
  }, async () => {
    let projectId = "";
    chat.model.enqueue(
      toolCall("project_create", { name: "Часы", slug: "chasy", description: BRIEF }),
      afterToolResult((project) => {
        projectId = String(project.id);
        return toolCall("engineering_start", { projectId, brief: BRIEF });
      }),
      // A slow model: the PO's last words come after the run already asks its question. The
      // question must reach the person all the same.
      async () => {
        await until(
          "the run to block",
          BUILD_DEADLINE_MS,
          async () => {
            const runs = await chat.api<{ items: Run[] }>(
              "GET",
              `/api/runs?projectId=${projectId}&kind=engineering`,
            );
            return runs.items[0]?.status === "blocked" ? true : null;
          },
          250,
        );
        return respond(STARTED);
      },
    );
    person.write(BRIEF);
    await person.waitFor((m) => m.text === STARTED);

    const blocked = await person.waitFor((m) => m.text.startsWith("❓"), 30_000);
    expect(blocked.text).toBe(
      `❓ Часы ждёт вашего ответа: ${QUESTION}\n\nВаше следующее сообщение здесь будет принято как ответ.`,
    );
    const [firstProgress] = person.messages().filter(isProgress);
    expect(firstProgress?.text).toBe(
      "🛠 Часы: сборка\n✓ Архитектор\n✓ Подготовка репозитория\n✗ Разработчик, раунд 1",
    );
    // /status tells the truth, in Russian: the project waits for the person, and why.
    const [status] = await person.say("/status");
    expect(status?.text).toBe(`Как дела у ваших проектов:\n• Часы: ждёт вас, последний сбой: ${QUESTION}`);

    // The continuation's developer plays the green script: the process is restarted with it.
    await chat.restart({ playbook: lightChangeAwarePlaybook() });

    const requests = chat.model.requests.length;
    const [taken] = await person.say(ANSWER);
    expect(taken?.text).toBe("Спасибо. Часы продолжает работу с вашим ответом.");
    // The answer went to the run, not to the model.
    expect(chat.model.requests.length).toBe(requests);

    const live = await person.waitFor((m) => m.text.startsWith("✅"));
    const url = linkIn(live.text);
    expect(live.text).toBe(`✅ Часы работает: ${url}`);
    const time = await fetch(`${url}/api/time`);
    expect(time.status).toBe(200);
    expect(Math.abs(Date.parse(((await time.json()) as { now: string }).now) - Date.now())).toBeLessThan(
      60_000,
    );

    // The continuation carried the question and the person's words, and went green.
    const runs = await chat.api<{ items: Run[] }>(
      "GET",
      `/api/runs?projectId=${projectId}&kind=engineering&limit=10`,
    );
    expect(runs.items.map((r) => r.status)).toEqual(["succeeded", "blocked"]);
    expect(runs.items[0]?.input).toMatchObject({
      continues: runs.items[1]?.id,
      answers: [{ question: QUESTION, answer: ANSWER }],
    });
    // Its progress, in Russian: picked up at the developer, through the health gate.
    const progress = person.messages().filter(isProgress);
    expect(progress).toHaveLength(2);
    expect(progress[1]?.text.split("\n")).toEqual([
      "🛠 Часы: сборка",
      "✓ Разработчик, раунд 1",
      expect.stringMatching(/^✓ Тестировщик: [1-9]\d* прошло, 0 упало$/),
      "✓ Развёртывание",
      "✓ Проверка здоровья",
    ]);
    // The question was asked once; the answer was taken once.
    expect(person.messages().filter((m) => m.text.startsWith("❓"))).toHaveLength(1);
    expect(person.messages().filter((m) => m.text.startsWith("✅"))).toHaveLength(1);
  });
});
