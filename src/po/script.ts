import type { ModelContent, ModelMessage } from "../contracts/index.js";
import type { ModelScript, ScriptedAnswer } from "../llm/index.js";
import { SUMMARY_INSTRUCTION } from "./summarize.js";

const CHANGE = /\b(add|change|update|modify|rename|remove|fix)\b|добав|измен|обнов|убер|исправ/i;
const STATUS = /\bhow are|\bstatus\b|как (там |дела|поживают)|статус/i;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/**
 * The Product Owner without a model, for the demo and for tests without keys: it builds what the
 * person's first message describes, changes their newest project when asked, and reports their
 * projects' status (health, uptime over 24 h, last deploy, open incidents). Deterministic; the chat labels its words as scripted.
 */
export const scriptedProductOwner: ModelScript = (request) => {
  if (request.system.startsWith(SUMMARY_INSTRUCTION)) {
    return { text: lastText(request.messages).slice(-1_000) };
  }
  const { said, results } = personAndResults(request.messages);
  const newest = UUID.exec(/The person's projects[^\n]*\n- [^\n]*/.exec(request.system)?.[0] ?? "")?.[0];
  const last = results.at(-1);
  if (!last) {
    if (STATUS.test(said)) return call("project_status", {});
    if (newest && CHANGE.test(said))
      return call("engineering_start", { projectId: newest, changeRequest: said });
    return call("project_create", { name: projectName(said), description: said });
  }
  if (last.isError) return respond(`I could not do that: ${errorOf(last.content)}`);
  const output = parse(last.content);
  switch (last.tool) {
    case "project_create":
      return call("engineering_start", { projectId: String(output.id), brief: said });
    case "engineering_start":
      return respond(
        `Started: engineering run ${String(output.id)}. Progress shows here; the link follows once the deploy passes its health check.`,
      );
    case "project_status":
      return respond(statusLines(output));
    default:
      return respond("Done.");
  }
};

function call(name: string, input: Record<string, unknown>): ScriptedAnswer {
  return { toolCalls: [{ name, input }] };
}

function respond(text: string): ScriptedAnswer {
  return { toolCalls: [{ name: "respond", input: { text } }] };
}

/** The person's latest words, and the results of the tools called since, with their tools' names. */
function personAndResults(messages: readonly ModelMessage[]) {
  let said = "";
  const calls = new Map<string, string>();
  let results: { tool: string; content: string; isError: boolean }[] = [];
  for (const message of messages) {
    for (const part of message.content) {
      if (part.type === "tool_call") calls.set(part.id, part.name);
      else if (part.type === "tool_result") {
        results.push({ tool: calls.get(part.callId) ?? "", content: part.content, isError: part.isError });
      } else if (message.role === "user" && !part.text.startsWith("[system]")) {
        said = part.text;
        results = [];
      }
    }
  }
  return { said, results };
}

function lastText(messages: readonly ModelMessage[]): string {
  const parts = messages
    .flatMap((m) => m.content)
    .filter((c): c is Extract<ModelContent, { type: "text" }> => c.type === "text");
  return parts.map((p) => p.text).join("\n");
}

function projectName(said: string): string {
  const words = said
    .replace(/[^\p{L}\p{N}\s-]/gu, " ")
    .trim()
    .split(/\s+/)
    .slice(0, 6)
    .join(" ");
  return words.length > 0 ? words.slice(0, 80) : "New project";
}

function parse(content: string): Record<string, unknown> {
  try {
    return JSON.parse(content) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function errorOf(content: string): string {
  const error = parse(content).error as { message?: string } | undefined;
  return error?.message ?? content.slice(0, 200);
}

function statusLines(output: Record<string, unknown>): string {
  // The model reads tool answers without empty lists: no `items` is an empty list, not a project.
  const one = "name" in output || "project" in output;
  const items = (output.items ?? output.projects ?? (one ? [output] : [])) as Record<string, unknown>[];
  if (items.length === 0) return "You have no projects yet.";
  return items
    .map((p) => {
      const project = (p.project ?? p) as Record<string, unknown>;
      const facts = [healthOf(project), uptimeOf(project), lastDeployOf(project), incidentsOf(project)];
      const known = facts.filter((fact): fact is string => fact !== null);
      const head = `• ${String(project.name)}: ${String(project.status)}`;
      return known.length > 0 ? `${head}; ${known.join("; ")}` : head;
    })
    .join("\n");
}

type Fields = Record<string, unknown>;
const fields = (value: unknown): Fields | null =>
  typeof value === "object" && value !== null ? (value as Fields) : null;
const minute = (iso: unknown) => (typeof iso === "string" ? iso.slice(0, 16).replace("T", " ") : "");

/** `health live` or `health down (why)`, from `project.status`'s recorded verdict. */
function healthOf(project: Fields): string | null {
  const health = fields(project.health);
  if (!health) return null;
  const reason = typeof health.reason === "string" && health.state !== "live" ? ` (${health.reason})` : "";
  return `health ${String(health.state)}${reason}`;
}

/** `uptime 24h 99.5%`, or that the monitor has not watched it yet. */
function uptimeOf(project: Fields): string | null {
  if (!("uptime24h" in project)) return null;
  const ratio = fields(project.uptime24h)?.ratio;
  if (typeof ratio !== "number") return "uptime 24h not measured yet";
  return `uptime 24h ${(Math.floor(ratio * 1000) / 10).toFixed(1)}%`;
}

/** `last deploy succeeded 2026-12-04 15:00`, or `no deploy yet`. */
function lastDeployOf(project: Fields): string | null {
  // The model's copy of the answer leaves nulls out: a report with an uptime has no deploy yet.
  if (!("lastDeploy" in project) && !("uptime24h" in project)) return null;
  const last = fields(project.lastDeploy);
  if (!last) return "last deploy: none yet";
  const when = minute(last.finishedAt);
  return `last deploy ${String(last.status)}${when ? ` ${when}` : ""}`;
}

/** `open incidents: none`, or each one's start and reason. */
function incidentsOf(project: Fields): string | null {
  if (!("openIncidents" in project) && !("uptime24h" in project)) return null;
  const open = Array.isArray(project.openIncidents) ? project.openIncidents.map(fields) : [];
  if (open.length === 0) return "open incidents: none";
  const each = open.map((i) => `since ${minute(i?.openedAt)}: ${String(i?.reason ?? "down")}`);
  return `open incidents: ${open.length} (${each.join("; ")})`;
}
