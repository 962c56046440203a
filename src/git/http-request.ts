/** One authorized git smart-protocol request, as each forge's server (local or relay) takes it. */
export interface GitHttpRequest {
  slug: string;
  /** `info/refs`, `git-upload-pack` or `git-receive-pack`. */
  rest: string;
  /** The raw query string (`service=...`), without `?`. */
  query: string;
  isWrite: boolean;
  timeoutMs: number;
}
