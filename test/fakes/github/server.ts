/**
 * A fake of GitHub over real HTTP, on one port: the REST endpoints the `github` forge uses (the
 * token's user, an organisation, repository creation for a user and in an organisation with 422
 * when the name is taken, repository read, contents at a ref, commit list and single commit,
 * Actions public key and secret write) and git smart HTTP at `/<owner>/<repo>.git` (clone, fetch,
 * push with the token as Basic auth, as github.com takes it). Error bodies and statuses are
 * GitHub's (401 "Bad credentials", 404 "Not Found", 409 for an empty repository, 422 for an
 * unknown commit).
 *
 * Every repository is a real bare repository in a temporary folder: the REST answers are read from
 * it with git, so what a client pushed is exactly what it reads back. Each repository has a real
 * key pair, so `secret()` opens what the client sealed and a test compares plaintexts.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commitFiles, initBare, isEmpty, log, readPath, resolveRef, serveGitHttp } from "./git.js";
import {
  commitJson,
  type FakePush,
  type FakeRepo,
  fileJson,
  newRepo,
  openSecret,
  publicKeyBase64,
  repoJson,
} from "./state.js";

export type { FakePush } from "./state.js";

export interface FakeGithubOptions {
  /** The only token accepted (REST: `Authorization: token X` or `Bearer X`; git: Basic, any user). */
  token: string;
  /** Login of the token's user (owner of `POST /user/repos` repositories). */
  userLogin?: string;
  /** Organisations the user may create repositories in. */
  orgs?: string[];
}

/** One request as received, for assertions: REST or git, method, path with query, when. */
export interface FakeGithubRequest {
  kind: "rest" | "git";
  method: string;
  url: string;
  /** `Date.now()` when it arrived. */
  at: number;
}

export interface FakeGithub {
  /** API base URL, also the base of clone and web URLs, without a trailing slash. */
  readonly url: string;
  readonly requests: FakeGithubRequest[];
  /** Pushes one commit to `owner/name` with real git (as a person with access would); returns its SHA. */
  push(fullName: string, push: FakePush): Promise<string>;
  /** The bare repository of `owner/name` on disk, to read with git; `null` when absent. */
  gitDir(fullName: string): string | null;
  /** Opens a stored Actions secret with the repository's private key; `null` when absent. */
  secret(fullName: string, name: string): Promise<string | null>;
  /** The stored (sealed) secret as the client sent it. */
  sealedSecret(fullName: string, name: string): { encrypted_value: string; key_id: string } | null;
  /** Names of the repository's Actions secrets. */
  secretNames(fullName: string): string[];
  close(): Promise<void>;
}

const DOCS = "https://docs.github.com/rest";
/** `/<owner>/<repo>.git/<smart path>`: what github.com serves to git clients. */
const GIT_PATH = /^\/([^/]+)\/([^/]+?)\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The token of an `Authorization` header: REST schemes, or the password of Basic (git). */
function tokenOf(header: string | undefined): string | null {
  const scheme = /^(?:token|bearer)\s+(\S+)$/i.exec(header ?? "")?.[1];
  if (scheme) return scheme;
  const basic = /^basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? "")?.[1];
  if (!basic) return null;
  const decoded = Buffer.from(basic, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 ? decoded.slice(colon + 1) : null;
}

