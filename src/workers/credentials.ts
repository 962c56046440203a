import { dirname, join } from "node:path";
import { issueToken } from "../auth/index.js";
import type { ToolGroup, Worker } from "../contracts/index.js";
import type { Store } from "../store/index.js";
import type { Runtime, Sandbox } from "./runtime.js";
import { readSandboxFile, writeHomeConfig, writeSandboxFile, writeSandboxFiles } from "./sandbox-files.js";

/** Tool groups a worker's own token carries; the role profile narrows them further. */
export const WORKER_TOOL_GROUPS: ToolGroup[] = ["projects", "runs", "workers"];

/**
 * A worker's identity inside its sandbox: its own scoped API token (reissued after a restart, the
 * old one revoked), the allow-listed environment of its commands, the `orchestrator` command and
 * the MCP config that gives agents the orchestrator tools. Nothing else of the orchestrator's
 * environment reaches a sandbox.
 */
export class WorkerCredentials {
  private readonly tokens = new Map<string, string>();
  private readonly env = new Map<string, Record<string, string>>();

  constructor(
    private readonly deps: {
      store: Store;
      apiUrl: string;
      packageRoot: string;
      agentEnv: Record<string, string>;
      /** Agents reach models only through the API's model gateway, with their own token as key. */
      modelGateway: boolean;
    },
  ) {}

  /** Remembers the caller's extra environment and saves it in the sandbox for later processes. */
  async setExtraEnv(
    worker: Worker,
    runtime: Runtime,
    sandbox: Sandbox,
    base: Record<string, string>,
    extra: Record<string, string>,
  ) {
    this.env.set(worker.id, extra);
    // No file for no variables: read back after a restart, a missing file is the same empty set,
    // and most workers get none (one command in the sandbox fewer per worker).
    if (Object.keys(extra).length === 0) return;
    await writeSandboxFile(runtime, sandbox, base, "env.json", JSON.stringify(extra));
  }

  /** Writes what every turn needs into the sandbox: the `orchestrator` command and the MCP config. */
  async prepare(worker: Worker, runtime: Runtime, sandbox: Sandbox): Promise<Record<string, string>> {
    const token = await this.freshToken(worker);
    const base = this.baseEnv(worker, sandbox, token);
    const cli = join(this.deps.packageRoot, "bin", "orchestrator.js");
    const mcp = {
      mcpServers: {
        orchestrator: {
          command: process.execPath,
          args: [cli, "mcp"],
          env: { ORCHESTRATOR_API_URL: this.deps.apiUrl, ORCHESTRATOR_TOKEN: token },
        },
      },
    };
    // One command for both: the MCP config (it holds the token) on stdin, the launcher (paths only) as an argument.
    await writeSandboxFiles(
      runtime,
      sandbox,
      base,
      { name: "mcp.json", content: JSON.stringify(mcp, null, 2), mode: "600" },
      {
        name: "bin/orchestrator",
        content: `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`,
        mode: "700",
      },
    );
    if (this.deps.modelGateway && worker.backend === "factory-droid") {
      const { model } = await this.deps.store.agentConfigs.get(worker.role);
      const settings = droidSettings(this.deps.apiUrl, model);
      await writeHomeConfig(
        runtime,
        sandbox,
        base,
        ".factory/settings.json",
        JSON.stringify(settings, null, 2),
      );
    }
    return base;
  }

  /** The environment of a turn; after a restart the token is reissued and the env read back. */
  async turnEnv(worker: Worker, runtime: Runtime, sandbox: Sandbox): Promise<Record<string, string>> {
    let base: Record<string, string>;
    const token = this.tokens.get(worker.id);
    if (token) base = this.baseEnv(worker, sandbox, token);
    else base = await this.prepare(worker, runtime, sandbox);
    let extra = this.env.get(worker.id);
    if (!extra) {
      const saved = await readSandboxFile(runtime, sandbox, base, "env.json");
      extra = saved ? (JSON.parse(saved) as Record<string, string>) : {};
      this.env.set(worker.id, extra);
    }
    return { ...extra, ...agentEnvFor(worker, this.deps.agentEnv), ...base };
  }

  private baseEnv(worker: Worker, sandbox: Sandbox, token: string): Record<string, string> {
    return {
      PATH: [
        `${sandbox.home}/.orchestrator/bin`,
        dirname(process.execPath),
        "/usr/local/bin",
        "/usr/bin",
        "/bin",
      ].join(":"),
      HOME: sandbox.home,
      TMPDIR: "/tmp",
      LANG: "C.UTF-8",
      ORCHESTRATOR_API_URL: this.deps.apiUrl,
      ORCHESTRATOR_TOKEN: token,
      ORCHESTRATOR_WORKER_ID: worker.id,
      ORCHESTRATOR_PROJECT_ID: worker.projectId,
      ...(sandbox.npmCache ? { npm_config_cache: sandbox.npmCache } : {}),
      ...(this.deps.modelGateway ? gatewayEnv(this.deps.apiUrl, token) : {}),
    };
  }

  private async freshToken(worker: Worker): Promise<string> {
    await this.deps.store.apiTokens.revokeForWorker(worker.id);
    const { token } = await issueToken(this.deps.store, {
      name: `worker-${worker.id}`,
      kind: "worker",
      projectId: worker.projectId,
      role: worker.role,
      workerId: worker.id,
      groups: WORKER_TOOL_GROUPS,
    });
    this.tokens.set(worker.id, token);
    return token;
  }

  forget(workerId: string): void {
    this.tokens.delete(workerId);
    this.env.delete(workerId);
  }
}

/**
 * What points an agent CLI at the model gateway: the providers' base URLs on the API and the
 * worker's own token as their key. No model key ever enters the sandbox; the token dies with the
 * worker.
 */
export function gatewayEnv(apiUrl: string, token: string): Record<string, string> {
  const base = apiUrl.replace(/\/+$/, "");
  return {
    ANTHROPIC_BASE_URL: `${base}/llm/anthropic`,
    ANTHROPIC_API_KEY: token,
    OPENAI_BASE_URL: `${base}/llm/openai/v1`,
    OPENAI_API_KEY: token,
  };
}

/**
 * Factory Droid's own settings for a worker: the role's model as a custom model served by the
 * gateway (Anthropic's protocol for Claude models, OpenAI's otherwise), its key read from the
 * worker's token in the environment, so the file holds no credential.
 */
export function droidSettings(apiUrl: string, model: string): Record<string, unknown> {
  const base = apiUrl.replace(/\/+$/, "");
  const isClaude = /^(claude|opus|sonnet|haiku)/i.test(model);
  return {
    customModels: [
      {
        model,
        displayName: model,
        baseUrl: isClaude ? `${base}/llm/anthropic` : `${base}/llm/openai/v1`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: droid expands ${VAR} from the environment
        apiKey: "${ORCHESTRATOR_TOKEN}",
        provider: isClaude ? "anthropic" : "openai",
      },
    ],
  };
}

/** Variables of the agent environment that only one backend's sandboxes get. */
const BACKEND_ONLY: Record<string, Worker["backend"]> = { FACTORY_API_KEY: "factory-droid" };

/** The agent environment as `worker` may see it: another backend's account key stays out. */
function agentEnvFor(worker: Worker, env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(([name]) => !BACKEND_ONLY[name] || BACKEND_ONLY[name] === worker.backend),
  );
}
