import { type Html, html } from "../html.js";
import type { Message } from "../messages.js";
import { layout } from "./layout.js";

/** The small dashboard: how many messages came in, and each one, newest first. */
export function messagesPage(messages: Message[]): Html {
  const rows = messages.map(
    (m) => html`<tr>
<td><time datetime="${m.createdAt}">${m.createdAt.slice(0, 16).replace("T", " ")}</time></td>
<td>${m.name}</td>
<td><a href="mailto:${m.email}">${m.email}</a></td>
<td class="message-text">${m.message}</td>
</tr>`,
  );
  return layout(
    "Messages",
    html`<h1>Messages</h1>
<p class="stat"><strong>${messages.length}</strong> ${messages.length === 1 ? "message" : "messages"} received</p>
${
  messages.length === 0
    ? html`<p class="empty">No messages yet.</p>`
    : html`<table class="table">
<thead><tr><th>Received (UTC)</th><th>Name</th><th>Email</th><th>Message</th></tr></thead>
<tbody>${rows}</tbody>
</table>`
}`,
    "/messages",
  );
}
