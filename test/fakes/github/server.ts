/**
 * A fake of the GitHub REST endpoints the `github` forge uses, over real HTTP, holding everything
 * in memory: repository creation (user and organisation, 422 when the name is taken), repository
 * read, contents at a ref, commit list and single commit, Actions public key and secret write.
 * Error bodies and statuses are GitHub's (401 "Bad credentials", 404 "Not Found", 409 for an empty
 * repository, 422 for an unknown commit).
 *
 * The fake speaks no git protocol, so a push is simulated: `push()` in-process or
 * `POST /_fake/repos/{owner}/{repo}/commits` adds a commit. Each repository has a real key pair,
 * so `secret()` opens what the client sealed and a test compares plaintexts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  addCommit,
  commitJson,
  type FakePush,
  type FakeRepo,
  fileJson,
  newRepo,
  openSecret,
  publicKeyBase64,
  repoJson,
  resolveRef,
} from "./state.js";

export type { FakePush } from "./state.js";

export interface FakeGithubOptions {
  /** The only token accepted (`Authorization: token X` or `Bearer X`). */
  token: string;
  /** Login of the token's user (owner of `POST /user/repos` repositories). */
  userLogin?: string;
  /** Organisations the user may create repositories in. */
  orgs?: string[];
}

/** One request as received (method, path with query), for assertions. */
export interface FakeGithubRequest {
  method: string;
  url: string;
}

export interface FakeGithub {
  /** API base URL (also the base of clone and web URLs), without a trailing slash. */
  readonly url: string;
  readonly requests: FakeGithubRequest[];
  /** Simulates a push of one commit to `owner/name`; returns the commit SHA. */
  push(fullName: string, push: FakePush): string;
  /** Opens a stored Actions secret with the repository's private key; `null` when absent. */
  secret(fullName: string, name: string): Promise<string | null>;
  /** The stored (sealed) secret as the client sent it. */
  sealedSecret(fullName: string, name: string): { encrypted_value: string; key_id: string } | null;
  close(): Promise<void>;
}

