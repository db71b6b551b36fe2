/**
 * Atomic file writes (temp file in the same folder, then rename): a reader
 * never sees a half-written file, and a failed write leaves nothing behind.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import { isSymlink, statPath } from "./fs.ts";
import { STANDARD_STREAM, writeStream } from "./stream.ts";

/**
 * Writes an output the user asked for (`--capture`, `--write-json`); exit 78
 * naming `what` when it fails. A new or regular file is replaced atomically;
 * `-` (standard output), a pipe, a terminal, `/dev/stdout` or a link to a
 * file is written in place (a rename would put a file where the name was).
 */
export async function writeOutput(
  what: string,
  path: string,
  content: string,
  mode: number,
): Promise<void> {
  try {
    const st = path === STANDARD_STREAM ? null : statPath(path);
    if (st?.isDir) throw new Error("is a folder, expected a file");
    if (path === STANDARD_STREAM || (st !== null && (!st.isFile || isSymlink(path)))) {
      await writeStream(path, content);
    } else writeFileAtomic(path, content, mode);
  } catch (e) {
    throw new InputError(`${what} ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Writes `content` to `path` atomically with the given mode. */
export function writeFileAtomic(path: string, content: string, mode: number): void {
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    Deno.writeTextFileSync(tmp, content, { mode });
    Deno.chmodSync(tmp, mode); // the umask may have narrowed it
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* nothing was written */ }
    throw e;
  }
}
