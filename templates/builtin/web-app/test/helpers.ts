import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../src/app.js";
import { readConfig } from "../src/config.js";

/** A fresh empty folder to use as DATA_DIR; remove it with `removeDir` in `after`. */
export function tempDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "web-app-test-"));
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** The app as main.ts builds it, on `dataDir`, ready for `app.inject(...)`; close it in `after`. */
export function testApp(dataDir: string): FastifyInstance {
  return buildApp(readConfig({ PORT: "0", APP_ENV: "test", DATA_DIR: dataDir }));
}

/** An urlencoded form body, as a browser sends it. */
export function form(fields: Record<string, string>): {
  payload: string;
  headers: Record<string, string>;
} {
  return {
    payload: new URLSearchParams(fields).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded" },
  };
}
