import { type Html, html } from "../html.js";
import { SITE_DESCRIPTION, SITE_NAME } from "../site.js";
import { layout } from "./layout.js";

/** The landing page. */
export function homePage(): Html {
  return layout(
    "Welcome",
    html`<section class="hero">
<h1>${SITE_NAME}</h1>
<p class="lead">${SITE_DESCRIPTION}</p>
<p><a class="button" href="/contact">Get in touch</a></p>
</section>
<section class="features">
<article><h2>Simple</h2><p>Pages rendered on the server, no front-end build.</p></article>
<article><h2>Yours</h2><p>Messages are kept on this site's own storage.</p></article>
<article><h2>Quick</h2><p>We read every message and answer soon.</p></article>
</section>`,
    "/",
  );
}
