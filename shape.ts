/**
 * Small typed readers for the JSON that arrives at start-up (snapshot files,
 * platform files, env values with structure). Each failure names the JSON
 * pointer and what was expected.
 *
 * Why not zod here: importing zod costs 13-15 ms per process start, about the
 * whole Deno start-up floor (see bench/RESULTS.md). The image config, which is
 * validated once at image build time, uses the zod schema in `config_schema.ts`.
 *
 * @module
 */

import { parseJsonCountingKeys, repeatedKey } from "./json.ts";
import { PyJsonError, pyLoads } from "./pyjson.ts";
import { mayQuoteAt, REDACTED } from "./secrets.ts";

/** A value at `pointer` did not have the expected shape. */
export class ShapeError extends Error {
  /** JSON pointer of the offending value ("" for the root). */
  readonly pointer: string;
  /** Creates a shape error. */
  constructor(pointer: string, message: string) {
    super(message);
    this.name = "ShapeError";
    this.pointer = pointer;
  }
}

/** Reads and narrows a value found at a JSON pointer. */
export type Reader<T> = (value: unknown, pointer: string) => T;

/** A reader whose key may be absent from an object. */
export interface OptionalReader<T> extends Reader<T | undefined> {
  readonly optional: true;
}

/** The type a reader produces. */
export type Infer<R> = R extends Reader<infer T> ? T : never;

/** A short description of a JSON value, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing (missing)";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") {
    return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "\u2026" : value)}`;
  }
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

function fail(pointer: string, expected: string, value: unknown): never {
  throw new ShapeError(pointer, `expected ${expected}, got ${describeAt(pointer, value)}`);
}

/** {@linkcode describe}, without the value itself under a secret-named key (design section 8). */
function describeAt(pointer: string, value: unknown): string {
  const keys = pointer.split("/").slice(1).map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (mayQuoteAt(keys, value) || value === null || typeof value === "object") {
    return describe(value);
  }
  return `${typeof value} ${REDACTED}`;
}

/** Escapes one JSON pointer token (RFC 6901). */
export function pointerToken(key: string | number): string {
  return "/" + String(key).replace(/~/g, "~0").replace(/\//g, "~1");
}

/** A string. */
export const str: Reader<string> = (v, p) => typeof v === "string" ? v : fail(p, "a string", v);

/** A non-empty string. */
export const nonEmpty: Reader<string> = (v, p) =>
  typeof v === "string" && v !== "" ? v : fail(p, "a non-empty string", v);

/** A finite number. */
export const num: Reader<number> = (v, p) =>
  typeof v === "number" && Number.isFinite(v) ? v : fail(p, "a number", v);

/** A non-negative integer. */
export const uint: Reader<number> = (v, p) =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : fail(p, "a non-negative integer", v);

/** A non-negative integer up to `max`. */
export const uintUpTo = (max: number): Reader<number> => (v, p) =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max
    ? v
    : fail(p, `an integer from 0 to ${max}`, v);

/** A boolean. */
export const bool: Reader<boolean> = (v, p) =>
  typeof v === "boolean" ? v : fail(p, "true or false", v);

/** Any JSON value, unchecked. */
export const anyJson: Reader<unknown> = (v) => v;

/** One of the given strings. */
export function literal<const T extends string>(...values: T[]): Reader<T> {
  return (v, p) =>
    typeof v === "string" && (values as string[]).includes(v)
      ? v as T
      : fail(p, values.map((x) => JSON.stringify(x)).join(" or "), v);
}

/** An array of items. */
export function array<T>(item: Reader<T>): Reader<T[]> {
  return (v, p) => {
    if (!Array.isArray(v)) fail(p, "an array", v);
    return v.map((x, i) => item(x, p + pointerToken(i)));
  };
}

/** An object used as a map from any key to values. */
export function record<T>(item: Reader<T>): Reader<Record<string, T>> {
  return (v, p) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) fail(p, "an object", v);
    // Values of any shape: the object as parsed (copying 10,000 hyperparameters cost milliseconds).
    if (item === anyJson) return v as Record<string, T>;
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) out[k] = item(x, p + pointerToken(k));
    return out;
  };
}

/** The value may be absent (or, with `nullToo`, null). */
export function optional<T>(item: Reader<T>, nullToo = false): OptionalReader<T> {
  const r =
    ((v: unknown, p: string) =>
      v === undefined || (nullToo && v === null) ? undefined : item(v, p)) as OptionalReader<T>;
  return Object.assign(r, { optional: true as const });
}

/** The value may be null. */
export function nullable<T>(item: Reader<T>): Reader<T | null> {
  return (v, p) => v === null ? null : item(v, p);
}

