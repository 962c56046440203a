import type { HealthGateResult } from "./http.js";

/** What the Telegram gate learned besides pass/fail: the bot's username. */
export type TelegramGateResult = HealthGateResult & { botUsername: string | null; probe: string };

/**
 * The health gate of a bot: its process runs, `getMe` answers with its token at the Bot API root it
 * uses, and (when a probe is available) it answers a probe `/start`. Polled every `intervalMs` up to
 * `deadlineMs`, like the HTTP gate. The token goes only into the request path, never into a result.
 */
export async function telegramHealthGate(opts: {
  apiRoot: string;
  token: string;
  isAlive: () => Promise<boolean>;
  probe?: (username: string) => Promise<{ ok: boolean; reason: string | null }>;
  intervalMs?: number;
  deadlineMs?: number;
}): Promise<TelegramGateResult> {
  const started = Date.now();
  const interval = opts.intervalMs ?? 1_000;
  const deadline = started + (opts.deadlineMs ?? 30_000);
  let attempts = 0;
  let reason = "not checked yet";
  while (Date.now() <= deadline) {
    attempts += 1;
    if (!(await opts.isAlive())) {
      reason = "the bot's process is not running";
    } else {
      const me = await getMe(opts.apiRoot, opts.token);
      if (!me.ok) reason = me.reason;
      else if (!opts.probe) {
        return {
          ok: true,
          attempts,
          elapsedMs: Date.now() - started,
          status: 200,
          botUsername: me.username,
          probe: "unavailable",
        };
      } else {
        const probed = await opts.probe(me.username);
        if (probed.ok) {
          return {
            ok: true,
            attempts,
            elapsedMs: Date.now() - started,
            status: 200,
            botUsername: me.username,
            probe: "answered",
          };
        }
        reason = `the bot did not answer a probe /start: ${probed.reason ?? "no reply"}`;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  return { ok: false, attempts, elapsedMs: Date.now() - started, reason, botUsername: null, probe: "failed" };
}

async function getMe(
  apiRoot: string,
  token: string,
): Promise<{ ok: true; username: string } | { ok: false; reason: string }> {
  try {
    const res = await fetch(`${apiRoot.replace(/\/+$/, "")}/bot${token}/getMe`, {
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await res.json()) as { ok?: boolean; result?: { username?: string }; description?: string };
    if (body.ok && body.result?.username) return { ok: true, username: body.result.username };
    return { ok: false, reason: `getMe refused: ${res.status} ${body.description ?? ""}`.trim() };
  } catch (error) {
    return { ok: false, reason: `getMe failed: ${error instanceof Error ? error.name : "error"}` };
  }
}
