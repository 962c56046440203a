import { createApp } from "./app.js";
import { readConfig } from "./config.js";

const config = readConfig();
const server = createApp(config);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  });
}

server.listen(config.port, () => {
  console.log(`{{projectName}} listening on port ${config.port} (${config.appEnv})`);
});
