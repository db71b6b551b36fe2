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
    super(oneLine(message));
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

/**
 * `text` on one line: each line end, with the blanks around it, is one space. Split, not a
 * pattern of blanks around a line end: tried at each blank of a long run (a quoted value of 40,000
 * spaces), that rescans the run, half a second.
 */
function oneLine(text: string): string {
  if (!/[\r\n]/.test(text)) return text.trim();
  return text.split(/[\r\n]+/).map((line) => line.trim()).filter((line) => line !== "").join(" ");
}

/**
 * The one line an error ends a start with: its message for ours, marked as a bug otherwise (whose
 * message may hold line ends: a path's, or a runtime's own; joined with blanks, which read better
 * in the log and the failure file than the `\n` their escaping would show).
 */
export function errorLine(e: unknown): string {
  if (e instanceof ChameleonError) return e.message;
  return `Internal error (a bug): ${oneLine(e instanceof Error ? e.message : String(e))}`;
}

/** The most characters of one value (quoted, or a word without blanks) a line shows. */
export const QUOTED_LIMIT = 200;

/**
 * The most UTF-8 bytes a line shows: SageMaker keeps the first 1024 bytes of its failure file,
 * and a line cut there would lose its end, which says what was expected.
 */
export const LINE_LIMIT = 1024;

/**
 * An error or warning line as it is written (log, failure file): each quoted value (a JSON string,
 * as messages quote what they were given) and each word without blanks longer than
 * {@linkcode QUOTED_LIMIT} characters cut to its start, then `...` and its length, and a line still
 * over {@linkcode LINE_LIMIT} bytes cut in its middle, so its start and its end both show. A 128
 * KiB variable or hyperparameter, a long path or a list of 10,000 hosts would otherwise make the
 * line as long, and push what was expected out of SageMaker's 1024-byte failure file. Given the
 * line with its secrets hidden: a secret cut in two would be found by no scrubbing.
 */
export function shortLine(line: string): string {
  let out = "";
  let copied = 0;
  for (const [open, close] of quotedValues(line)) {
    out += shortWords(line.slice(copied, open)) + shortQuote(line.slice(open, close + 1));
    copied = close + 1;
  }
  return shortMiddle(out + shortWords(line.slice(copied)));
}

/** What stands before a quoted value in a message: a blank, an opening bracket, `,`, `:` or `=`. */
const BEFORE_VALUE = /[\s([{,:=]/;
/** What follows a quoted value in a message: a blank, a closing bracket, `,`, `:`, `;` or `.`. */
const AFTER_VALUE = /[\s)\]},:;.]/;

/**
 * Where the values a message quotes open and close: JSON strings as JSON.stringify writes them
 * (escapes JSON knows, no raw control character), standing where messages put one (after a blank,
 * a bracket, `,`, `:` or `=`, and before a blank, a bracket or punctuation). A raw `"` in an
 * unquoted path (`/data/a"b`, `/data/ "b`) opens none: one would pair with the next value's opening
 * quote, leave that value uncut and cut the text between. One pass: a quote's closing quote is the
 * next one after an even run of backslashes whichever quote opened (a run never holds a quote), and
 * whether the text between is valid JSON is a difference of prefix counts.
 */
function quotedValues(line: string): [number, number][] {
  const n = line.length;
  // bad[i]: how many characters before i no JSON string holds (a control character, a backslash
  // opening an unknown escape); closing: where the quotes that end a string opened before them are.
  const bad = new Int32Array(n + 1);
  const closing: number[] = [];
  let run = 0; // backslashes just before i
  for (let i = 0; i < n; i++) {
    const c = line.charCodeAt(i);
    let wrong = c < 0x20;
    if (c === 0x5c && run % 2 === 0) wrong = !validEscape(line, i);
    if (c === 0x22 && run % 2 === 0) closing.push(i);
    run = c === 0x5c ? run + 1 : 0;
    bad[i + 1] = bad[i]! + (wrong ? 1 : 0);
  }
  const spans: [number, number][] = [];
  let next = 0;
  for (let open = line.indexOf('"'); open >= 0;) {
    while (next < closing.length && closing[next]! <= open) next++;
    const close = closing[next];
    if (close === undefined) break;
    const real = (open === 0 || BEFORE_VALUE.test(line[open - 1]!)) &&
      (close === n - 1 || AFTER_VALUE.test(line[close + 1]!)) &&
      bad[close] === bad[open + 1];
    if (real) spans.push([open, close]);
    open = line.indexOf('"', real ? close + 1 : open + 1);
  }
  return spans;
}

/** Whether the backslash at `i` opens an escape JSON knows (`\"`, `\n`, `\u00e9`, ...). */
function validEscape(line: string, i: number): boolean {
  const e = line[i + 1];
  if (e === "u") return /^[0-9a-fA-F]{4}$/.test(line.slice(i + 2, i + 6));
  return e !== undefined && '"\\/bfnrt'.includes(e);
}

/** One quoted value cut as {@linkcode shortLine} says; the same text when it is short. */
function shortQuote(quoted: string): string {
  if (quoted.length <= QUOTED_LIMIT + 2) return quoted;
  const value = JSON.parse(quoted) as string; // quotedValues() found it valid
  if (value.length <= QUOTED_LIMIT) return quoted;
  // Characters as a reader counts them: an emoji (a surrogate pair) is one, never cut in two.
  const chars = [...value];
  if (chars.length <= QUOTED_LIMIT) return quoted;
  // JSON.stringify writes DEL and the C1 controls raw; the line had them escaped (a log line's
  // visibleText()), and raw, CSI (U+009B) would drive the terminal the line is shown on.
  const start = visibleText(JSON.stringify(chars.slice(0, QUOTED_LIMIT).join("")));
  return `${start}... (${chars.length} characters)`;
}

