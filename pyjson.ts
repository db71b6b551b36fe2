/**
 * Python's `json.loads`, `json.dumps` and `str()` for the values
 * sagemaker-training-toolkit handles, so `SM_*` variables come out byte for
 * byte as the toolkit writes them. Number lexemes are kept: Python ints have
 * any size up to the 4,300 digits Python converts from text, and floats print
 * with Python's `repr` (`1.0`, `1e-05`, `1e+16`), not JavaScript's. Pure.
 *
 * @module
 */

import { MAX_JSON_DEPTH } from "./types.ts";

/** A Python int, kept as its decimal text (any size `json.loads` accepts). */
export class PyInt {
  /** Normalised decimal text: no leading "+", "-0" is "0". */
  readonly text: string;
  /** Creates an int from a JSON integer lexeme. */
  constructor(text: string) {
    // JSON lexemes never have leading zeros: normalise only when there is one.
    const lead = text.startsWith("-") ? 1 : 0;
    const t = text.length > lead + 1 && text[lead] === "0"
      ? text.replace(/^-?0+(?=\d)/, (m) => (m.startsWith("-") ? "-" : ""))
      : text;
    this.text = t === "-0" ? "0" : t;
  }
}

/** A Python float. */
export class PyFloat {
  readonly value: number;
  #repr: string | undefined;
  /** Creates a float. */
  constructor(value: number) {
    this.value = value;
  }
  /** Python's `repr()` of the value (computed once). */
  get repr(): string {
    return this.#repr ??= floatRepr(this.value);
  }
}

/** A decoded value: what Python's json module would produce. */
export type PyValue =
  | null
  | boolean
  | string
  | PyInt
  | PyFloat
  | PyValue[]
  | PyDict;

/** A Python dict: insertion order, a repeated key keeps its first position and its last value. */
export type PyDict = Map<string, PyValue>;

/** Thrown when text is not valid JSON for Python's decoder. */
export class PyJsonError extends Error {}

/** JSON nested deeper than {@linkcode MAX_JSON_DEPTH}: bad input, whatever reads it. */
export class PyJsonTooDeep extends PyJsonError {}

