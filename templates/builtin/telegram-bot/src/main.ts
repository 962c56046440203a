import { commandList, createBot } from "./bot.js";
import { readConfig } from "./config.js";

const bot = createBot(readConfig());

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    void bot.stop();
  });
}

await bot.api.setMyCommands(commandList());
await bot.start({
  drop_pending_updates: false,
  onStart: (me) => console.log(`@${me.username} is running (long polling)`),
});
