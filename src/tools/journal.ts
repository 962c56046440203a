import { RunJournal } from "../events/index.js";
import type { ToolContext } from "./tool.js";

/**
 * The store, bus and run journal a handler writes runs and run events with: the process's journal
 * when the caller gave one, else one on the context's store and bus (events still go store, then bus).
 */
export function journaled(ctx: ToolContext): {
  store: ToolContext["store"];
  bus: ToolContext["bus"];
  journal: RunJournal;
} {
  return { store: ctx.store, bus: ctx.bus, journal: ctx.journal ?? new RunJournal(ctx) };
}
