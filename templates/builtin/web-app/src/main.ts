import { buildApp, defaultDeps } from "./app.js";
import { readConfig } from "./config.js";

/** How long in-flight requests get to finish on SIGTERM/SIGINT before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 10_000;

const config = readConfig();
const deps = defaultDeps(config);
const app = buildApp(config, deps);

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      app.log.error(`still busy after ${SHUTDOWN_DEADLINE_MS} ms, exiting anyway`);
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

try {
  // A data file that cannot be read stops the start here, with its name, rather than failing later.
  await deps.messages.list();
  await app.listen({ port: config.port, host: "0.0.0.0" });
  app.log.info(`{{projectName}} ready (${config.appEnv}), data in ${config.dataDir}`);
} catch (err) {
  app.log.fatal({ err }, "could not start");
  process.exit(1);
}