/** Starts the fake on 127.0.0.1 with a free port and its repositories in a new temporary folder. */
export async function startFakeGithub(opts: FakeGithubOptions): Promise<FakeGithub> {
  const userLogin = opts.userLogin ?? "octo-user";
  const orgs = new Set(opts.orgs ?? []);
  const repos = new Map<string, FakeRepo>();
  const requests: FakeGithubRequest[] = [];
  const root = await mkdtemp(join(tmpdir(), "fake-github-"));
  let baseUrl = "";

  const find = (owner: string, name: string) => repos.get(`${owner}/${name}`.toLowerCase());
  const repoOf = (owner: string, name: string): FakeRepo => {
    const repo = find(owner, name);
    if (!repo) throw new HttpError(404, "Not Found");
    return repo;
  };

  async function create(owner: string, ownerType: FakeRepo["ownerType"], body: Record<string, unknown>) {
    const name = typeof body.name === "string" ? body.name : "";
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name) || /^\.+$/.test(name)) {
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
    const pathInfo = `/${key}.git`;
    const dir = `${join(root, ...key.split("/"))}.git`;
    await initBare(dir);
    const description = typeof body.description === "string" ? body.description : null;
    const repo = await newRepo({
      owner,
      ownerType,
      name,
      description,
      isPrivate: body.private !== false,
      dir,
      pathInfo,
    });
    repos.set(key, repo);
    if (body.auto_init === true) {
      await commitFiles(dir, {
        message: "Initial commit",
        author: userLogin,
        files: { "README.md": `# ${name}\n` },
      });
    }
    return [201, repoJson(repo, baseUrl)] as const;
  }

  async function route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
    isRaw: boolean,
  ) {
    if (method === "GET" && path === "/user") {
      return [200, { login: userLogin, id: 1, type: "User", html_url: `${baseUrl}/${userLogin}` }] as const;
    }
    const org = /^\/orgs\/([^/]+)$/.exec(path);
    if (method === "GET" && org) {
      const login = decodeURIComponent(org[1] ?? "");
      if (!orgs.has(login)) throw new HttpError(404, "Not Found");
      return [200, { login, id: 2, type: "Organization", html_url: `${baseUrl}/${login}` }] as const;
    }
    if (method === "POST" && path === "/user/repos") return create(userLogin, "User", body);
    const orgRepos = /^\/orgs\/([^/]+)\/repos$/.exec(path);
    if (method === "POST" && orgRepos) {
      const login = decodeURIComponent(orgRepos[1] ?? "");
      if (!orgs.has(login)) throw new HttpError(404, "Not Found");
      return create(login, "Organization", body);
    }
    const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (!m) throw new HttpError(404, "Not Found");
    const repo = repoOf(decodeURIComponent(m[1] ?? ""), decodeURIComponent(m[2] ?? ""));
    const rest = m[3] ?? "";

    if (method === "GET" && rest === "") return [200, repoJson(repo, baseUrl)] as const;
    if (method === "GET" && rest.startsWith("/contents/")) {
      if (await isEmpty(repo.dir)) throw new HttpError(404, "This repository is empty.");
      const ref = query.get("ref") ?? repo.defaultBranch;
      const sha = await resolveRef(repo.dir, ref);
      if (!sha) throw new HttpError(404, `No commit found for the ref ${ref}`);
      const filePath = decodeURIComponent(rest.slice("/contents/".length)).replace(/\/+$/, "");
      const found = await readPath(repo.dir, sha, filePath);
      if (!found) throw new HttpError(404, "Not Found");
      if (found.kind === "file" && isRaw) return [200, new RawBody(found.bytes)] as const;
      if (found.kind === "file") return [200, fileJson(repo, filePath, found.bytes, baseUrl)] as const;
      const entries = found.entries.map((e) => ({
        name: e.name,
        path: `${filePath}/${e.name}`,
        type: e.type,
      }));
      return [200, entries] as const;
    }
    if (method === "GET" && rest === "/commits") {
      if (await isEmpty(repo.dir)) throw new HttpError(409, "Git Repository is empty.");
      const ref = query.get("sha") ?? repo.defaultBranch;
      const sha = await resolveRef(repo.dir, ref);
      if (!sha) throw new HttpError(404, `No commit found for SHA: ${ref}`);
      const perPage = Math.min(Number(query.get("per_page") ?? 30), 100);
      const list = await log(repo.dir, sha, perPage);
      return [200, list.map((c) => commitJson(repo, c, baseUrl))] as const;
    }
    const oneCommit = /^\/commits\/([^/]+)$/.exec(rest);
    if (method === "GET" && oneCommit) {
      if (await isEmpty(repo.dir)) throw new HttpError(409, "Git Repository is empty.");
      const ref = decodeURIComponent(oneCommit[1] ?? "");
      const sha = await resolveRef(repo.dir, ref);
      const [commit] = sha ? await log(repo.dir, sha, 1) : [];
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

  /** git smart HTTP: Basic auth with the token (any user name), then `git http-backend`. */
  async function handleGit(req: IncomingMessage, res: ServerResponse, match: RegExpExecArray, body: Buffer) {
    if (tokenOf(req.headers.authorization) !== opts.token) {
      res.statusCode = 401;
      res.setHeader("www-authenticate", 'Basic realm="GitHub"');
      res.end("Invalid username or token.\n");
      return;
    }
    const repo = find(decodeURIComponent(match[1] ?? ""), decodeURIComponent(match[2] ?? ""));
    if (!repo) {
      res.statusCode = 404;
      res.end("Repository not found.\n");
      return;
    }
    await serveGitHttp(root, `${repo.pathInfo}/${match[3]}`, req, body, res);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://fake");
    const gitMatch = GIT_PATH.exec(url.pathname);
    requests.push({
      kind: gitMatch ? "git" : "rest",
      method: req.method ?? "",
      url: req.url ?? "",
      at: Date.now(),
    });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (gitMatch) return handleGit(req, res, gitMatch, Buffer.concat(chunks));
    try {
      if (tokenOf(req.headers.authorization) !== opts.token) throw new HttpError(401, "Bad credentials");
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

  const byFullName = (fullName: string) => repos.get(fullName.toLowerCase());
  return {
    url: baseUrl,
    requests,
    async push(fullName, push) {
      const repo = byFullName(fullName);
      if (!repo) throw new Error(`fake GitHub has no repository ${fullName}`);
      return commitFiles(repo.dir, { ...push, branch: push.branch ?? repo.defaultBranch });
    },
    gitDir: (fullName) => byFullName(fullName)?.dir ?? null,
    async secret(fullName, name) {
      const repo = byFullName(fullName);
      const stored = repo?.secrets.get(name.toUpperCase());
      return repo && stored ? openSecret(repo, stored) : null;
    },
    sealedSecret(fullName, name) {
      const stored = byFullName(fullName)?.secrets.get(name.toUpperCase());
      return stored ? { encrypted_value: stored.encrypted_value, key_id: stored.key_id } : null;
    },
    secretNames: (fullName) => [...(byFullName(fullName)?.secrets.keys() ?? [])].sort(),
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A file body sent as is (`Accept: application/vnd.github.raw`), not as JSON. */
class RawBody {
  constructor(readonly bytes: Buffer) {}
}

function send(res: ServerResponse, status: number, json: unknown) {
  res.statusCode = status;
  res.setHeader("x-github-api-version-selected", "2022-11-28");
  if (json instanceof RawBody) {
    res.setHeader("content-type", "application/vnd.github.raw; charset=utf-8");
    res.end(json.bytes);
    return;
  }
  if (json === null) {
    res.end();
    return;
  }
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(json));
}
