/**
 * The world of the fake GitHub: repositories (each a real bare git repository on disk) and their
 * Actions secrets, plus the JSON shapes GitHub's REST API answers with.
 */
import { createHash } from "node:crypto";
import sodium from "libsodium-wrappers";
import type { GitCommit } from "./git.js";

/** A stored Actions secret exactly as the client sent it (still sealed). */
export interface FakeSecret {
  encrypted_value: string;
  key_id: string;
  updated_at: string;
}

export interface FakeRepo {
  id: number;
  owner: string;
  ownerType: "User" | "Organization";
  name: string;
  description: string | null;
  isPrivate: boolean;
  defaultBranch: string;
  createdAt: string;
  /** The bare repository's directory; `pathInfo` is its path under the fake's git root. */
  dir: string;
  pathInfo: string;
  secrets: Map<string, FakeSecret>;
  keyPair: { keyId: string; publicKey: Uint8Array; privateKey: Uint8Array };
}

/** What a simulated push adds: one commit on a branch (created from the default branch if new). */
export interface FakePush {
  branch?: string;
  message: string;
  author: string;
  files: Record<string, string>;
}

let nextId = 1000;

/** Above this size the contents API leaves `content` empty (GitHub's 1 MB rule). */
export const LARGE_FILE_BYTES = 1024 * 1024;

/** A new repository record with its own real Curve25519 key pair for sealed secrets. */
export async function newRepo(fields: {
  owner: string;
  ownerType: FakeRepo["ownerType"];
  name: string;
  description: string | null;
  isPrivate: boolean;
  dir: string;
  pathInfo: string;
}): Promise<FakeRepo> {
  await sodium.ready;
  const pair = sodium.crypto_box_keypair();
  return {
    id: nextId++,
    ...fields,
    defaultBranch: "main",
    createdAt: new Date().toISOString(),
    secrets: new Map(),
    keyPair: { keyId: String(nextId++), publicKey: pair.publicKey, privateKey: pair.privateKey },
  };
}

/** Opens a sealed secret with the repository's private key (what GitHub's runners do). */
export async function openSecret(repo: FakeRepo, secret: FakeSecret): Promise<string> {
  await sodium.ready;
  const sealed = sodium.from_base64(secret.encrypted_value, sodium.base64_variants.ORIGINAL);
  const plain = sodium.crypto_box_seal_open(sealed, repo.keyPair.publicKey, repo.keyPair.privateKey);
  return sodium.to_string(plain);
}

/** Base64 of the repository's public key, as `GET .../actions/secrets/public-key` returns it. */
export function publicKeyBase64(repo: FakeRepo): string {
  return sodium.to_base64(repo.keyPair.publicKey, sodium.base64_variants.ORIGINAL);
}

/** The repository JSON GitHub returns (the fields clients read, with GitHub's names). */
export function repoJson(repo: FakeRepo, baseUrl: string) {
  const fullName = `${repo.owner}/${repo.name}`;
  return {
    id: repo.id,
    node_id: `R_${repo.id}`,
    name: repo.name,
    full_name: fullName,
    private: repo.isPrivate,
    owner: { login: repo.owner, id: 1, type: repo.ownerType },
    html_url: `${baseUrl}/${fullName}`,
    description: repo.description,
    fork: false,
    url: `${baseUrl}/repos/${fullName}`,
    clone_url: `${baseUrl}/${fullName}.git`,
    git_url: `git://fake/${fullName}.git`,
    ssh_url: `git@fake:${fullName}.git`,
    default_branch: repo.defaultBranch,
    visibility: repo.isPrivate ? "private" : "public",
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    pushed_at: repo.createdAt,
  };
}

/** A commit JSON as in `GET /repos/{o}/{r}/commits` (and, with `files`, the single-commit answer). */
export function commitJson(repo: FakeRepo, commit: GitCommit, baseUrl: string) {
  const api = `${baseUrl}/repos/${repo.owner}/${repo.name}`;
  return {
    sha: commit.sha,
    node_id: `C_${commit.sha}`,
    commit: {
      author: commit.author,
      committer: commit.committer,
      message: commit.message,
      tree: { sha: commit.tree, url: `${api}/git/trees/${commit.tree}` },
      url: `${api}/git/commits/${commit.sha}`,
      comment_count: 0,
      verification: { verified: false, reason: "unsigned", signature: null, payload: null },
    },
    url: `${api}/commits/${commit.sha}`,
    html_url: `${baseUrl}/${repo.owner}/${repo.name}/commit/${commit.sha}`,
    author: null,
    committer: null,
    parents: commit.parents.map((sha) => ({ sha, url: `${api}/commits/${sha}` })),
  };
}

/** The contents-API answer for a file: base64 wrapped at 60 columns, as GitHub sends it. */
export function fileJson(repo: FakeRepo, path: string, bytes: Buffer, baseUrl: string) {
  const blobSha = createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
  // Like GitHub, files over 1 MB come without content; clients fetch them with the raw media type.
  const isLarge = bytes.length > LARGE_FILE_BYTES;
  const content = isLarge ? "" : (bytes.toString("base64").match(/.{1,60}/g) ?? []).join("\n");
  return {
    type: "file",
    encoding: isLarge ? "none" : "base64",
    size: bytes.length,
    name: path.split("/").pop() ?? path,
    path,
    content: content ? `${content}\n` : "",
    sha: blobSha,
    url: `${baseUrl}/repos/${repo.owner}/${repo.name}/contents/${path}`,
  };
}
