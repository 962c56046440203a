import type { ProviderName, Upstream } from "./gateway.js";

const ANTHROPIC_DEFAULT = "https://api.anthropic.com";
const OPENAI_DEFAULT = "https://api.openai.com";
/** The beta flag Anthropic requires on calls made with a Claude subscription's OAuth token. */
export const ANTHROPIC_OAUTH_BETA = "oauth-2025-04-20";

/**
 * The upstreams the configured credentials allow: Anthropic with `ANTHROPIC_API_KEY` (or a Claude
 * subscription's `CLAUDE_CODE_OAUTH_TOKEN`), OpenAI-compatible with `OPENAI_API_KEY`. Base URLs
 * lose a trailing slash and, for OpenAI, a trailing `/v1`: the gateway's paths carry the version.
 */
export function upstreamsFrom(settings: {
  anthropicBaseUrl: string | null;
  openaiBaseUrl: string | null;
  credentials: Record<string, string>;
}): Partial<Record<ProviderName, Upstream>> {
  const upstreams: Partial<Record<ProviderName, Upstream>> = {};
  const { credentials } = settings;
  const anthropicBase = trimBase(settings.anthropicBaseUrl ?? ANTHROPIC_DEFAULT);
  if (credentials.ANTHROPIC_API_KEY) {
    upstreams.anthropic = { baseUrl: anthropicBase, headers: { "x-api-key": credentials.ANTHROPIC_API_KEY } };
  } else if (credentials.CLAUDE_CODE_OAUTH_TOKEN) {
    upstreams.anthropic = {
      baseUrl: anthropicBase,
      headers: {
        authorization: `Bearer ${credentials.CLAUDE_CODE_OAUTH_TOKEN}`,
        "anthropic-beta": ANTHROPIC_OAUTH_BETA,
      },
    };
  }
  if (credentials.OPENAI_API_KEY) {
    upstreams.openai = {
      baseUrl: trimBase(settings.openaiBaseUrl ?? OPENAI_DEFAULT).replace(/\/v1$/, ""),
      headers: { authorization: `Bearer ${credentials.OPENAI_API_KEY}` },
    };
  }
  return upstreams;
}

function trimBase(url: string): string {
  return url.replace(/\/+$/, "");
}
