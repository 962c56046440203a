#!/usr/bin/env node
// A stand-in for Factory's `droid` CLI in tests: it reads the custom model the orchestrator wrote
// to ~/.factory/settings.json (base URL on the model gateway, key `${VAR}` from the environment,
// as droid expands it), makes $FAKE_MODEL_CALLS streamed Anthropic Messages calls there, reports
// through `orchestrator report`, then prints a recorded `droid exec -o stream-json` transcript.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const settings = JSON.parse(readFileSync(join(homedir(), ".factory", "settings.json"), "utf8"));
const model = settings.customModels[0];
const key = model.apiKey.replace(/\$\{(\w+)\}/g, (_, name) => process.env[name] ?? "");
const calls = Number(process.env.FAKE_MODEL_CALLS ?? "1");
for (let i = 0; i < calls; i++) {
  const res = await fetch(`${model.baseUrl}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": key, "anthropic-version": "2023-06-01" },
    body: JSON.stringify({
      model: model.model,
      max_tokens: 1000,
      stream: true,
      tools: [{ name: "Read", input_schema: { type: "object" } }],
      messages: [{ role: "user", content: `step ${i}` }],
    }),
  });
  const text = await res.text();
  if (res.status !== 200) {
    process.stderr.write(`model call failed: ${res.status} ${text}\n`);
    process.exit(1);
  }
}
execFileSync("orchestrator", ["report", "--status", "complete", "--summary", "done by the fake droid"], {
  stdio: "ignore",
});
process.stdout.write(
  readFileSync(
    new URL("../../../src/workers/backends/fixtures/factory-droid/success.jsonl", import.meta.url),
  ),
);