/**
 * Text outside quoted values with each word longer than {@linkcode QUOTED_LIMIT} characters cut;
 * ` ...` after a blank, so the word that is left is no longer one to cut again.
 */
function shortWords(text: string): string {
  if (text.length <= QUOTED_LIMIT) return text;
  return text.replace(LONG_WORD, (whole) => {
    // Punctuation ending the word is the message's (`Config /a/...: expected`), not the value's.
    let end = whole.length;
    while (end > 0 && ":,;)]".includes(whole[end - 1]!)) end--;
    const chars = [...whole.slice(0, end)];
    if (chars.length <= QUOTED_LIMIT) return whole;
    return `${
      chars.slice(0, escapeStartBefore(chars, QUOTED_LIMIT)).join("")
    } ... (${chars.length} characters)${whole.slice(end)}`;
  });
}

/** A word (no blanks) of more than {@linkcode QUOTED_LIMIT} characters (code points). */
const LONG_WORD = new RegExp(`\\S{${QUOTED_LIMIT + 1},}`, "gu");

/**
 * A line over {@linkcode LINE_LIMIT} bytes with its middle left out: two thirds of the room for
 * its start (what failed), the rest for its end (what was expected), cut between characters.
 */
function shortMiddle(line: string): string {
  if (line.length <= LINE_LIMIT / 3) return line; // 3 bytes a UTF-16 unit at most
  // Counted by hand, not with TextEncoder: contexts/ and adapters/ import this module, and they
  // type-check without any runtime's globals (tests/layers_test.ts).
  const chars = [...line];
  const sizes = chars.map(utf8Size);
  let total = 0;
  for (const n of sizes) total += n;
  if (total <= LINE_LIMIT) return line;
  const room = LINE_LIMIT - 48; // the mark in the middle: " ... (N characters left out) ... "
  let head = 0;
  let used = 0;
  while (used + sizes[head]! <= Math.floor(room * 2 / 3)) used += sizes[head++]!;
  let tail = chars.length;
  for (let left = room - used; tail > head && sizes[tail - 1]! <= left; tail--) {
    left -= sizes[tail - 1]!;
  }
  // Neither piece keeps part of an escape the cut goes through (less shown, never more).
  head = escapeStartBefore(chars, head);
  tail = Math.max(tail, escapeEndAfter(chars, tail));
  return `${chars.slice(0, head).join("")} ... (${tail - head} characters left out) ... ${
    chars.slice(tail).join("")
  }`;
}

/**
 * Where `chars` (code points) cut at `cut` should end so that no escape is cut through: the
 * escapes log.ts visibleText() writes (`\n`, `\u001b`) and JSON's. A line is cut after it is
 * escaped (the cut counts what is shown), and a piece ending in `\u001` or `\` reads as another
 * character, or as none. The backslashes just before such an escape go too: which of them are the
 * text's own cannot be told. Never later than `cut`.
 */
export function escapeStartBefore(chars: readonly string[], cut: number): number {
  let b = escapeThrough(chars, cut);
  if (b < 0) return cut;
  while (b > 0 && chars[b - 1] === "\\") b--;
  return b;
}

/** Where a piece of `chars` starting at `cut` should start so that no escape is cut through. */
function escapeEndAfter(chars: readonly string[], cut: number): number {
  const b = escapeThrough(chars, cut);
  return b < 0 ? cut : b + escapeLength(chars, b);
}

/** The backslash of the escape that a cut at `cut` goes through, else -1. */
function escapeThrough(chars: readonly string[], cut: number): number {
  for (let b = cut - 1; b >= 0 && b > cut - 6; b--) {
    if (chars[b] === "\\" && b + escapeLength(chars, b) > cut) return b;
  }
  return -1;
}

/** The length of the escape at `b` (a backslash): 6 for `\uXXXX`, else 2 (one character escaped). */
function escapeLength(chars: readonly string[], b: number): number {
  if (chars[b + 1] !== "u") return 2;
  for (let i = b + 2; i < b + 6; i++) if (!/^[0-9a-fA-F]$/.test(chars[i] ?? "")) return 2;
  return 6;
}

/** The UTF-8 bytes of one character (a code point; a lone surrogate is written as U+FFFD's 3). */
function utf8Size(c: string): number {
  const p = c.codePointAt(0)!;
  return p < 0x80 ? 1 : p < 0x800 ? 2 : p < 0x10000 ? 3 : 4;
}

/** The exit code for anything thrown: its own for ours, 70 for a bug. */
export function exitCodeOf(e: unknown): number {
  return e instanceof ChameleonError ? e.exitCode : EXIT.internal;
}

// deno-lint-ignore no-control-regex -- control characters are what it finds
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;
const SHORT_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Text with its control characters escaped as JSON escapes them (`\n`, `\u001b`), C1 and
 * DEL too: a value's newline would otherwise start a line that looks like one of ours
 * (`chameleon: error: ...`), and its escape sequences would drive the terminal.
 */
export function visibleText(text: string): string {
  return text.replace(
    CONTROL,
    (ch) => SHORT_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
