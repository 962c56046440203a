import { z } from "zod";
import {
  AgentConfig,
  AgentConfigUpdate,
  AgentRole,
  Deployment,
  DeploymentStatus,
  Id,
  PageQuery,
  PortAllocation,
  PortAllocationCreate,
  Project,
  ProjectCreate,
  ProjectListQuery,
  ProjectUpdate,
  pageOf,
  User,
  UserCreate,
  UserUpdate,
} from "../../contracts/index.js";
import type { Api, ApiDeps } from "../context.js";
import { invokeFor } from "./tools.js";

const ById = z.object({ id: Id });

/**
 * Admin REST resources: users, projects (searched, with their deployments), port allocations, agent
 * configs (servers: `servers.ts`).
 * Reads come from the store; writes run the matching tool as the caller, like the tool door.
 */
export function registerEntityRoutes(app: Api, deps: ApiDeps): void {
  const { store } = deps;
  app.get(
    "/api/users",
    { schema: { tags: ["users"], querystring: PageQuery, response: { 200: pageOf(User) } } },
    (req) => store.users.list(req.query),
  );
  app.post(
    "/api/users",
    { schema: { tags: ["users"], body: UserCreate, response: { 201: User } } },
    async (req, reply) => reply.code(201).send(await invokeFor<User>(deps, req, "user.create", req.body)),
  );
  app.get("/api/users/:id", { schema: { tags: ["users"], params: ById, response: { 200: User } } }, (req) =>
    store.users.get(req.params.id),
  );
  app.patch(
    "/api/users/:id",
    { schema: { tags: ["users"], params: ById, body: UserUpdate, response: { 200: User } } },
    (req) => invokeFor<User>(deps, req, "user.update", { ...req.body, id: req.params.id }),
  );

  app.get(
    "/api/projects",
    { schema: { tags: ["projects"], querystring: ProjectListQuery, response: { 200: pageOf(Project) } } },
    (req) => store.projects.list(req.query),
  );
  app.post(
    "/api/projects",
    { schema: { tags: ["projects"], body: ProjectCreate, response: { 201: Project } } },
    async (req, reply) =>
      reply.code(201).send(await invokeFor<Project>(deps, req, "project.create", req.body)),
  );
  app.get(
    "/api/projects/:id",
    { schema: { tags: ["projects"], params: ById, response: { 200: Project } } },
    (req) => store.projects.get(req.params.id),
  );
  app.patch(
    "/api/projects/:id",
    { schema: { tags: ["projects"], params: ById, body: ProjectUpdate, response: { 200: Project } } },
    (req) => invokeFor<Project>(deps, req, "project.update", { ...req.body, id: req.params.id }),
  );

  // A project's deploy attempts, newest first: commit, result, URL, health gate and log excerpt.
  const DeploymentQuery = PageQuery.extend({ status: DeploymentStatus.optional() });
  app.get(
    "/api/projects/:id/deployments",
    {
      schema: {
        tags: ["projects"],
        params: ById,
        querystring: DeploymentQuery,
        response: { 200: pageOf(Deployment) },
      },
    },
    async (req) => {
      await store.projects.get(req.params.id);
      return store.deployments.list({ ...req.query, projectId: req.params.id });
    },
  );

  const PortQuery = PageQuery.extend({ serverId: Id.optional(), projectId: Id.optional() });
  app.get(
    "/api/ports",
    { schema: { tags: ["ports"], querystring: PortQuery, response: { 200: pageOf(PortAllocation) } } },
    (req) => store.ports.list(req.query),
  );
  app.post(
    "/api/ports",
    { schema: { tags: ["ports"], body: PortAllocationCreate, response: { 201: PortAllocation } } },
    async (req, reply) =>
      reply.code(201).send(await invokeFor<PortAllocation>(deps, req, "port.allocate", req.body)),
  );
  app.get(
    "/api/ports/:id",
    { schema: { tags: ["ports"], params: ById, response: { 200: PortAllocation } } },
    (req) => store.ports.get(req.params.id),
  );
  app.delete("/api/ports/:id", { schema: { tags: ["ports"], params: ById } }, async (req, reply) => {
    await invokeFor(deps, req, "port.release", { id: req.params.id });
    return reply.code(204).send();
  });

  const ByNode = z.object({ node: AgentRole });
  app.get(
    "/api/agent-configs",
    { schema: { tags: ["agent-configs"], response: { 200: z.object({ items: z.array(AgentConfig) }) } } },
    async () => ({
      items: await store.agentConfigs.list(),
    }),
  );
  app.get(
    "/api/agent-configs/:node",
    { schema: { tags: ["agent-configs"], params: ByNode, response: { 200: AgentConfig } } },
    (req) => store.agentConfigs.get(req.params.node),
  );
  app.patch(
    "/api/agent-configs/:node",
    {
      schema: {
        tags: ["agent-configs"],
        params: ByNode,
        body: AgentConfigUpdate,
        response: { 200: AgentConfig },
      },
    },
    (req) => invokeFor<AgentConfig>(deps, req, "agent_config.update", { ...req.body, node: req.params.node }),
  );
}
