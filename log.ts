/**
 * The one logger: lines on stderr, text or JSON (`CHAMELEON_LOG_FORMAT`),
 * filtered by `CHAMELEON_LOG_LEVEL`. Known secret values are scrubbed from
 * every line. stdout belongs to `--explain` and the command.
 *
 * @module
 */

import { shortLine, visibleText } from "./errors.ts";
import { scrubber, secretForms } from "./secrets.ts";

/** Log levels, most severe first. */
export const LEVELS = ["error", "warn", "info", "debug"] as const;

/** A log level. */
export type Level = typeof LEVELS[number];

/** Structured fields beside a message. */
export type Fields = Readonly<Record<string, unknown>>;

/** Where log lines go (stderr in production, an array in tests). */
export type Sink = (line: string) => void;

const encoder = new TextEncoder();

/** Writes all of `bytes` (a write may take only part of them). */
export function writeAll(to: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += to.writeSync(bytes.subarray(off));
}

/** Writes a line to stderr; a line that cannot be written (stderr closed) is dropped, not fatal. */
export const stderrSink: Sink = (line) => {
  try {
    writeAll(Deno.stderr, encoder.encode(line + "\n"));
  } catch {
    // Nowhere to say it: the start goes on, and its exit code still tells.
  }
};

/**
 * An error or warning line as a reader is shown it (the log, SageMaker's failure file,
 * `--explain`'s warnings), given with its secrets hidden: escaped ({@linkcode visibleText}),
 * then cut ({@linkcode shortLine}), so the cut counts the escapes and never splits one.
 */
export function shownLine(scrubbed: string): string {
  return shortLine(visibleText(scrubbed));
}

/** The logger. */
export class Logger {
  readonly #level: number;
  readonly #json: boolean;
  #sink: Sink;
  #values: string[] = [];
  #hide = scrubber([]);

  /**
   * Creates a logger from the env equivalents, in any case (`DEBUG`, `JSON`). An
   * unknown value falls back to info or text with a warning: the log's shape is
   * no reason to stop a start.
   */
  constructor(
    env: Readonly<Record<string, string | undefined>>,
    sink: Sink = stderrSink,
    quiet = false,
  ) {
    const level = (env["CHAMELEON_LOG_LEVEL"] || "info").toLowerCase();
    const format = (env["CHAMELEON_LOG_FORMAT"] || "text").toLowerCase();
    const lvl = LEVELS.indexOf(level as Level);
    this.#level = lvl < 0 ? LEVELS.indexOf("info") : lvl;
    this.#json = format === "json";
    this.#sink = sink;
    if (lvl < 0 && !quiet) {
      this.warn(
        `Variable CHAMELEON_LOG_LEVEL ${
          JSON.stringify(env["CHAMELEON_LOG_LEVEL"])
        }: expected error, warn, info or debug; using info`,
      );
    }
    if (format !== "json" && format !== "text" && !quiet) {
      this.warn(
        `Variable CHAMELEON_LOG_FORMAT ${
          JSON.stringify(env["CHAMELEON_LOG_FORMAT"])
        }: expected text or json; using text`,
      );
    }
  }

  /** Whether debug lines (and stack traces) are shown. */
  get debugEnabled(): boolean {
    return this.#level >= LEVELS.indexOf("debug");
  }

  /** Sends the lines from now on to `sink` (the supervisor's, which never waits for good). */
  redirect(sink: Sink): void {
    this.#sink = sink;
  }

  /** Values that must never appear in a log line. */
  addSecrets(values: readonly string[]): void {
    // JSON-escaped forms too: a JSON log line escapes quotes and backslashes in its values. All
    // of them longest first, as secretForms() gives one call's: a shorter secret replaced first
    // would leave the rest of a longer one that holds it. (concat: a spread of some 120,000
    // values would overflow the call's arguments.)
    // A value it knows already is none new (an error path may tell it the env's secrets twice):
    // with nothing new, the index stands.
    const known = new Set(this.#values);
    const fresh = values.filter((v) => v.length > 0 && !known.has(v));
    if (fresh.length === 0) return;
    this.#values = this.#values.concat(fresh);
    // Indexed once here, not searched for each secret in every line (a plan may know hundreds).
    this.#hide = scrubber(secretForms(this.#values));
  }

  /** `text` with the secret values this logger knows replaced, as its lines have them. */
  scrubbed(text: string): string {
    return this.#hide(text);
  }

  /** Logs at a level. */
  log(level: Level, msg: string, fields: Fields = {}): void {
    if (LEVELS.indexOf(level) > this.#level) return;
    // Errors and warnings are what a reader (and SageMaker's failure file) is shown: cut as
    // shortLine() says, after the scrubbing. Info and debug lines are shown whole.
    const cut = level === "error" || level === "warn";
    let line: string;
    if (this.#json) {
      const shown = cut ? shortLine(this.scrubbed(msg)) : msg;
      line = this.scrubbed(
        JSON.stringify({ time: new Date().toISOString(), level, msg: shown, ...fields }),
      );
    } else {
      const extra = Object.entries(fields).map(([k, v]) =>
        ` ${k}=${typeof v === "string" ? v : JSON.stringify(v)}`
      ).join("");
      // One line a call, whatever a value in it holds; escaped after the scrubbing, which
      // would change how a secret holding a control character is written.
      const text = this.scrubbed(`chameleon: ${level}: ${msg}${extra}`);
      line = cut ? shownLine(text) : visibleText(text);
    }
    this.#sink(line);
  }

  /** An error line. */
  error(msg: string, fields?: Fields): void {
    this.log("error", msg, fields);
  }
  /** A warning line. */
  warn(msg: string, fields?: Fields): void {
    this.log("warn", msg, fields);
  }
  /** An info line. */
  info(msg: string, fields?: Fields): void {
    this.log("info", msg, fields);
  }
  /** A debug line. */
  debug(msg: string, fields?: Fields): void {
    this.log("debug", msg, fields);
  }
}
