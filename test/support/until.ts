/**
 * Polls `probe` until it gives a value (not null), for up to `deadlineMs`; a probe that throws
 * counts as "not yet" (a process still starting refuses connections). Throws naming `what`.
 */
export async function until<T>(
  what: string,
  deadlineMs: number,
  probe: () => Promise<T | null>,
  pollMs = 100,
): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