type Shape = Record<string, Reader<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends OptionalReader<unknown> ? K : never;
}[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;

/** The object type a shape produces. */
export type ObjectOf<S extends Shape> =
  & { [K in RequiredKeys<S>]: Infer<S[K]> }
  & { [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined> };

/**
 * An object with the given fields. `strict` makes unknown keys an error; by
 * default they are ignored (platform files grow new fields over time).
 */
export function object<S extends Shape>(shape: S, strict = false): Reader<ObjectOf<S>> {
  return (v, p) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) fail(p, "an object", v);
    const input = v as Record<string, unknown>;
    if (strict) {
      for (const k of Object.keys(input)) {
        // Own keys only: `in` would also let through what every object inherits (constructor, toString).
        if (!Object.hasOwn(shape, k)) {
          throw new ShapeError(
            p + pointerToken(k),
            `unknown key ${JSON.stringify(k)} (expected one of ${Object.keys(shape).join(", ")})`,
          );
        }
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, read] of Object.entries(shape)) {
      const x = read(input[k], p + pointerToken(k));
      if (x !== undefined) out[k] = x;
    }
    return out as ObjectOf<S>;
  };
}

/** The outcome of parsing a JSON text against a reader. */
export type ParseOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problem: string };

/**
 * Parses JSON text and reads it. On failure the problem is one line:
 * "not valid JSON (...)" or "<pointer>: expected ...".
 */
export function parseJson<T>(text: string, read: Reader<T>): ParseOutcome<T> {
  let raw: unknown;
  let keys: number;
  try {
    ({ value: raw, keys } = parseJsonCountingKeys(text));
  } catch (e) {
    const why = (e as Error).message;
    // V8 quotes the text around an unexpected token, which may be a secret, and says not where
    // it is: the token, and where Python's decoder (as strict there) stops.
    const token = /^Unexpected token '(.+?)', .* is not valid JSON$/s.exec(why)?.[1];
    return {
      ok: false,
      problem: `not valid JSON (${
        token === undefined ? why : `Unexpected token '${token}'${where(text, token)}`
      })`,
    };
  }
  // A key given twice is one key once parsed (json.ts reads the keys as written): when the parsed
  // value holds as many keys as the text writes, none is repeated. Only otherwise does json.ts
  // walk the text again, to name the repeated one (a walk a start runs before V8 has compiled it:
  // 0.4-1.1 ms for a 3.5 KB snapshot).
  const twice = keys === keysIn(raw) ? undefined : repeatedKey(text);
  if (twice !== undefined) {
    // JSON.parse keeps the last: which one was meant is anybody's guess.
    const at = twice.path.length === 0 ? "top level" : twice.path.map(pointerToken).join("");
    return { ok: false, problem: `${at}: key ${JSON.stringify(twice.key)} appears twice` };
  }
  try {
    return { ok: true, value: read(raw, "") };
  } catch (e) {
    if (e instanceof ShapeError) {
      return { ok: false, problem: `${e.pointer === "" ? "top level" : e.pointer}: ${e.message}` };
    }
    throw e;
  }
}

/**
 * " at position N (line L column C)", as V8 says it, for the unexpected `token`:
 * found where Python's decoder stops on `text`, or a few characters on when
 * that is a literal's start (`tru}`: V8 names the `}`). Empty when the token is
 * not there: Python takes NaN and Infinity, which JSON does not, and so may stop
 * at another error further on.
 */
function where(text: string, token: string): string {
  let stop: number | undefined;
  try {
    pyLoads(text);
  } catch (e) {
    const m = e instanceof PyJsonError ? /at position (\d+)$/.exec(e.message) : null;
    if (m !== null) stop = Number(m[1]);
  }
  if (stop === undefined) return "";
  // The longest literal start V8 reads before its unexpected token is "-Infinit" (8 characters).
  const at = text.indexOf(token, stop);
  if (at < 0 || at - stop > 8) return "";
  const before = text.slice(0, at).split("\n");
  return ` at position ${at} (line ${before.length} column ${before.at(-1)!.length + 1})`;
}

/**
 * How many keys the objects of a parsed JSON value hold, nested ones included.
 * A list of values still to visit, not recursion: JSON.parse takes any depth,
 * and the readers refuse a deep one only after this count.
 */
function keysIn(v: unknown): number {
  let n = 0;
  const pending = [v];
  while (pending.length > 0) {
    const x = pending.pop();
    if (x === null || typeof x !== "object") continue;
    if (Array.isArray(x)) {
      for (const item of x) pending.push(item);
      continue;
    }
    const keys = Object.keys(x); // own keys only: JSON.parse makes "__proto__" one of them
    n += keys.length;
    for (const k of keys) pending.push((x as Record<string, unknown>)[k]);
  }
  return n;
}
