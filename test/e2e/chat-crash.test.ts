/**
 * `kill -9` of `orchestrator up` in the middle of conversations: the PO is working on one message
 * (the model has not answered), two more wait behind it, another chat's turn is under way, and an
 * update was just handed to the bot by the Bot API. After `up` starts again on the same data
 * directory, every message gets exactly one answer: nothing lost, nothing answered twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  answerEveryMessage,
  answerTo,
  type ChatOrchestrator,
  startChatOrchestrator,
  textsIn,
} from "../support/chat-orchestrator.js";
import { until } from "../support/until.js";

const ANN = 6_001;
const BOB = 6_002;
const CID = 6_003;

let h: ChatOrchestrator;

beforeAll(async () => {
  h = await startChatOrchestrator({ admins: [ANN, BOB, CID] });
  await h.start();
}, 120_000);
afterAll(async () => {
  await h?.close();
});

describe("a conversation survives its orchestrator being killed", () => {
  it("answers every message exactly once after kill -9 and a restart", { timeout: 240_000 }, async () => {
    const { tg, latency } = h;
    answerEveryMessage(h.model, 20);
    // The model thinks until the test lets it answer.
    latency.hold();
    tg.pushMessage(ANN, "ann 1");
    await until("the PO to work on ann 1", 30_000, async () => (latency.held === 1 ? true : null));
    tg.pushMessage(ANN, "ann 2");
    tg.pushMessage(ANN, "ann 3");
    tg.pushMessage(BOB, "bob 1");
    await until("the PO to work on bob 1", 30_000, async () => (latency.held === 2 ? true : null));
    // Stored and confirmed to Telegram: from here on the store alone has them.
    await until("the updates to be confirmed", 30_000, async () => (tg.pendingUpdates() === 0 ? true : null));

    // One more update: the process dies right after the Bot API hands it over.
    const waiting = tg.callsOf("getUpdates").filter((c) => c.status === undefined);
    expect(waiting).toHaveLength(1);
    tg.pushMessage(CID, "cid 1");
    await until("the bot to fetch cid 1", 30_000, async () => (waiting[0]?.status === 200 ? true : null), 1);
    await h.kill();
    const unconfirmed = tg.pendingUpdates();
    expect(tg.sentMessages()).toEqual([]);

    // The model answers again; a new process on the same data directory takes over.
    latency.release();
    latency.setDelay(100);
    await h.start();
    const [ann, bob, cid] = await Promise.all([
      tg.waitForMessages(ANN, 3, 90_000),
      tg.waitForMessages(BOB, 1, 90_000),
      tg.waitForMessages(CID, 1, 90_000),
    ]);
    // Anything answered twice would arrive by now.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(ann.map((m) => m.messageId)).toHaveLength(3);
    expect(textsIn(tg, ANN)).toEqual([answerTo("ann 1"), answerTo("ann 2"), answerTo("ann 3")]);
    expect(textsIn(tg, BOB)).toEqual([answerTo("bob 1")]);
    expect(textsIn(tg, CID)).toEqual([answerTo("cid 1")]);
    expect(bob).toHaveLength(1);
    expect(cid).toHaveLength(1);
    expect(tg.pendingUpdates()).toBe(0);
    console.log(
      `cid 1 was ${unconfirmed > 0 ? "not yet confirmed (Telegram gave it again)" : "confirmed (stored before the kill)"} when the process died`,
    );
  });
});
