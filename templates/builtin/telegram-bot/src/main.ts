import { commandList, createBot, describeError, startPolling } from "./bot.js";
import { readConfig } from "./config.js";
import { openDeps } from "./deps.js";

/** How long a stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 15_000;

const config = readConfig();
const deps = openDeps(config);
const bot = createBot(config, deps);
await bot.init();
await bot.api.deleteWebhook();
await bot.api.setMyCommands(commandList());
const polling = startPolling(bot, deps.log);
deps.log.info(`@${bot.botInfo.username} is running (long polling, data in ${config.dataDir})`);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    deps.log.info(`${signal}: stopping`);
    setTimeout(() => {
      deps.log.error("stop took too long, exiting");
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    void polling
      .stop()
      .then(() => Promise.all(Object.values(deps.stores).map((store) => store.flushed())))
      .then(() => deps.log.info("stopped"));
  });
}

// A failing runner (e.g. a revoked token: 401) ends the process so the deploy sees it.
polling.handle.task()?.catch((error: unknown) => {
  deps.log.error(`polling failed: ${describeError(error)}`);
  process.exit(1);
});
