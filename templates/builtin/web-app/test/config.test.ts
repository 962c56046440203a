import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import { readConfig } from "../src/config.js";

test("readConfig reads PORT, APP_ENV and DATA_DIR (default ./data)", () => {
  const config = readConfig({ PORT: "8080", APP_ENV: "production", DATA_DIR: "/srv/data" });
  assert.equal(config.port, 8080);
  assert.equal(config.appEnv, "production");
  assert.equal(config.dataDir, "/srv/data");
  assert.equal(readConfig({ PORT: "1" }).dataDir, resolve("data"));
});

test("a bad PORT is a clear error", () => {
  assert.throws(() => readConfig({ PORT: "x" }), /PORT must be a TCP port number/);
  assert.throws(() => readConfig({}), /PORT must be a TCP port number/);
});
