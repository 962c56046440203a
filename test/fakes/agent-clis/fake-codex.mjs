#!/usr/bin/env node
// A stand-in for the `codex` CLI in tests, speaking to the model the way Codex does: the OpenAI
// Responses API at $OPENAI_BASE_URL with $OPENAI_API_KEY (what a sandbox is given: the model
// gateway and the worker's own token). It makes $FAKE_MODEL_CALLS streamed calls, reports through
// the sandbox's `orchestrator report`, then prints a recorded `codex exec --json` transcript, whose
// own usage figures differ from what the provider said: the gateway's count must win.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const calls = Number(process.env.FAKE_MODEL_CALLS ?? "1");
for (let i = 0; i < calls; i++) {
  const res = await fetch(`${process.env.OPENAI_BASE_URL}/responses`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${process.env.OPENAI_API_KEY}` },
    body: JSON.stringify({ model: "gpt-5-codex", stream: true, input: `step ${i}` }),
  });
  const text = await res.text();
  if (res.status !== 200) {
    process.stderr.write(`model call failed: ${res.status} ${text}\n`);
    console.log(JSON.stringify({ type: "error", message: `unexpected status ${res.status}: ${text}` }));
    process.exit(1);
  }
}
execFileSync("orchestrator", ["report", "--status", "complete", "--summary", "done by the fake codex"], {
  stdio: "ignore",
});
process.stdout.write(
  readFileSync(new URL("../../../src/workers/backends/fixtures/codex/success.jsonl", import.meta.url)),
);
