/** The part of tar-fs 2 (it ships no types) that the worker image build uses. */
declare module "tar-fs" {
  import type { Readable } from "node:stream";

  export interface PackOptions {
    /** Paths relative to `cwd` to pack, directories recursively; default everything. */
    entries?: string[];
  }

  /** A tar stream of `cwd`'s entries, symlinks kept as links. */
  export function pack(cwd: string, options?: PackOptions): Readable;
}
