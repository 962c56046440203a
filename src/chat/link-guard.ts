import type { Store } from "../store/index.js";

/** What the store holds as real for a person: their live links, bots and repositories. */
export interface KnownLinks {
  urls: string[];
  bots: Set<string>;
  anyLive: boolean;
}

/** A reply's claim the store does not back. */
export type Unverified =
  | { kind: "link"; value: string }
  | { kind: "bot"; value: string }
  | { kind: "live_claim"; value: string };

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`)\]]+|\bt\.me\/[A-Za-z0-9_]+/gi;
const BOT_PATTERN = /(?<![\w.])@([A-Za-z][A-Za-z0-9_]{3,31})\b/g;
/**
 * "It is live", "deployed at", "запущен": a claim of the present. The same words after "when",
 * "once", "will be" and the like speak of the future and are no claim.
 */
const LIVE_CLAIM = new RegExp(
  [
    String.raw`(?<!\b(?:when|once|after|until|if|as soon as)\s+(?:it|this|that|(?:the|your)\s+\w+)\s+)`,
    String.raw`(?:\b(?:is|are)\s+(?:now\s+)?(?:live|up and running|running at|up at)\b|\bit's\s+(?:now\s+)?live\b|(?<!\bbe\s)\bdeployed\s+(?:at|to)\b)`,
    String.raw`|(?<!(?:будет|когда|как только)\s+(?:\S+\s+)?)(?<!\p{L})(?:запущен|разв[её]рнут|работает\s+(?:по адресу|тут|здесь))`,
  ].join(""),
  "iu",
);

/** Everything the PO may name for `userId`: URLs of their deployments, their bots, their repositories. */
export async function knownLinksFor(store: Store, userId: string): Promise<KnownLinks> {
  const projects = await store.projects.list({ ownerId: userId, limit: 100, offset: 0 });
  const urls: string[] = [];
  const bots = new Set<string>();
  let anyLive = false;
  for (const project of projects.items) {
    if (project.status === "live") anyLive = true;
    if (project.repositoryUrl) urls.push(project.repositoryUrl);
    const deployments = await store.deployments.list({ projectId: project.id, limit: 10, offset: 0 });
    for (const d of deployments.items) if (d.url && d.status === "healthy") urls.push(d.url);
    const runs = await store.runs.list({
      projectId: project.id,
      kind: "deploy",
      status: "succeeded",
      limit: 5,
      offset: 0,
    });
    for (const run of runs.items) {
      for (const event of await store.runEvents.list(run.id, { limit: 500 })) {
        if (event.type !== "deploy.succeeded") continue;
        if (event.data.botUsername) bots.add(event.data.botUsername.toLowerCase());
        if (event.data.url) urls.push(event.data.url);
      }
    }
  }
  return { urls: urls.map(normalise), bots, anyLive };
}

function normalise(url: string): string {
  return url
    .replace(/^https?:\/\//i, "")
    .replace(/\/+$/, "")
    .toLowerCase();
}

/**
 * The claims in a PO reply the store does not back: a link that is none of the person's live
 * URLs (or under one), a bot that is not theirs, or "it is live" while nothing of theirs is.
 * `extraUrls` are links the system itself may give (this orchestrator's own address).
 */
export function unverifiedClaims(
  text: string,
  known: KnownLinks,
  extraUrls: readonly string[] = [],
): Unverified[] {
  const allowed = [...known.urls, ...extraUrls.map(normalise)];
  const out: Unverified[] = [];
  for (const match of text.matchAll(URL_PATTERN)) {
    const raw = match[0].replace(/[.,;:!?]+$/, "");
    const url = normalise(raw);
    const bot = /^t\.me\/([a-z0-9_]+)$/i.exec(url)?.[1];
    if (bot ? known.bots.has(bot.toLowerCase()) : allowed.some((a) => url === a || url.startsWith(`${a}/`)))
      continue;
    out.push({ kind: "link", value: raw });
  }
  for (const match of text.matchAll(BOT_PATTERN)) {
    const name = match[1] ?? "";
    if (!/bot$/i.test(name) || known.bots.has(name.toLowerCase())) continue;
    out.push({ kind: "bot", value: `@${name}` });
  }
  const claim = LIVE_CLAIM.exec(text);
  if (claim && !known.anyLive) out.push({ kind: "live_claim", value: claim[0] });
  return out;
}
