import type { AgentResult, Page, Worker } from "../contracts/index.js";
import type { CreateWorkerSpec, ExecOptions, ExecOutcome, SendOptions } from "./spec.js";

/** A worker with what only the managing process knows. */
export type WorkerStatus = Worker & { hasSandbox: boolean; isBusy: boolean };

/**
 * What the rest of the system may ask of workers. In one process the `WorkerManager` is it; in the
 * distributed mode `BusWorkerClient` forwards each call to the process that has the `workers` role.
 */
export interface WorkerService {
  create(spec: CreateWorkerSpec): Promise<Worker>;
  send(workerId: string, message: string, options?: SendOptions): Promise<AgentResult>;
  /** One command in the worker's sandbox with its turns' environment; also for agentless workers. */
  exec(workerId: string, argv: string[], options?: ExecOptions): Promise<ExecOutcome>;
  pause(workerId: string): Promise<Worker>;
  resume(workerId: string): Promise<Worker>;
  terminate(workerId: string, reason?: string): Promise<Worker>;
  status(workerId: string): Promise<WorkerStatus>;
  logs(workerId: string, lines?: number): string[] | Promise<string[]>;
  list(filter?: {
    projectId?: string;
    state?: Worker["state"];
    role?: Worker["role"];
    limit?: number;
    offset?: number;
  }): Promise<Page<Worker>>;
}
