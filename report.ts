/**
 * Failure reports for SageMaker: the reason of a failure (what happened, then
 * the tail of stderr) in the failure or message file, unless the program
 * wrote its own.
 *
 * @module
 */

import type { Logger } from "./log.ts";
import { type Exit, exitWords } from "./sys/process.ts";
import { createWholeOnce } from "./sys/files.ts";

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
 * Writes a SageMaker failure or message file unless the program (or anyone)
 * wrote one: the program's own reason wins. A link of another uid's on the way
 * is not followed (the program may write `/opt/ml`). Returns whether it wrote.
 */
export function writeReport(path: string, text: string, log: Logger): boolean {
  try {
    if (createWholeOnce(path, cutUtf8(text, REPORT_LIMIT))) {
      log.info(`failure reported in ${path}`);
      return true;
    }
    log.info(`${path} exists (written by the program): kept`);
  } catch (e) {
    const why = (e as Error).message;
    log.warn(
      `could not write ${path}: ${why.startsWith(`${path}: `) ? why.slice(path.length + 2) : why}`,
    );
  }
  return false;
}