const WS = /[ \t\n\r]*/y;
/** A run of string characters that need no attention (no quote, backslash or control character). */
// deno-lint-ignore no-control-regex -- JSON forbids raw control characters in strings
const PLAIN = /[^"\\\x00-\x1f]*/y;
const LITERALS: readonly [string, PyValue | (() => PyValue)][] = [
  ["null", null],
  ["true", true],
  ["false", false],
  ["NaN", () => new PyFloat(NaN)],
  ["Infinity", () => new PyFloat(Infinity)],
  ["-Infinity", () => new PyFloat(-Infinity)],
];

/** `sys.get_int_max_str_digits()` by default: longer ints are a ValueError in `json.loads`. */
const INT_MAX_STR_DIGITS = 4300;

/** Python's `json.loads` (strict: control characters in strings are errors). */
export function pyLoads(text: string): PyValue {
  // Most hyperparameter values are one plain scalar: answer those without the parser.
  if (text.length < 64) {
    const c = text.charCodeAt(0);
    if (c === 0x22) {
      // One string literal: read as the file reader reads its values (escapes included).
      const s = literalAt(text, 0);
      if (s !== undefined && literalEnd === text.length) return s;
    } else if (c === 0x2d || isDigit(c)) {
      if (numberEnd(text, 0) === text.length) {
        return numberIsFloat ? new PyFloat(Number(text)) : new PyInt(text);
      }
    } else if (text === "true" || text === "false") return text === "true";
    else if (text === "null") return null;
  }
  return parse(text);
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** The index of the first character at or after `j` that is not a decimal digit. */
function digitsEnd(text: string, j: number): number {
  while (isDigit(text.charCodeAt(j))) j++;
  return j;
}

/** Whether the number that {@linkcode numberEnd} last read has a fraction or an exponent. */
let numberIsFloat = false;

/**
 * Where the JSON number at `i` ends, the longest that
 * `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][-+]?[0-9]+)?` reads there (-1: none
 * starts there); {@linkcode numberIsFloat} says whether it is a float. A loop
 * over character codes, not a regex: a value is a few characters, and one
 * regex call costs more than the whole loop.
 */
function numberEnd(text: string, i: number): number {
  let j = text.charCodeAt(i) === 0x2d ? i + 1 : i; // -
  const first = text.charCodeAt(j);
  if (first === 0x30) j++; // a leading 0 stands alone
  else if (isDigit(first)) j = digitsEnd(text, j + 1);
  else return -1;
  numberIsFloat = false;
  if (text.charCodeAt(j) === 0x2e && isDigit(text.charCodeAt(j + 1))) { // .
    j = digitsEnd(text, j + 2);
    numberIsFloat = true;
  }
  const e = text.charCodeAt(j);
  if (e === 0x65 || e === 0x45) { // e E
    const sign = text.charCodeAt(j + 1);
    const from = sign === 0x2b || sign === 0x2d ? j + 2 : j + 1; // + -
    if (isDigit(text.charCodeAt(from))) {
      j = digitsEnd(text, from + 1);
      numberIsFloat = true;
    }
  }
  return j;
}

/**
 * The text of a literal's body that has escapes; throws on one JSON does not
 * allow. `quotesOnly`: every escape is \" (the usual JSON-in-JSON value),
 * which needs no full decoder.
 */
function unescaped(body: string, quotesOnly: boolean): string {
  if (quotesOnly) return body.replaceAll('\\"', '"');
  return JSON.parse(`"${body}"`) as string;
}

/** The index of the first character at or after `i` that is not JSON whitespace. */
function skipWhitespace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

/** Where the literal that {@linkcode literalAt} last read ends (just past its closing quote). */
let literalEnd = 0;
/** Whether the literal that {@linkcode literalAt} last read came back as its inner string. */
let literalInner = false;

/**
 * The string literal at `i`, decoded (it ends at `literalEnd`); undefined
 * when there is none or it is not valid JSON. With `inner`, a literal that
 * holds one JSON string without escapes (`"\"x\""`) comes back as that
 * string's content (`x`, what pyLoads() makes of the decoded `"x"`), and
 * `literalInner` says so.
 */
function literalAt(text: string, i: number, inner = false): string | undefined {
  if (text.charCodeAt(i) !== 0x22) return undefined; // "
  // A loop over character codes: most literals are short, and a regex call costs more than they do.
  let escapes = 0;
  let quotesOnly = true; // every escape so far is \"
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x22) {
      literalEnd = j + 1;
      literalInner = false;
      if (escapes === 0) return text.slice(i + 1, j);
      // The usual JSON-in-JSON value: its content is one piece of the text, no unescaping
      // nor second scan needed (it has no quote, backslash or control character).
      if (
        inner && escapes === 2 && quotesOnly && text.charCodeAt(i + 1) === 0x5c &&
        text.charCodeAt(j - 2) === 0x5c
      ) {
        literalInner = true;
        return text.slice(i + 3, j - 2);
      }
      try {
        return unescaped(text.slice(i + 1, j), quotesOnly);
      } catch {
        return undefined; // a bad escape
      }
    }
    if (c < 0x20) return undefined; // JSON forbids raw control characters
    if (c === 0x5c) { // \ : the next character is escaped; unescaped() checks the escape
      escapes++;
      if (text.charCodeAt(++j) !== 0x22) quotesOnly = false;
    }
  }
  return undefined; // unterminated
}

/**
 * `json.loads` for the one shape that is large in practice: a flat object
 * whose values are all strings (hyperparameters.json by contract). Calls
 * `member` for each key and value in file order (a repeated key comes again,
 * so a `Map` gets a dict's first position and last value), and says whether
 * the text was that shape. False for any other text, including invalid JSON,
 * after which what `member` collected is to be dropped: the caller falls back
 * to {@linkcode pyLoads}, which words the errors.
 *
 * A value that is one JSON string without escapes (`"\"x\""`, JSON in JSON)
 * comes with `loaded` true and `value` already what pyLoads() makes of it
 * (`x`): read from the text as it is, it costs neither unescaping nor a scan.
 */
