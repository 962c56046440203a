/**
 * Scripting the real `claude` CLI's turns against the fake Anthropic API, for engineering runs:
 * each turn is checked to belong to the expected stage (the header of the engine's prompt), and
 * learns its workspace path first (`pwd`), since it differs between bubblewrap and plain processes.
 */
import {
  type FakeAnthropic,
  type FakeReply,
  type FakeReplyFn,
  type FakeUsage,
  lastToolResultText,
  type MessagesBody,
} from "../fakes/anthropic/index.js";

/**
 * Throws (ending the CLI's turn with the reason) unless the request is the first of a turn of the
 * named stage: its newest message is the engine's prompt (a resumed session sends the earlier
 * turns before it).
 */
export function expectStage(body: MessagesBody, header: string): void {
  const prompt = JSON.stringify(body.messages?.at(-1) ?? null);
  if (!prompt.includes(header)) throw new Error(`expected a turn of ${header}, got ${prompt.slice(0, 200)}`);
}

/** One scripted reply of a turn, given the workspace path and the request it answers. */
export type Step = (ws: string, body: MessagesBody) => FakeReply;

/**
 * An agent turn whose first reply runs `pwd`; every later step can build absolute paths from what
 * it printed. `pwdUsage` gives the usage of that first reply (tests that sum tokens count it).
 */
export function turnIn(
  header: string,
  [firstStep, ...rest]: [Step, ...Step[]],
  pwdUsage: () => FakeUsage = () => ({ input: 900, output: 20 }),
): FakeReplyFn[] {
  let ws = "";
  const pwd: FakeReplyFn = (body) => {
    expectStage(body, header);
    return {
      toolUse: { name: "Bash", input: { command: "pwd", description: "Where am I" } },
      usage: pwdUsage(),
    };
  };
  const first: FakeReplyFn = (body) => {
    ws = lastToolResultText(body)?.trim() ?? "";
    if (!ws.startsWith("/")) throw new Error(`pwd printed no absolute path: ${ws}`);
    return firstStep(ws, body);
  };
  return [
    pwd,
    first,
    ...rest.map(
      (step): FakeReplyFn =>
        (body) =>
          step(ws, body),
    ),
  ];
}

/** The last full commit SHA a tool printed (e.g. `git rev-parse HEAD` after a push); throws when none. */
export function printedSha(body: MessagesBody): string {
  const printed = lastToolResultText(body) ?? "";
  const sha = printed.match(/\b[0-9a-f]{40}\b/g)?.at(-1);
  if (!sha) throw new Error(`the command printed no SHA: ${printed.slice(0, 500)}`);
  return sha;
}

/** What the model asked for and what the CLI answered, per conversation request: for failures. */
export function transcript(fake: FakeAnthropic): string[] {
  return fake.conversation().map((r) => {
    const body = r.body as MessagesBody;
    const last = body.messages?.at(-1);
    const result = lastToolResultText(body);
    const header =
      JSON.stringify(body.messages ?? "")
        .match(/\[engineering [^\]]+\]/g)
        ?.at(-1) ?? "?";
    return `${header} #${body.messages?.length ?? 0}: ${result === null ? JSON.stringify(last).slice(0, 300) : result.slice(0, 300)}`;
  });
}
