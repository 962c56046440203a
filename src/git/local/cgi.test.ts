import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { basicAuthToken } from "../http.js";
import { parseCgiHeaders, readCgiHead } from "./cgi.js";

describe("CGI response head", () => {
  it("takes the status from Status: and keeps other headers lowercased", () => {
    expect(parseCgiHeaders("Status: 404 Not Found\r\nContent-Type: text/plain\r\nExpires: x")).toEqual({
      status: 404,
      headers: { "content-type": "text/plain", expires: "x" },
    });
    expect(parseCgiHeaders("Content-Type: a/b").status).toBe(200);
  });

  it("splits head from body across chunk boundaries and leaves the rest of the stream", async () => {
    const out = new PassThrough();
    const head = readCgiHead(out);
    out.write("Content-Type: application/x-git-upload-pack-advertisement\r\nCache-Con");
    out.write("trol: no-cache\r\n\r\n001e# service");
    const got = await head;
    expect(got?.status).toBe(200);
    expect(got?.headers["cache-control"]).toBe("no-cache");
    expect(got?.rest.toString()).toBe("001e# service");
    out.end("=git-upload-pack\n");
    const tail: Buffer[] = [];
    for await (const chunk of out) tail.push(chunk as Buffer);
    expect(Buffer.concat(tail).toString()).toBe("=git-upload-pack\n");
  });

  it("accepts LF-only heads and answers null when output ends without a head", async () => {
    const lf = new PassThrough();
    const head = readCgiHead(lf);
    lf.end("Status: 403 Forbidden\n\nbody");
    expect(await head).toMatchObject({ status: 403 });

    const broken = new PassThrough();
    const none = readCgiHead(broken);
    broken.end("fatal: no head");
    expect(await none).toBeNull();
  });
});

describe("HTTP Basic token", () => {
  const basic = (s: string) => `Basic ${Buffer.from(s).toString("base64")}`;
  it("reads the password of x-access-token:<token> and refuses the rest", () => {
    expect(basicAuthToken(basic("x-access-token:abc:def"))).toBe("abc:def");
    expect(basicAuthToken(basic("anyone:tok"))).toBe("tok");
    expect(basicAuthToken(basic("x-access-token:"))).toBeNull();
    expect(basicAuthToken(basic("no-colon"))).toBeNull();
    expect(basicAuthToken("Bearer tok")).toBeNull();
    expect(basicAuthToken(undefined)).toBeNull();
  });
});