const DOCS = "https://docs.github.com/rest";

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Starts the fake on 127.0.0.1 with a free port. */
export async function startFakeGithub(opts: FakeGithubOptions): Promise<FakeGithub> {
  const userLogin = opts.userLogin ?? "octo-user";
  const orgs = new Set(opts.orgs ?? []);
  const repos = new Map<string, FakeRepo>();
  const requests: FakeGithubRequest[] = [];
  let baseUrl = "";

  const repoOf = (owner: string, name: string): FakeRepo => {
    const repo = repos.get(`${owner}/${name}`.toLowerCase());
    if (!repo) throw new HttpError(404, "Not Found");
    return repo;
  };

  async function create(owner: string, ownerType: FakeRepo["ownerType"], body: Record<string, unknown>) {
    const name = typeof body.name === "string" ? body.name : "";
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name)) {
      throw new HttpError(422, "Repository creation failed.", {
        errors: [{ resource: "Repository", code: "custom", field: "name", message: "name is invalid" }],
      });
    }
    const key = `${owner}/${name}`.toLowerCase();
    if (repos.has(key)) {
      throw new HttpError(422, "Repository creation failed.", {
        errors: [
          {
            resource: "Repository",
            code: "custom",
            field: "name",
            message: "name already exists on this account",
          },
        ],
      });
    }
    const description = typeof body.description === "string" ? body.description : null;
    const repo = await newRepo(owner, ownerType, name, description, body.private !== false);
    if (body.auto_init === true) addCommit(repo, { message: "Initial commit", author: userLogin, files: {} });
    repos.set(key, repo);
    return [201, repoJson(repo, baseUrl)] as const;
  }

  async function route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
    isRaw: boolean,
  ) {
    if (method === "POST" && path === "/user/repos") return create(userLogin, "User", body);
    const orgRepos = /^\/orgs\/([^/]+)\/repos$/.exec(path);
    if (method === "POST" && orgRepos) {
      const org = decodeURIComponent(orgRepos[1] ?? "");
      if (!orgs.has(org)) throw new HttpError(404, "Not Found");
      return create(org, "Organization", body);
    }
    const fakePush = /^\/_fake\/repos\/([^/]+)\/([^/]+)\/commits$/.exec(path);
    if (method === "POST" && fakePush) {
      const repo = repoOf(fakePush[1] ?? "", fakePush[2] ?? "");
      return [201, { sha: addCommit(repo, body as unknown as FakePush) }] as const;
    }
    const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (!m) throw new HttpError(404, "Not Found");
    const repo = repoOf(decodeURIComponent(m[1] ?? ""), decodeURIComponent(m[2] ?? ""));
    const rest = m[3] ?? "";
    const isEmpty = repo.commits.size === 0;

    if (method === "GET" && rest === "") return [200, repoJson(repo, baseUrl)] as const;
    if (method === "GET" && rest.startsWith("/contents/")) {
      if (isEmpty) throw new HttpError(404, "This repository is empty.");
      const ref = query.get("ref") ?? repo.defaultBranch;
      const commit = resolveRef(repo, ref);
      if (!commit) throw new HttpError(404, `No commit found for the ref ${ref}`);
      const filePath = decodeURIComponent(rest.slice("/contents/".length)).replace(/\/+$/, "");
      const text = commit.files.get(filePath);
      if (text !== undefined && isRaw) return [200, new RawBody(text)] as const;
      if (text !== undefined) return [200, fileJson(repo, filePath, text, baseUrl)] as const;
      const prefix = `${filePath}/`;
      const names = new Set<string>();
      for (const p of commit.files.keys()) {
        if (p.startsWith(prefix)) names.add(p.slice(prefix.length).split("/")[0] ?? "");
      }
      if (names.size === 0) throw new HttpError(404, "Not Found");
      const entries = [...names].map((n) => ({
        name: n,
        path: `${prefix}${n}`,
        type: commit.files.has(`${prefix}${n}`) ? "file" : "dir",
      }));
      return [200, entries] as const;
    }
    if (method === "GET" && rest === "/commits") {
      if (isEmpty) throw new HttpError(409, "Git Repository is empty.");
      const ref = query.get("sha") ?? repo.defaultBranch;
      let commit = resolveRef(repo, ref);
      if (!commit) throw new HttpError(404, `No commit found for SHA: ${ref}`);
      const perPage = Math.min(Number(query.get("per_page") ?? 30), 100);
      const list = [];
      while (commit && list.length < perPage) {
        list.push(commitJson(repo, commit, baseUrl));
        commit = commit.parent ? repo.commits.get(commit.parent) : undefined;
      }
      return [200, list] as const;
    }
    const oneCommit = /^\/commits\/([^/]+)$/.exec(rest);
    if (method === "GET" && oneCommit) {
      if (isEmpty) throw new HttpError(409, "Git Repository is empty.");
      const ref = decodeURIComponent(oneCommit[1] ?? "");
      const commit = resolveRef(repo, ref);
      if (!commit) throw new HttpError(422, `No commit found for SHA: ${ref}`);
      return [200, { ...commitJson(repo, commit, baseUrl), files: [] }] as const;
    }
    if (method === "GET" && rest === "/actions/secrets/public-key") {
      return [200, { key_id: repo.keyPair.keyId, key: publicKeyBase64(repo) }] as const;
    }
    const secretPath = /^\/actions\/secrets\/([A-Za-z0-9_]+)$/.exec(rest);
    if (method === "PUT" && secretPath) {
      const name = (secretPath[1] ?? "").toUpperCase();
      if (typeof body.encrypted_value !== "string" || body.key_id !== repo.keyPair.keyId) {
        throw new HttpError(422, "Invalid request.\n\nkey_id or encrypted_value is missing or wrong.");
      }
      const existed = repo.secrets.has(name);
      repo.secrets.set(name, {
        encrypted_value: body.encrypted_value,
        key_id: body.key_id,
        updated_at: new Date().toISOString(),
      });
      return [existed ? 204 : 201, existed ? null : {}] as const;
    }
    throw new HttpError(404, "Not Found");
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    requests.push({ method: req.method ?? "", url: req.url ?? "" });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://fake");
    try {
      const auth = req.headers.authorization ?? "";
      const token = /^(?:token|bearer)\s+(\S+)$/i.exec(auth)?.[1];
      if (token !== opts.token) throw new HttpError(401, "Bad credentials");
      const text = Buffer.concat(chunks).toString("utf8");
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      const isRaw = /\.raw\b/.test(req.headers.accept ?? "");
      const [status, json] = await route(req.method ?? "GET", url.pathname, url.searchParams, body, isRaw);
      send(res, status, json);
    } catch (error) {
      if (error instanceof HttpError) {
        send(res, error.status, {
          message: error.message,
          ...error.extra,
          documentation_url: DOCS,
          status: String(error.status),
        });
      } else {
        send(res, 500, { message: String(error) });
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const find = (fullName: string) => repos.get(fullName.toLowerCase());
  return {
    url: baseUrl,
    requests,
    push(fullName, push) {
      const repo = find(fullName);
      if (!repo) throw new Error(`fake GitHub has no repository ${fullName}`);
      return addCommit(repo, push);
    },
    async secret(fullName, name) {
      const repo = find(fullName);
      const stored = repo?.secrets.get(name.toUpperCase());
      return repo && stored ? openSecret(repo, stored) : null;
    },
    sealedSecret(fullName, name) {
      const stored = find(fullName)?.secrets.get(name.toUpperCase());
      return stored ? { encrypted_value: stored.encrypted_value, key_id: stored.key_id } : null;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A file body sent as is (`Accept: application/vnd.github.raw`), not as JSON. */
class RawBody {
  constructor(readonly text: string) {}
}

function send(res: ServerResponse, status: number, json: unknown) {
  res.statusCode = status;
  res.setHeader("x-github-api-version-selected", "2022-11-28");
  if (json instanceof RawBody) {
    res.setHeader("content-type", "text/plain; charset=utf-8");
    res.end(json.text);
    return;
  }
  if (json === null) {
    res.end();
    return;
  }
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(json));
}
