/**
 * Failure reports for SageMaker: the reason of a failure (what happened, then
 * the tail of stderr) in the failure or message file, unless the program
 * wrote its own.
 *
 * @module
 */

import { escapeStartBefore, visibleText } from "./errors.ts";
import type { Logger } from "./log.ts";
import { type Exit, exitWords } from "./sys/process.ts";
import { createWholeOnce, withoutPath } from "./sys/files.ts";
import { hiddenTail } from "./secrets.ts";

/** SageMaker keeps the first 1024 bytes of the failure or message file. */
const REPORT_LIMIT = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The most of the command line a report quotes. */
const COMMAND_LIMIT = 256;

/** How much of the command's stderr the supervisor keeps for a report: more than a report holds. */
export const STDERR_TAIL = 4 * REPORT_LIMIT;

/**
 * How many of a stderr's last bytes to keep so that {@linkcode hiddenStderr}
 * can show {@linkcode STDERR_TAIL} of them with `forms` (the secret forms to
 * hide) seen whole: a secret the cut splits is not recognised by what is left
 * of it, so the cut is made after hiding, a margin of the longest form later.
 */
export function stderrKept(forms: readonly string[]): number {
  let longest = URL_MARGIN;
  for (const f of forms) longest = Math.max(longest, encoder.encode(f).length);
  return STDERR_TAIL + longest;
}

/**
 * The margin kept for a secret no list names, a URL's password or a secret
 * query parameter: recognised by what stands before it (`scheme://user:`,
 * `?api_key=`), which the cut may have left just outside the tail. A URL up
 * to there longer than this is not seen whole.
 */
const URL_MARGIN = 1024;

/**
 * The last {@linkcode STDERR_TAIL} bytes of `kept` (at most
 * {@linkcode stderrKept} bytes) as text, with the secret `forms` hidden:
 * hidden in all of `kept`, then cut, a secret cut there hidden whole.
 */
export function hiddenStderr(kept: Uint8Array, forms: readonly string[]): string {
  const text = tailUtf8(kept);
  const from = kept.length <= STDERR_TAIL
    ? 0
    : text.length - tailUtf8(kept.subarray(kept.length - STDERR_TAIL)).length;
  return hiddenTail(text, from, forms);
}

/** The last bytes of a buffer, starting on a character boundary. */
export function tailUtf8(bytes: Uint8Array): string {
  let start = 0;
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  return decoder.decode(bytes.subarray(start));
}

/** At most `limit` bytes of `text`, cut on a UTF-8 character boundary. */
export function cutUtf8(text: string, limit: number): string {
  const bytes = encoder.encode(text);
  if (bytes.length <= limit) return text;
  let end = limit;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // do not split a character
  return decoder.decode(bytes.subarray(0, end));
}

/** The text of a failure report: what happened, then the tail of stderr. */
export function failureText(command: readonly string[], exit: Exit, stderrTail: string): string {
  const what = exitWords(exit) +
    (exit.kind === "signaled" && exit.signal === 9 ? ", perhaps out of memory" : "");
  // A script-mode command with its hyperparameters can outgrow the report by itself: cut
  // it, so what happened and the end of stderr still fit. Escaped first, as the log escapes
  // it: a word's line end would start a line that reads as stderr's, its escape sequence
  // would reach the console raw. (The stderr tail is the program's own text, kept as it is.)
  // Not cut through an escape: `\u001` would read as another character.
  const line = visibleText(command.join(" "));
  const cut = cutUtf8(line, COMMAND_LIMIT);
  const chars = [...line.slice(0, cut.length + 6)];
  const shown = cut === line
    ? line
    : chars.slice(0, escapeStartBefore(chars, [...line.slice(0, cut.length)].length)).join("");
  return withTail(`Command ${shown}${cut === line ? "" : " ..."} ${what}`, stderrTail);
}

/**
 * A report's `head` (what happened), then as much of the end of `stderrTail`
 * as fits after it: the end of stderr is what explains a failure.
 */
export function withTail(head: string, stderrTail: string): string {
  const tail = encoder.encode(stderrTail.trim());
  const room = REPORT_LIMIT - encoder.encode(head).length - 1;
  if (tail.length === 0 || room <= 0) return head;
  return `${head}\n${tailUtf8(tail.subarray(Math.max(0, tail.length - room)))}`;
}

/** A file's identity and state (device, inode, size, change time); null when nothing is there. */
function markOf(path: string): string | null {
  try {
    const s = Deno.lstatSync(path);
    return `${s.dev}:${s.ino}:${s.size}:${s.ctime?.getTime()}:${s.mtime?.getTime()}`;
  } catch {
    return null;
  }
}

/** The report file as this start found it, before any hook or program of its own ran. */
let found: { readonly path: string; readonly mark: string | null } | undefined;

/**
 * Notes the report file as it is before this start runs anything (hooks, the
 * command): one there then is an earlier start's (a restarted container keeps
 * /opt/ml/output), not this program's. The first note of a start holds.
 */
export function noteEarlierReport(path: string): void {
  if (found?.path !== path) found = { path, mark: markOf(path) };
}

/** Whether `path` is still the file an earlier start left (noted, and unchanged since). */
function leftByEarlierStart(path: string): boolean {
  return found?.path === path && found.mark !== null && markOf(path) === found.mark;
}

/**
 * Writes a SageMaker failure or message file unless the program (or anyone)
 * wrote one: the program's own reason wins. One an earlier start left (see
 * {@linkcode noteEarlierReport}) is replaced whole: it tells of another
 * attempt. A link of another uid's on the way is not followed (the program may
 * write `/opt/ml`). Returns whether it wrote.
 */
export function writeReport(path: string, text: string, log: Logger): boolean {
  const cut = cutUtf8(text, REPORT_LIMIT);
  try {
    if (createWholeOnce(path, cut)) {
      log.info(`failure reported in ${path}`);
      return true;
    }
    if (!leftByEarlierStart(path)) {
      log.info(`${path} exists (written by the program): kept`);
      return false;
    }
    createWholeOnce(path, cut, true);
    log.info(`failure reported in ${path} (replacing the one an earlier start left)`);
    return true;
  } catch (e) {
    log.warn(`could not write ${path}: ${withoutPath((e as Error).message, path)}`);
  }
  return false;
}
