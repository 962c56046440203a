import { buildApp } from "./app.js";
import { readConfig } from "./config.js";

/** How long in-flight requests get to finish after SIGTERM/SIGINT before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 10_000;

const config = readConfig();
const app = buildApp(config);

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      app.log.error(`still closing after ${SHUTDOWN_DEADLINE_MS} ms: exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  });
}

// A promise nobody awaited failed: log it as a JSON line, then exit so the deploy restarts us clean.
process.on("unhandledRejection", (reason) => {
  app.log.fatal({ err: reason }, "unhandled rejection");
  process.exit(1);
});

try {
  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    `{{projectName}} listening on port ${config.port} (${config.appEnv}), data in ${config.dataDir}`,
  );
} catch (err) {
  app.log.fatal({ err }, "could not start");
  process.exit(1);
}
