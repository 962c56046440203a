import { Id, PageQuery, pageOf, SecretAuditEntry } from "../../contracts/index.js";
import type { Api, ApiDeps } from "../context.js";
import { invokeFor } from "./tools.js";

/**
 * The secrets audit trail over REST: the `secret.audit` tool as the caller, so an admin reads every
 * row and a user only their own projects' (the tool narrows the query). Never a value.
 */
export function registerSecretRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    "/api/secrets/audit",
    {
      config: { access: "token" },
      schema: {
        tags: ["secrets"],
        querystring: PageQuery.extend({ projectId: Id.optional() }),
        response: { 200: pageOf(SecretAuditEntry) },
      },
    },
    (req) => invokeFor(deps, req, "secret.audit", req.query),
  );
}
