import { type Html, html } from "../html.js";
import { layout } from "./layout.js";

/** A plain error page: never shows an exception's message or stack to the visitor. */
export function errorPage(status: number, message: string): Html {
  return layout(
    `Error ${status}`,
    html`<h1>${status === 404 ? "Page not found" : "Something went wrong"}</h1>
<p>${message}</p>
<p><a href="/">Back to the home page</a></p>`,
  );
}
