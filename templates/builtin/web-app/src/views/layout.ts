import type { FastifyReply } from "fastify";
import { type Html, html } from "../html.js";
import { SITE_NAME } from "../site.js";

/** The navigation shown on every page: add a link here when you add a page. */
const NAV: { href: string; label: string }[] = [
  { href: "/", label: "Home" },
  { href: "/contact", label: "Contact" },
  { href: "/messages", label: "Messages" },
];

/** The whole document around a page's `body`; `title` is escaped like every interpolation. */
export function layout(title: string, body: Html, current = ""): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${SITE_NAME}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header class="site-header">
<a class="brand" href="/">${SITE_NAME}</a>
<nav>${NAV.map(
    (item) =>
      html`<a href="${item.href}"${item.href === current ? html` aria-current="page"` : ""}>${item.label}</a>`,
  )}</nav>
</header>
<main>
${body}
</main>
<footer class="site-footer">© ${new Date().getFullYear()} ${SITE_NAME}</footer>
</body>
</html>
`;
}

/** Sends a rendered page as `text/html` with `status` (200 unless told). */
export function sendPage(reply: FastifyReply, page: Html, status = 200): FastifyReply {
  return reply.code(status).type("text/html; charset=utf-8").send(page.toString());
}
