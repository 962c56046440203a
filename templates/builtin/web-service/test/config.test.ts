import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import { readConfig } from "../src/config.js";

test("a missing or bad PORT is a clear error", () => {
  assert.throws(() => readConfig({ PORT: "x" }), /PORT must be a TCP port number, got "x"/);
  assert.throws(() => readConfig({}), /PORT must be a TCP port number, got null/);
  assert.throws(() => readConfig({ PORT: "70000" }), /PORT must be a TCP port number/);
});

test("defaults: all interfaces, development, ./data, info logs (warn in tests)", () => {
  const config = readConfig({ PORT: "3000" });
  assert.deepEqual(config, {
    port: 3000,
    host: "0.0.0.0",
    appEnv: "development",
    publicUrl: undefined,
    dataDir: resolve("data"),
    logLevel: "info",
  });
  assert.equal(readConfig({ PORT: "3000", APP_ENV: "test" }).logLevel, "warn");
});

test("DATA_DIR is made absolute; a bad LOG_LEVEL is a clear error", () => {
  assert.equal(readConfig({ PORT: "1", DATA_DIR: "/srv/data" }).dataDir, "/srv/data");
  assert.equal(readConfig({ PORT: "1", DATA_DIR: "rel" }).dataDir, resolve("rel"));
  assert.throws(() => readConfig({ PORT: "1", LOG_LEVEL: "loud" }), /LOG_LEVEL must be one of/);
});
