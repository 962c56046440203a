import { AppError, type ComposeCommand, type Server } from "../../../contracts/index.js";
import type { ComposeCommands } from "./commands.js";
import type { CommandExecutor, DeployConnector } from "./executor.js";

/**
 * The driver's open executors, one per server (reopened when one has dropped), and how each server
 * runs Compose (`docker compose` v2 or `docker-compose` v1), detected once per server.
 */
export class ServerSessions {
  private readonly executors = new Map<string, Promise<CommandExecutor>>();
  private readonly composeBy = new Map<string, Promise<ComposeCommand>>();

  constructor(
    private readonly connector: DeployConnector,
    private readonly commandTimeoutMs: number,
  ) {}

  /** The server's pooled executor, reopened when it has dropped. */
  async executor(server: Server): Promise<CommandExecutor> {
    const pooled = this.executors.get(server.id);
    if (pooled) {
      const conn = await pooled.catch(() => null);
      if (conn && !conn.isClosed) return conn;
      if (this.executors.get(server.id) === pooled) this.executors.delete(server.id);
    }
    const opening = this.connector.connect(server);
    this.executors.set(server.id, opening);
    void opening.catch(() => {
      if (this.executors.get(server.id) === opening) this.executors.delete(server.id);
    });
    return opening;
  }

  /** How to run Compose on `server`: the first candidate that answers with a version. */
  compose(server: Server, conn: CommandExecutor, commands: ComposeCommands): Promise<ComposeCommand> {
    const known = this.composeBy.get(server.id);
    if (known) return known;
    const detecting = (async () => {
      for (const argv of [["docker", "compose"], ["docker-compose"]]) {
        const result = await conn.exec(commands.composeVersion(argv), this.commandTimeoutMs);
        const version = result.stdout.trim().replace(/^v/, "");
        if (result.code !== 0 || !/^\d+\.\d+/.test(version)) continue;
        return { argv, flavor: version.startsWith("1.") ? "v1" : "v2", version } satisfies ComposeCommand;
      }
      throw new AppError("unavailable", "compose_missing", `server ${server.handle} has no Docker Compose`, {
        details: [
          { path: "server", message: "install docker compose (v2) or docker-compose (v1), then check it" },
        ],
      });
    })();
    this.composeBy.set(server.id, detecting);
    void detecting.catch(() => this.composeBy.delete(server.id));
    return detecting;
  }

  /** Closes every executor (shutdown). */
  async close(): Promise<void> {
    const open = [...this.executors.values()];
    this.executors.clear();
    await Promise.allSettled(open.map(async (pending) => (await pending).close()));
  }
}
