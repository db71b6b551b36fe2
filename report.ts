/**
 * Failure reports for SageMaker: the reason of a failure (what happened, then
 * the tail of stderr) in the failure or message file, unless the program
 * wrote its own.
 *
 * @module
 */

import type { Logger } from "./log.ts";
import { type Exit, exitWords } from "./sys/process.ts";
import { parentOf } from "./world.ts";

/** SageMaker keeps the first 1024 bytes of the failure or message file. */
const REPORT_LIMIT = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The most of the command line a report quotes. */
const COMMAND_LIMIT = 256;

/** How much of the command's stderr the supervisor keeps for a report: more than a report holds. */
export const STDERR_TAIL = 4 * REPORT_LIMIT;

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
  // it, so what happened and the end of stderr still fit.
  const line = command.join(" ");
  const shown = cutUtf8(line, COMMAND_LIMIT);
  return withTail(`Command ${shown}${shown === line ? "" : " ..."} ${what}`, stderrTail);
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

/**
 * Creates `path` with `text` whole or not at all: written to a file of its own
 * beside it first, then linked in, which fails when `path` exists (the
 * program's own report stays). A full disk leaves no cut reason behind. Where
 * hard links are refused (some network file systems), written in place.
 */
function writeWholeOnce(path: string, text: string): void {
  const temp = `${path}.chameleon-${Deno.pid}`;
  const removeTemp = () => {
    try {
      Deno.removeSync(temp);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  };
  removeTemp(); // one a start of the same pid left (PID 1 in every container)
  try {
    Deno.writeTextFileSync(temp, text, { createNew: true });
    try {
      Deno.linkSync(temp, path);
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) throw e;
      Deno.writeTextFileSync(path, text, { createNew: true });
    }
  } finally {
    removeTemp();
  }
}

/**
 * Writes a SageMaker failure or message file unless the program (or anyone)
 * wrote one: the program's own reason wins. Returns whether it wrote.
 */
export function writeReport(path: string, text: string, log: Logger): boolean {
  try {
    Deno.mkdirSync(parentOf(path) ?? "/", { recursive: true });
    writeWholeOnce(path, cutUtf8(text, REPORT_LIMIT));
    log.info(`failure reported in ${path}`);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      log.info(`${path} exists (written by the program): kept`);
    } else log.warn(`could not write ${path}: ${(e as Error).message}`);
    return false;
  }
}
