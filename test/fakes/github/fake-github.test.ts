import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeGithub, startFakeGithub } from "./server.js";

let fake: FakeGithub;
beforeEach(async () => {
  fake = await startFakeGithub({ token: "ghp_t", orgs: ["acme"] });
});
afterEach(async () => {
  await fake.close();
});

function call(method: string, path: string, body?: unknown, token = "ghp_t") {
  return fetch(`${fake.url}${path}`, {
    method,
    headers: { authorization: `token ${token}`, accept: "application/vnd.github+json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe("fake GitHub REST API", () => {
  it("answers GitHub's error shapes: 401 Bad credentials, 404 Not Found, 422 name taken, 409 empty", async () => {
    const denied = await call("GET", "/repos/acme/x", undefined, "nope");
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ message: "Bad credentials", status: "401" });
    expect((await call("GET", "/repos/acme/x")).status).toBe(404);

    expect((await call("POST", "/orgs/acme/repos", { name: "x", private: true })).status).toBe(201);
    const taken = await call("POST", "/orgs/acme/repos", { name: "x" });
    expect(taken.status).toBe(422);
    expect(await taken.json()).toMatchObject({
      message: "Repository creation failed.",
      errors: [{ resource: "Repository", field: "name", message: "name already exists on this account" }],
    });
    expect((await call("GET", "/repos/acme/x/commits")).status).toBe(409);
    expect((await call("POST", "/orgs/other/repos", { name: "y" })).status).toBe(404);
  });

  it("serves a simulated push through contents (base64) and commits endpoints", async () => {
    await call("POST", "/user/repos", { name: "r" });
    const pushed = await call("POST", "/_fake/repos/octo-user/r/commits", {
      message: "m",
      author: "Ada",
      files: { "dir/a.txt": "hello" },
    });
    const { sha } = (await pushed.json()) as { sha: string };
    const file = (await (await call("GET", `/repos/octo-user/r/contents/dir/a.txt?ref=${sha}`)).json()) as {
      type: string;
      encoding: string;
      content: string;
    };
    expect(file).toMatchObject({ type: "file", encoding: "base64" });
    expect(Buffer.from(file.content, "base64").toString()).toBe("hello");
    const dir = (await (await call("GET", `/repos/octo-user/r/contents/dir?ref=${sha}`)).json()) as unknown[];
    expect(dir).toEqual([{ name: "a.txt", path: "dir/a.txt", type: "file" }]);
    const list = (await (await call("GET", "/repos/octo-user/r/commits?sha=main&per_page=5")).json()) as {
      sha: string;
      commit: { message: string; author: { name: string } };
    }[];
    expect(list).toMatchObject([{ sha, commit: { message: "m", author: { name: "Ada" } } }]);
    expect((await call("GET", `/repos/octo-user/r/commits/${"0".repeat(40)}`)).status).toBe(422);
  });
});
