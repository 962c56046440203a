import type { ChatLanguage, Principal, ProjectStatusList } from "../contracts/index.js";
import { type ToolRegistry, type ToolServices, toolContextFor } from "../tools/index.js";
import type { MessageKey, Translator } from "./i18n/index.js";

/** `2026-12-04 18:30` (UTC). */
const minute = (at: string): string => new Date(at).toISOString().slice(0, 16).replace("T", " ");

/**
 * `/status`: the person's projects as `project.status` reports them (health, uptime over
 * 24 h, an open incident, active run, last failure), in their language, with no model involved.
 */
export async function statusText(
  deps: { tools: ToolRegistry; services: ToolServices; t: Translator },
  principal: Principal,
  language: ChatLanguage,
): Promise<string> {
  const { t } = deps;
  const report = (await deps.tools.invoke(
    "project.status",
    {},
    toolContextFor(principal, deps.services, { tool: "project.status" }),
  )) as ProjectStatusList;
  if (report.items.length === 0) return t(language, "status.none");
  const lines = [t(language, "status.header")];
  for (const p of report.items) {
    const parts = [t(language, `projectStatus.${p.status}` as MessageKey)];
    if (p.health.state === "live" && p.liveSince) {
      parts.push(
        t(language, "status.live", {
          since: minute(p.liveSince),
        }),
      );
    }
    const ratio = p.uptime24h.ratio;
    if (ratio !== null && p.lastDeploy) {
      parts.push(t(language, "status.uptime", { percent: (Math.floor(ratio * 1000) / 10).toFixed(1) }));
    }
    const incident = p.openIncidents[0];
    if (incident) {
      parts.push(
        t(language, "status.incident", { since: minute(incident.openedAt), reason: incident.reason }),
      );
    }
    const link = p.lastDeploy?.botUsername ? `@${p.lastDeploy.botUsername}` : p.health.url;
    if (p.health.state === "live" && link) parts.push(link);
    if (p.activeRun) parts.push(t(language, "status.running", { kind: p.activeRun.kind }));
    const failure = p.recentFailures[0];
    if (failure && p.health.state !== "live") {
      parts.push(
        t(language, "status.failure", { reason: failure.question ?? failure.message ?? failure.code ?? "" }),
      );
    }
    lines.push(t(language, "status.item", { name: p.name, status: parts.join(", ") }));
  }
  return lines.join("\n");
}
