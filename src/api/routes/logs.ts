import { type LoggedEntry, LogList, LogQuery } from "../../contracts/index.js";
import { type LogFilter, LogRing, matchesLog as matchesFilter } from "../../observability/index.js";
import type { Api, ApiDeps } from "../context.js";
import { openEventStream } from "../sse.js";

/** How often a live log stream says it is still there (proxies close silent connections). */
const KEEPALIVE_MS = 15_000;

const filterOf = (query: LogQuery): LogFilter => ({
  component: query.component,
  level: query.level,
  projectId: query.projectId,
  runId: query.runId,
});

/**
 * The admin Logs page's entries: the latest lines every process published (masked as each
 * process's logger wrote them, and again by this API's redactor), filtered by component, minimum
 * level, project and run; and the same as a live server-sent event stream (event `log`, its id the
 * entry's seq; `Last-Event-ID` resumes from the ring). Without a ring (`deps.logs`) the API keeps
 * an empty one.
 */
export function registerLogRoutes(app: Api, deps: Pick<ApiDeps, "logs">): void {
  const ring = deps.logs ?? new LogRing(1);
  const openStreams = new Set<() => void>();
  app.addHook("onClose", async () => {
    for (const close of [...openStreams]) close();
  });

  app.get(
    "/api/admin/logs",
    { schema: { tags: ["admin"], querystring: LogQuery, response: { 200: LogList } } },
    async (request) => ({
      entries: ring.recent(filterOf(request.query), request.query.limit),
      components: ring.components(),
      capacity: ring.capacity,
    }),
  );

  app.get(
    "/api/admin/logs/stream",
    { schema: { tags: ["admin"], querystring: LogQuery } },
    async (request, reply) => {
      const filter = filterOf(request.query);
      const { redactor } = request.server;
      const raw = openEventStream(reply, "stream of log entries");
      let closed = false;
      const send = (entry: LoggedEntry) => {
        if (closed) return;
        raw.write(`id: ${entry.seq}\nevent: log\ndata: ${JSON.stringify(redactor.redactValue(entry))}\n\n`);
      };
      const lastEventId = Number(request.headers["last-event-id"]);
      if (Number.isInteger(lastEventId) && lastEventId > 0) {
        for (const entry of ring.recent(filter, request.query.limit, lastEventId)) send(entry);
      }
      const unsubscribe = ring.subscribe((entry) => {
        if (matchesFilter(entry, filter)) send(entry);
      });
      const keepalive = setInterval(() => raw.write(": still here\n\n"), KEEPALIVE_MS);
      const close = () => {
        if (closed) return;
        closed = true;
        clearInterval(keepalive);
        unsubscribe();
        openStreams.delete(close);
        raw.end();
      };
      openStreams.add(close);
      request.raw.on("close", close);
    },
  );
}
