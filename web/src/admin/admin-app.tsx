import { Link, Route, Switch } from "wouter";
import type { SessionInfo } from "../contract";
import { AdminApi } from "./admin-api";
import { Dashboard } from "./dashboard";
import { Logs } from "./logs";
import { Pool } from "./pool";
import { ProjectPage } from "./project";
import { Projects } from "./projects";
import { RunPage } from "./run";
import { Runs } from "./runs";
import { Servers } from "./servers";
import { SettingsIndex } from "./settings";
import { NodeSettings } from "./settings-node";
import { Spend } from "./spend";
import { Users } from "./users";
import { WorkerPage } from "./worker";
import { Workers } from "./workers";

/** The admin pages' links, in the order of the navigation. */
const SECTIONS = [
  { href: "/admin", label: "Dashboard" },
  { href: "/admin/projects", label: "Projects" },
  { href: "/admin/runs", label: "Runs" },
  { href: "/admin/workers", label: "Workers" },
  { href: "/admin/users", label: "Users" },
  { href: "/admin/servers", label: "Servers" },
  { href: "/admin/pool", label: "Bot pool" },
  { href: "/admin/spend", label: "Spend" },
  { href: "/admin/logs", label: "Logs" },
  { href: "/admin/settings", label: "Settings" },
] as const;

/**
 * The admin area (admins only; the API refuses its calls to anyone else): a navigation bar and the
 * page of the address, so every page can be shared and reloaded.
 */
export function AdminApp({
  session,
  onSignOut,
  onSessionEnded,
}: {
  session: SessionInfo;
  onSignOut(): void;
  onSessionEnded(): void;
}) {
  const api = new AdminApi(session.csrfToken);
  return (
    <div className="admin">
      <header className="topbar">
        <h1>Orchestrator admin</h1>
        <nav aria-label="Admin sections" className="admin__nav">
          {SECTIONS.map((section) => (
            <Link key={section.href} href={section.href} className={(active) => (active ? "active" : "")}>
              {section.label}
            </Link>
          ))}
          <a href="/">Chat</a>
        </nav>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main className="admin__main">
        <Switch>
          <Route path="/admin">
            <Dashboard api={api} onUnauthorized={onSessionEnded} />
          </Route>
          <Route path="/admin/projects">
            <Projects api={api} onUnauthorized={onSessionEnded} />
          </Route>
          <Route path="/admin/projects/:id">
            {(params) => (
              <ProjectPage key={params.id} api={api} id={params.id} onUnauthorized={onSessionEnded} />
            )}
          </Route>
          <Route path="/admin/runs">
            <Runs api={api} onUnauthorized={onSessionEnded} />
          </Route>
          <Route path="/admin/runs/:id">
            {(params) => <RunPage key={params.id} api={api} id={params.id} onUnauthorized={onSessionEnded} />}
          </Route>
          <Route path="/admin/workers/:id">
            {(params) => (
              <WorkerPage key={params.id} api={api} id={params.id} onUnauthorized={onSessionEnded} />
            )}
          </Route>
          <Route path="/admin/workers">
            <Workers api={api} onUnauthorized={onSessionEnded} />
          </Route>
          <Route path="/admin/users">
            <Users api={api} onUnauthorized={onSessionEnded} />
          </Route>
          <Route path="/admin/servers">
            <Servers api={api} onUnauthorized={onSessionEnded} />
          </Route>
          <Route path="/admin/pool">
            <Pool api={api} onUnauthorized={onSessionEnded} />
          </Route>
          <Route path="/admin/spend">
            <Spend api={api} onUnauthorized={onSessionEnded} />
          </Route>
          <Route path="/admin/logs">
            <Logs api={api} onUnauthorized={onSessionEnded} />
          </Route>
          <Route path="/admin/settings">
            <SettingsIndex api={api} onUnauthorized={onSessionEnded} />
          </Route>
          <Route path="/admin/settings/:node">
            {(params) => (
              <NodeSettings key={params.node} api={api} node={params.node} onUnauthorized={onSessionEnded} />
            )}
          </Route>
          <Route>
            <NotFound />
          </Route>
        </Switch>
      </main>
    </div>
  );
}

function NotFound() {
  return (
    <section className="admin-page">
      <h2>No such page</h2>
      <p>
        <Link href="/admin">Back to the dashboard</Link>
      </p>
    </section>
  );
}