export function readStringObject(
  text: string,
  member: (key: string, value: string, loaded: boolean) => void,
): boolean {
  let i = skipWhitespace(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return false; // {
  i = skipWhitespace(text, i + 1);
  let c = text.charCodeAt(i);
  if (c === 0x7d) return skipWhitespace(text, i + 1) === text.length; // }
  for (;;) {
    const key = literalAt(text, i);
    if (key === undefined) return false;
    i = skipWhitespace(text, literalEnd);
    if (text.charCodeAt(i) !== 0x3a) return false; // :
    const value = literalAt(text, skipWhitespace(text, i + 1), true);
    if (value === undefined) return false;
    const end = literalEnd; // member() may read other literals
    member(key, value, literalInner);
    i = skipWhitespace(text, end);
    c = text.charCodeAt(i);
    if (c !== 0x2c) break; // ,
    i = skipWhitespace(text, i + 1);
  }
  return c === 0x7d && skipWhitespace(text, i + 1) === text.length;
}

function parse(text: string): PyValue {
  let i = 0;
  const ws = () => {
    WS.lastIndex = i;
    WS.exec(text);
    i = WS.lastIndex;
  };
  const fail = (what: string, at = i): never => {
    throw new PyJsonError(`${what} at position ${at}`);
  };
  // Where json.loads puts a string's errors: an unterminated one at its opening quote, a bad
  // escape at its backslash, a bad \u escape at its u.
  const str = (): string => {
    const start = i;
    i++; // opening quote
    let out = "";
    for (;;) {
      PLAIN.lastIndex = i;
      PLAIN.exec(text);
      if (PLAIN.lastIndex > i) {
        out += text.slice(i, PLAIN.lastIndex);
        i = PLAIN.lastIndex;
      }
      const ch = text[i];
      if (ch === undefined) fail("unterminated string starting", start);
      if (ch === '"') {
        i++;
        return out;
      }
      if (ch !== "\\") fail("invalid control character");
      const backslash = i;
      const esc = text[i + 1];
      if (esc === undefined) fail("unterminated string starting", start);
      i += 2;
      switch (esc) {
        case '"':
        case "\\":
        case "/":
          out += esc;
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case "n":
          out += "\n";
          break;
        case "r":
          out += "\r";
          break;
        case "t":
          out += "\t";
          break;
        case "u": {
          const hex = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("invalid \\u escape", backslash + 1);
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          fail("invalid escape", backslash);
      }
    }
  };
  /** Skips whitespace and `close` if it comes next; whether it did. */
  const closes = (close: string): boolean => {
    ws();
    if (text[i] !== close) return false;
    i++;
    return true;
  };
  /** After a member or an element: true at `close`, false after a comma. */
  const ended = (close: string): boolean => {
    if (closes(close)) return true;
    if (text[i] !== ",") fail(`expected ',' or '${close}'`);
    i++;
    return false;
  };
  let depth = 0;
  const enter = () => {
    if (++depth > MAX_JSON_DEPTH) {
      throw new PyJsonTooDeep(`nested deeper than ${MAX_JSON_DEPTH} levels at position ${i}`);
    }
    i++;
  };
  const value = (): PyValue => {
    ws();
    const ch = text[i];
    if (ch === '"') return str();
    if (ch === "{") {
      enter();
      const d: PyDict = new Map();
      if (!closes("}")) {
        do {
          ws();
          if (text[i] !== '"') fail("expected a property name");
          const k = str();
          ws();
          if (text[i] !== ":") fail("expected ':'");
          i++;
          d.set(k, value());
        } while (!ended("}"));
      }
      depth--;
      return d;
    }
    if (ch === "[") {
      enter();
      const a: PyValue[] = [];
      if (!closes("]")) {
        do a.push(value()); while (!ended("]"));
      }
      depth--;
      return a;
    }
    for (const [word, v] of LITERALS) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return typeof v === "function" ? v() : v;
      }
    }
    const end = numberEnd(text, i);
    if (end < 0) return fail("expecting value");
    const lexeme = text.slice(i, end);
    if (numberIsFloat) {
      i = end;
      return new PyFloat(Number(lexeme));
    }
    // Python 3.11 (and 3.10.7 on) refuses to convert a longer decimal to an int.
    const digits = lexeme.length - (lexeme.startsWith("-") ? 1 : 0);
    if (digits > INT_MAX_STR_DIGITS) {
      fail(`integer of ${digits} digits, over Python's limit of ${INT_MAX_STR_DIGITS},`);
    }
    i = end;
    return new PyInt(lexeme);
  };
  const v = value();
  ws();
  if (i !== text.length) fail("extra data");
  return v;
}

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const abs = Math.abs(x);
  if (abs >= 1e-4 && abs < 1e16) {
    // Both languages print the shortest digits that round-trip; in this range
    // JavaScript writes them without an exponent too, and only ".0" differs.
    const s = String(x);
    return s.includes(".") ? s : `${s}.0`;
  }
  const sign = x < 0 ? "-" : "";
  const [mant, expText] = Math.abs(x).toExponential().split("e") as [string, string];
  const digits = mant.replace(".", "");
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const m = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}.${frac === "" ? "0" : frac}`;
}

function hex4(code: number): string {
  return "\\u" + code.toString(16).padStart(4, "0");
}

/**
 * Whether `s` is printable ASCII without `"` or `\\`: a JSON literal of it is
 * `"s"`. A loop, not a regex: most strings here are a few characters, and a
 * regex call costs more than reading them.
 */
function plainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

const isHigh = (u: number) => u >= 0xd800 && u <= 0xdbff;
const isLow = (u: number) => u >= 0xdc00 && u <= 0xdfff;

/** Whether the UTF-16 unit at `i` is a surrogate without its other half (no UTF-8 form). */
function loneSurrogate(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (isHigh(c)) return !isLow(s.charCodeAt(i + 1));
  return isLow(c) && !isHigh(s.charCodeAt(i - 1));
}

/**
 * A JSON string literal as Python writes it (`ensure_ascii` escapes everything
 * outside space..~). Without `ensure_ascii`, a lone surrogate (from a `\ud800`
 * escape in the input) stays escaped, where Python would write it raw: such
 * text has no UTF-8 form, and a variable passes execve as UTF-8, so it would
 * arrive as U+FFFD.
 */
function jsonString(s: string, ensureAscii = true): string {
  if (plainAscii(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (c < 0x20 || (ensureAscii ? c > 0x7e : loneSurrogate(s, i))) out += hex4(c);
    else out += ch;
  }
  return out + '"';
}

/**
 * Compares keys by code point, as Python's `sorted()` does. UTF-16 order
 * differs from code point order only where a surrogate pair meets
 * U+E000-U+FFFF, so code units are compared, and where either differing unit
 * is a surrogate, the code points they belong to (a lone surrogate is its own).
 */
export function codePointCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return codePointOfUnit(a, i) - codePointOfUnit(b, i);
  }
  return a.length - b.length;
}

/** The code point the unit at `i` is part of: a pair's, or the unit's own. */
function codePointOfUnit(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (isHigh(c) && isLow(s.charCodeAt(i + 1))) return s.codePointAt(i)!;
  // The second half of a pair: the units before it are equal in both keys.
  if (isLow(c) && i > 0 && isHigh(s.charCodeAt(i - 1))) return s.codePointAt(i - 1)!;
  return c;
}

/**
 * A value remembered per object, kept on the object itself under a private
 * symbol, so it dies with it. Used instead of a WeakMap: V8's young-generation
 * collector keeps a WeakMap's values alive even when their key dies, so every
 * per-plan dict, key list and dump survived into the old generation, and
 * plan() on 10,000 hyperparameters spent a fifth to a third of its time on that.
 */
export class PerObject<O extends object, T> {
  readonly #slot = Symbol();

