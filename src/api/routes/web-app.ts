import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";

/** Where `npm run build` puts the web app: `web/dist` of this package (from `src/` and `dist/` alike). */
export const WEB_APP_ROOT = fileURLToPath(new URL("../../../web/dist", import.meta.url));

/**
 * Hashed file names change with their content, so a browser may keep them for a year
 * (`public, max-age=31536000, immutable`); only a file that exists gets it, never a 404.
 */
const ASSET_CACHE = { maxAge: "365d", immutable: true } as const;

/**
 * The page may load only its own scripts and styles and talk only to its own origin: the token
 * sits in localStorage, so injected markup must not be able to run or send it anywhere.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const NOT_BUILT = [
  "The web chat is not built.",
  "",
  "Build it with `npm run build` (server and web app), or only the app with `npm run build:web`,",
  "then reload this page. The API under /api works without it.",
  "",
].join("\n");

/**
 * Serves the built web chat to anyone: `index.html` at `/` (never cached, read on each request, so
 * a rebuild shows without a restart) and its hashed files under `/assets/` (cached for good). A
 * missing build answers a plain page saying how to build it. Other paths are untouched, so unknown
 * `/api` paths keep the API's own 401/404 answers.
 */
export async function registerWebApp(app: FastifyInstance, options: { root?: string } = {}): Promise<void> {
  const root = options.root ?? WEB_APP_ROOT;
  const indexPath = join(root, "index.html");

  const servePage = async (_req: unknown, reply: FastifyReply) => {
    let page: Buffer;
    try {
      page = await readFile(indexPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      return reply.type("text/plain; charset=utf-8").header("cache-control", "no-store").send(NOT_BUILT);
    }
    return reply
      .type("text/html; charset=utf-8")
      .headers({
        "cache-control": "no-store",
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
      })
      .send(page);
  };
  app.get("/", { config: { access: "public" }, schema: { hide: true } }, servePage);
  // The admin pages are the same app: their addresses can be shared and reloaded.
  app.get("/admin", { config: { access: "public" }, schema: { hide: true } }, servePage);
  app.get("/admin/*", { config: { access: "public" }, schema: { hide: true } }, servePage);

  // Its own scope: a prefix of its own may have its own not-found answer (a stale asset is a plain
  // 404, not the API's "token required"), and `sendFile` stays inside it.
  await app.register(
    async (assets) => {
      await assets.register(fastifyStatic, { serve: false });
      assets.setNotFoundHandler((_req, reply) =>
        reply.code(404).type("text/plain; charset=utf-8").send("not found\n"),
      );
      assets.get<{ Params: { "*": string } }>(
        "/*",
        { config: { access: "public" }, schema: { hide: true } },
        (req, reply) =>
          reply
            .header("x-content-type-options", "nosniff")
            .sendFile(`/${req.params["*"]}`, join(root, "assets"), ASSET_CACHE),
      );
    },
    { prefix: "/assets" },
  );
}
