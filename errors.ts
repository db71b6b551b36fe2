/**
 * Errors a user can cause, each carrying its exit code (design section 7). Anything
 * else that escapes is a bug and exits 70.
 *
 * @module
 */

/** Exit codes of design section 7. */
export const EXIT = {
  usage: 2,
  hostWait: 69,
  internal: 70,
  config: 78,
  notExecutable: 126,
  notFound: 127,
} as const;

/** Base of every error a user can cause; the message is one line. */
export class ChameleonError extends Error {
  /** The process exit code this error maps to. */
  readonly exitCode: number;

  /** Creates an error with its exit code; the message is kept to one line. */
  constructor(message: string, exitCode: number) {
    super(message.replace(/\s*[\r\n]+\s*/g, " ").trim());
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad option or value, conflicting options, no command to run (exit 2). */
export class UsageError extends ChameleonError {
  /** Creates a usage error. */
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/**
 * Invalid configuration or input (exit 78): config, snapshot, a platform file
 * the context requires, adapters in conflict, a variable too large.
 */
export class InputError extends ChameleonError {
  /** Creates an input error. */
  constructor(message: string) {
    super(message, EXIT.config);
  }
}

/** A host of a multi-host job never resolved (exit 69). */
export class HostWaitError extends ChameleonError {
  /** Creates a host-wait error. */
  constructor(message: string) {
    super(message, EXIT.hostWait);
  }
}

/** A hook failed; the exit code is the hook's own. */
export class HookError extends ChameleonError {
  /**
   * Creates a hook error with the hook's exit code and, when its stderr was
   * teed (a start with a failure report), the end of what it wrote there.
   */
  constructor(message: string, code: number, readonly stderrTail = "") {
    super(message, code === 0 ? 1 : code);
  }
}

/** The command could not be started (126 not executable, 127 not found). */
export class CommandError extends ChameleonError {
  /** Creates a command error. */
  constructor(message: string, exitCode: 126 | 127) {
    super(message, exitCode);
  }
}

/** The one line an error ends a start with: its message for ours, marked as a bug otherwise. */
export function errorLine(e: unknown): string {
  if (e instanceof ChameleonError) return e.message;
  return `Internal error (a bug): ${e instanceof Error ? e.message : String(e)}`;
}

/** The most characters of one quoted value an error line shows. */
export const QUOTED_LIMIT = 200;

/**
 * `line` with each quoted value (a JSON string, as messages quote what they were given) longer
 * than {@linkcode QUOTED_LIMIT} characters cut to its start, then `...` and its length: a 128 KiB
 * variable or hyperparameter would otherwise make the line as long, and push what was expected
 * out of SageMaker's 1024-byte failure file. Given the line with its secrets hidden: a secret cut
 * in two would be found by no scrubbing.
 */
export function shortQuotes(line: string): string {
  // One pass: a pattern tried at every quote rescans the rest of a line whose quotes do not
  // close (a raw name full of \"), 40,000 characters in half a second.
  let out = "";
  let copied = 0;
  for (let open = line.indexOf('"'); open >= 0;) {
    const close = closingQuote(line, open);
    // None after it closes either: their backslashes pair up as from this one.
    if (close < 0) break;
    const quoted = line.slice(open, close + 1);
    const cut = shortQuote(quoted);
    if (cut !== quoted) {
      out += line.slice(copied, open) + cut;
      copied = close + 1;
    }
    open = line.indexOf('"', close + 1);
  }
  return copied === 0 ? line : out + line.slice(copied);
}

/** Where the JSON string opened at `open` closes (a backslash escapes the next character), or -1. */
function closingQuote(line: string, open: number): number {
  for (let i = open + 1; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i;
  }
  return -1;
}

/** One quoted value cut as {@linkcode shortQuotes} says; the same text when it is short or no JSON string. */
function shortQuote(quoted: string): string {
  if (quoted.length <= QUOTED_LIMIT + 2) return quoted;
  let value: unknown;
  try {
    value = JSON.parse(quoted);
  } catch {
    return quoted;
  }
  if (typeof value !== "string" || value.length <= QUOTED_LIMIT) return quoted;
  // Characters as a reader counts them: an emoji (a surrogate pair) is one, never cut in two.
  const chars = [...value];
  if (chars.length <= QUOTED_LIMIT) return quoted;
  return `${JSON.stringify(chars.slice(0, QUOTED_LIMIT).join(""))}... (${chars.length} characters)`;
}

/** The exit code for anything thrown: its own for ours, 70 for a bug. */
export function exitCodeOf(e: unknown): number {
  return e instanceof ChameleonError ? e.exitCode : EXIT.internal;
}