  /** The value remembered for `o`, if any. */
  get(o: O): T | undefined {
    return (o as Record<symbol, T | undefined>)[this.#slot];
  }

  /** Remembers `value` for `o` (not enumerable; a frozen object is left as it is). */
  set(o: O, value: T): void {
    if (Object.isExtensible(o)) Object.defineProperty(o, this.#slot, { value });
  }
}

const sorted = new PerObject<PyDict, string[]>();

/** Whether a key has a code unit from U+D800 up: only then can UTF-16 order differ from code point order. */
function hasHighUnit(k: string): boolean {
  for (let i = 0; i < k.length; i++) if (k.charCodeAt(i) >= 0xd800) return true;
  return false;
}

/** A dict's keys in code point order (computed once per dict). */
export function sortedKeys(d: PyDict): string[] {
  let keys = sorted.get(d);
  if (keys === undefined) {
    const all = new Array<string>(d.size);
    let i = 0;
    d.forEach((_, k) => all[i++] = k);
    // The built-in order (UTF-16 code units) runs without calling back into JavaScript.
    keys = all.some(hasHighUnit) ? all.sort(codePointCompare) : all.sort();
    sorted.set(d, keys);
  }
  return keys;
}

/** Options of {@linkcode pyDumps}. */
export interface DumpOptions {
  /** Escape non-ASCII (Python's default). */
  readonly ensureAscii?: boolean;
  /** Write NaN and infinities as strings (standard JSON) instead of bare NaN/Infinity. */
  readonly nanAsString?: boolean;
}

const dumped = new PerObject<object, string>();
// One options object for every default call (a default `{}` is a new object per call).
const DEFAULTS: DumpOptions = {};

/**
 * `json.dumps(v, sort_keys=True, separators=(",", ":"))`. Containers dumped
 * with the default options are remembered by identity: the toolkit writes the
 * same hyperparameter dict into several variables.
 */
export function pyDumps(v: PyValue, opts: DumpOptions = DEFAULTS): string {
  // Numbers (most hyperparameter values) are answered before dumpAny's closures,
  // whose context V8 allocates on entry, once per call.
  if (v instanceof PyInt) return v.text;
  if (v instanceof PyFloat && Number.isFinite(v.value)) return v.repr;
  return dumpAny(v, opts);
}

function dumpAny(v: PyValue, opts: DumpOptions): string {
  const ascii = opts.ensureAscii ?? true;
  const memo = ascii && !opts.nanAsString;
  if (!memo && v !== null && typeof v === "object") {
    // Without \u escapes or special floats in the default form, the other forms are the same text.
    const plain = dumped.get(v);
    if (
      plain !== undefined && !plain.includes("\\u") && !plain.includes("NaN") &&
      !plain.includes("Infinity")
    ) return plain;
  }
  // The text goes into one list of pieces, joined once; a container remembered is joined on its
  // own, down to those a dict of dicts holds (a dict-valued hyperparameter in SM_TRAINING_ENV's
  // hyperparameters). Each container joined, and remembered, on its own held the text of all
  // those below it again: a dict nested 500 deep over 8,000 keys made 50 MB a dump, and plan()
  // spent three quarters of its 470 ms collecting garbage.
  const write = (x: PyValue, depth: number, out: string[]): void => {
    if (
      memo && depth <= MEMO_DEPTH && x !== null && typeof x === "object" &&
      !(x instanceof PyInt) && !(x instanceof PyFloat)
    ) {
      let text = dumped.get(x);
      if (text === undefined) {
        const own: string[] = [];
        put(x, depth, own);
        dumped.set(x, text = own.join(""));
      }
      out.push(text);
    } else put(x, depth, out);
  };
  const put = (x: PyValue, depth: number, out: string[]): void => {
    if (x === null) out.push("null");
    else if (x === true) out.push("true");
    else if (x === false) out.push("false");
    else if (typeof x === "string") out.push(jsonString(x, ascii));
    else if (x instanceof PyInt) out.push(x.text);
    else if (x instanceof PyFloat) {
      const f = x.value;
      const special = Number.isNaN(f)
        ? "NaN"
        : f === Infinity
        ? "Infinity"
        : f === -Infinity
        ? "-Infinity"
        : null;
      out.push(special === null ? x.repr : opts.nanAsString ? `"${special}"` : special);
    } else if (Array.isArray(x)) {
      // A list of plain strings (SM_USER_ARGS, host lists) reads the same in both
      // JSONs: one native pass writes it, brackets included.
      if (x.every((s) => typeof s === "string" && plainAscii(s))) out.push(JSON.stringify(x));
      else {
        out.push("[");
        for (let i = 0; i < x.length; i++) {
          if (i > 0) out.push(",");
          write(x[i]!, depth + 1, out);
        }
        out.push("]");
      }
    } else {
      const keys = sortedKeys(x);
      if (keys.length === 0) out.push("{}");
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const v = x.get(k)!;
        const key = plainAscii(k)
          ? (i === 0 ? '{"' : ',"') + k + '":'
          : (i === 0 ? "{" : ",") + jsonString(k, ascii) + ":";
        // A key and its number or string make one piece: a dict of 10,000 such took 4 pieces each.
        if (v instanceof PyInt) out.push(key + v.text);
        else if (v instanceof PyFloat && Number.isFinite(v.value)) out.push(key + v.repr);
        else if (typeof v === "string") out.push(key + jsonString(v, ascii));
        else {
          out.push(key);
          write(v, depth + 1, out);
        }
      }
      if (keys.length > 0) out.push("}");
    }
  };
  const out: string[] = [];
  write(v, 0, out);
  return out.length === 1 ? out[0]! : out.join("");
}

/** How deep below the value dumped containers are remembered (pyDumps()). */
const MEMO_DEPTH = 2;

// Compiling this class costs a quarter of a millisecond: only when a non-ASCII string is printed.
let notPrintable: RegExp | undefined;
const NOT_PRINTABLE = {
  test: (ch: string) =>
    (notPrintable ??= /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u).test(ch),
};

/** Python's `repr(str)`. */
export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else if (c < 0x7f || !NOT_PRINTABLE.test(ch)) out += ch;
    else if (c < 0x100) out += "\\x" + c.toString(16).padStart(2, "0");
    else if (c < 0x10000) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += "\\U" + c.toString(16).padStart(8, "0");
  }
  return out + quote;
}

/**
 * Python's `repr()` of a decoded value (dicts in insertion order). Into one list of pieces
 * joined once: a container's text joined on its own was copied again at every level above it
 * (a dict 500 deep over 6,000 keys took 500 ms to plan).
 */
export function pyRepr(v: PyValue): string {
  if (v === null || typeof v !== "object" || v instanceof PyInt || v instanceof PyFloat) {
    return scalarRepr(v);
  }
  const out: string[] = [];
  reprInto(v, out);
  return out.join("");
}

function scalarRepr(v: null | boolean | string | PyInt | PyFloat): string {
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "string") return strRepr(v);
  return v instanceof PyInt ? v.text : v.repr;
}

function reprInto(v: PyValue, out: string[]): void {
  if (v === null || typeof v !== "object" || v instanceof PyInt || v instanceof PyFloat) {
    out.push(scalarRepr(v));
  } else if (Array.isArray(v)) {
    out.push("[");
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(", ");
      reprInto(v[i]!, out);
    }
    out.push("]");
  } else {
    out.push("{");
    let first = true;
    v.forEach((x, k) => {
      out.push(first ? "" : ", ", strRepr(k), ": ");
      first = false;
      reprInto(x, out);
    });
    out.push("}");
  }
}

/** Python's `str()` of a decoded value. */
export function pyStr(v: PyValue): string {
  return typeof v === "string" ? v : pyRepr(v);
}

/** Python truthiness. */
export function pyTruthy(v: PyValue | undefined): boolean {
  if (v === undefined || v === null || v === false || v === "") return false;
  if (v instanceof PyInt) return v.text !== "0";
  if (v instanceof PyFloat) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  return true;
}
