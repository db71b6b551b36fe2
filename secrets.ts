/**
 * Which names carry secrets (design section 8), and redaction of values for
 * `--explain`, `--capture` and logs. Pure.
 *
 * @module
 */

import { parseJsonText } from "./json.ts";
import type { PyDict, PyValue } from "./pyjson.ts";
import { MAX_JSON_DEPTH, PLATFORMS, WORKLOADS } from "./types.ts";

/** What a secret value is replaced with. */
export const REDACTED = "<redacted>";

/** Names that are secret whatever the patterns say (design section 8). */
export const ALWAYS_SECRET: ReadonlySet<string> = new Set([
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AZUREML_RUN_TOKEN",
  "MODAL_IDENTITY_TOKEN",
]);
/**
 * Names that match a pattern but hold no secret: nss_wrapper's passwd file
 * path, and the opt-in list of `VAR_FILE` variables (names; hiding it would
 * hide those names in `--explain` and make a capture replay without them).
 */
const NEVER_SECRET = new Set(["NSS_WRAPPER_PASSWD", "CHAMELEON_SECRET_FILES"]);
const SECRET_PATTERN = /SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE_KEY|_KEY$|CREDENTIAL/;
const NOT_SECRET_SUFFIX = /_(URI|URL|ADDRESS|FILE|PATH|DIR|ID|NAME)$/;
/** SECRET_PATTERN before normalising (case-insensitive, `-` and `.` for `_`). */
const MAYBE_SECRET = /SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE[-._]KEY|[-._]KEY$|CREDENTIAL/i;
/**
 * Any non-ASCII character: upper-casing can turn other letters into ASCII
 * ones (U+017F, the long s, into "S"), so such names take the long way. A
 * pattern of its own, without `i`: V8 compiling a case-insensitive class of
 * every non-ASCII character (the case of each is looked up) cost a start about
 * 1.4 million instructions (callgrind).
 */
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * Whether a variable or hyperparameter name carries a secret. Hyphens and dots
 * count as underscores, so the hyperparameter `api-key` is as secret as `api_key`.
 */
export function isSecretName(name: string): boolean {
  // Most names hold no secret word in any case: one test answers them without
  // normalising (a plan asks about every variable, 10,000 SM_HP_* included).
  // Every always-secret name holds one (a test checks), so none is missed here.
  if (!MAYBE_SECRET.test(name) && !NON_ASCII.test(name)) return false;
  const n = name.toUpperCase().replace(/[-.]/g, "_");
  return ALWAYS_SECRET.has(n) ||
    (!NEVER_SECRET.has(n) && SECRET_PATTERN.test(n) && !NOT_SECRET_SUFFIX.test(n));
}

/**
 * Whether an error message about `value` at `path` may quote it: not when any
 * key on the way names a secret (`/env/set/DB_PASSWORD`), nor for a word of a
 * command (`/commands/training/argv/3`), which may be the value of a secret
 * flag before it, nor for a command given as one string that holds a secret
 * flag; exit lines reach logs and SageMaker's failure file.
 */
export function mayQuoteAt(path: readonly (string | number)[], value?: unknown): boolean {
  if (path.some((key) => typeof key === "string" && isSecretName(key))) return false;
  if (path.at(-2) === "argv") return false;
  if (path.at(-1) !== "argv" || typeof value !== "string") return true;
  // A command given as one string: quoted only when none of its words would be hidden.
  const words = value.split(/\s+/);
  return redactArgs(words).every((w, i) => w === words[i]);
}

/** A secret file's value: like `$(< file)`, trailing newlines are not part of it. */
export function secretFileValue(text: string): string {
  // By hand: /[\r\n]+$/ read each run of line ends inside the text again from each of them.
  let end = text.length;
  for (let c = text.charCodeAt(end - 1); c === 10 || c === 13; c = text.charCodeAt(end - 1)) end--;
  return text.slice(0, end);
}

/** Text that may hold a JSON object or array. */
const JSON_TEXT = /^\s*[[{]/;

/**
 * Whether `text` opens like a JSON object or array. Asked of every value
 * (10,000 hyperparameters): one character answers most without the regex.
 */
function jsonLike(text: string): boolean {
  const c = text.charCodeAt(0);
  return (c === 0x7b || c === 0x5b || c <= 0x20) && JSON_TEXT.test(text); // { [ or a blank
}
/** A flag with its value in the same word: `--api-key=abc`. */
const FLAG_WITH_VALUE = /^-+([^=]+)=(.*)$/s;
/**
 * A variable assigned in a command's word (`API_TOKEN=abc python app.py`,
 * `env API_TOKEN=abc ...`), or a property (`--conf spark.hadoop.fs.s3a.secret.key=abc`).
 * Like a flag's value, hidden in its own word only: a program's
 * `max_tokens=100000` argument has the same form.
 */
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/s;

/**
 * Hadoop's Azure storage keys and SAS tokens are named by the account or
 * container they open (`fs.azure.account.key.<account>.dfs.core.windows.net`),
 * so no secret word ends their names.
 */
const AZURE_STORAGE_SECRET = /(?:^|\.)fs\.azure\.(?:account\.key|sas)\./i;

/** Whether a Spark, Hadoop or Java property (or a variable) of this name holds a secret. */
export function isSecretProperty(name: string): boolean {
  return isSecretName(name) || AZURE_STORAGE_SECRET.test(name);
}

/** Whether a command-line word names a secret (`--api_key`, `-password`) and takes the next word. */
function secretFlag(word: unknown): boolean {
  return typeof word === "string" && word.startsWith("-") && !word.includes("=") &&
    isSecretName(word.replace(/^-+/, ""));
}

/**
 * Whether `words[i]` is the value of a secret flag before it. Not another
 * long flag (`--use_auth_token --model x`); a word with one dash may be a
 * value (`-Zq9x...`, `-1`), so it counts as one.
 */
function takenBySecretFlag(words: readonly unknown[], i: number): boolean {
  const word = words[i];
  return i > 0 && secretFlag(words[i - 1]) &&
    (typeof word === "number" || (typeof word === "string" && !word.startsWith("--")));
}

/**
 * The value of `--secret-name=value` or `SECRET_NAME=value` (secret by its
 * name); undefined for any other word.
 */
export function joinedSecret(word: unknown): string | undefined {
  if (typeof word !== "string") return undefined;
  const joined = FLAG_WITH_VALUE.exec(word) ?? ASSIGNMENT.exec(word);
  return joined !== null && isSecretProperty(joined[1]!) ? joined[2]! : undefined;
}

/**
 * Python's json also reads NaN and Infinity: as null here, outside string
 * literals. JSON nested deeper than {@linkcode MAX_JSON_DEPTH} is
 * {@linkcode TOO_DEEP}: the walks below recurse per level, so such a text is
 * not looked into but hidden whole (nothing a script takes nests that deep).
 */
function parseLenient(text: string): unknown {
  let value: unknown;
  try {
    value = parseJsonText(text);
  } catch {
    // A string that does not close runs to the end (a backslash there included): the text is
    // no JSON then, whatever follows. Tried again from each quote inside it, the string cost the
    // square of its length (a cut-off JSON-in-JSON value of 80 KB: seconds in every plan).
    const plain = text.replace(
      /"(?:[^"\\]|\\[^])*(?:"|\\?$)|-?Infinity|NaN/g,
      (m) => m[0] === '"' ? m : "null",
    );
    value = parseJsonText(plain); // throws when it is not JSON after all
  }
  // Each level takes two characters at least: most texts are too short to nest too deep.
  if (text.length <= 2 * MAX_JSON_DEPTH) return value;
  return nestedDeeperThan(value, MAX_JSON_DEPTH) ? TOO_DEEP : value;
}

/** What {@linkcode parseLenient} gives for JSON nested too deep to walk. */
const TOO_DEEP = Symbol("too deep");

/** Whether parsed JSON nests arrays or objects deeper than `limit`; walked without recursion. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth + 1 > limit) return true;
    for (const c of Object.values(v)) {
      if (c !== null && typeof c === "object") stack.push([c, depth + 1]);
    }
  }
  return false;
}

/**
 * Secret values inside a JSON value: strings and numbers under secret-named
 * keys, inside JSON held in strings too (Python's NaN and Infinity allowed),
 * and in a list of arguments (the shape of SM_USER_ARGS) the word after a
 * secret-named flag or the value of `--secret-name=value`.
 */
export function secretsInJson(
  value: unknown,
  out: Set<string> = new Set(),
  opts: { readonly flags?: boolean } = {},
): Set<string> {
  const flags = opts.flags ?? true;
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      const joined = flags ? joinedSecret(v) : undefined;
      if (flags && takenBySecretFlag(value, i)) out.add(String(v));
      else if (joined !== undefined) out.add(joined);
      else secretsInJson(v, out, opts);
    });
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (isSecretName(k) && (typeof v === "string" || typeof v === "number")) out.add(String(v));
      else secretsInJson(v, out, opts);
    }
  } else if (typeof value === "string" && jsonLike(value)) {
    // JSON inside a string (a dict-valued hyperparameter in hyperparameters.json).
    let inner: unknown;
    try {
      inner = parseLenient(value);
    } catch {
      // Not JSON after all (a trailing comma, a Python dict's repr): its pairs as text.
      return secretsInText(value, out);
    }
    if (inner === TOO_DEEP) out.add(value);
    else secretsInJson(inner, out, opts);
  }
  return out;
}

/**
 * A `KEY:`, `"KEY":`, `\"KEY\":` (JSON escaped in a string) or `KEY=` of a
 * pair (its value is read from where it ends), the key in group 2. An unquoted key is looked for only where a run
 * of key characters starts, its digits, dots and dashes before the first
 * letter passed over: a key starting further into the run could only end
 * where the run does, as one from its first letter did, so trying each of
 * them cost a 100 KB token in a file the square of its length (minutes).
 */
const TEXT_KEY = /(?:(\\"|["'])|(?<![\w.-])[0-9.-]*)([A-Za-z_][\w.-]*)\1[ \t]*[:=][ \t]*/g;
/**
 * A JSON string escaped inside a double-quoted string (JSON a YAML or JSON
 * string holds: `"{\"password\": \"pw\"}"`), where a pair's value whose key
 * is escaped so starts: `\"` opens and closes it; inside, an escaped JSON
 * escape (`\\` and the escaped character after it: `\\\"` is a quote of the
 * value) or any other character or escape.
 */
const ESCAPED_QUOTED = /\\"(?:[^"\\\n]|\\[^"\\\n]|\\\\(?:[^\\\n]|\\[^\n]))*\\"/y;
/** A JSON number where such a pair's value starts (escaping leaves one as it is). */
const ESCAPED_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.+-])/y;
/**
 * A quoted value where a pair's value starts, on its line: double-quoted with backslash escapes
 * (JSON, Python, YAML), single-quoted with `''` for a quote (YAML) or with `\\'` (Python's repr
 * of a string holding both quotes).
 */
const QUOTED = [
  /"(?:[^"\\\n]|\\.)*"/y,
  /'(?:[^'\n]|'')*'/y,
  /'(?:[^'\\\n]|\\.)*'/y,
];
/**
 * What a plain value's own place is not replaced at: nothing, a YAML block scalar's header (its
 * lines follow), a collection, an anchor, an alias, a tag or a quote not closed on its line.
 */
const NOT_A_SCALAR = /^(?:$|[|>][-+1-9]*$|[[{&*!'"])/;

/**
 * Each pair of `text` with a secret-named key, as {@linkcode secretsInText} reads it: the values it
 * may hold as the text holds them, and where its value stands when that is a scalar on its line.
 * An unquoted value whose key an earlier pair's value on its line holds ends where the next
 * secret-named key starts, if that comes first: read to the line's end as well, the values of a
 * line of many pairs were each the rest of the line (20,000 `password=x` pairs in 220 KB: 20,000
 * values of 110 KB on average, 25 s to collect and scrub), while the earlier value and the cut
 * ones hold the same characters. Where a value stands does not change.
 */
function secretPairs(
  text: string,
  each: (
    values: readonly string[],
    place: readonly [number, number] | undefined,
    jsonNumber?: boolean,
  ) => void,
): void {
  const depth = new FlowDepth(text);
  const ends = new ValueEnds(text);
  // Where the values of the pairs so far end: a key before it is inside one (on the same line).
  let held = -1;
  // An unquoted value inside an earlier one, waiting for the next secret-named key.
  let inside:
    | { at: number; end: number; flow: boolean; place: readonly [number, number] | undefined }
    | undefined;
  const flush = (next: number) => {
    if (inside === undefined) return;
    const { at, end, flow, place } = inside;
    const cut = ends.trimmed(at, Math.min(end, next));
    const value = text.slice(at, cut);
    if (flow) each([value], place);
    else {
      const first = ends.blanksAfter(at, Math.min(ends.stop(at), cut));
      each([value, text.slice(first, ends.trimmed(first, Math.min(ends.stop(at), cut)))], place);
    }
    inside = undefined;
  };
  for (const m of text.matchAll(TEXT_KEY)) {
    if (!isSecretName(m[2]!)) continue;
    flush(m.index!);
    const nested = m.index! < held;
    const at = m.index! + m[0].length;
    const escaped = m[1] === '\\"';
    const quoted = (escaped ? [ESCAPED_QUOTED] : QUOTED).map((q) => {
      q.lastIndex = at;
      return q.exec(text)?.[0];
    }).filter((q) => q !== undefined);
    const open = depth.at(m.index!);
    // A pair inside a quoted string (`"--ServerApp.token="`, `'{"password": "x"}'`) has its
    // place replaced only when its value is quoted otherwise: the string's own quote, or what
    // follows it, is not the value's.
    const enclosing = depth.quote;
    ESCAPED_NUMBER.lastIndex = at;
    const number = escaped && quoted.length === 0 ? ESCAPED_NUMBER.exec(text)?.[0] : undefined;
    if (escaped && quoted.length > 0) {
      // Inside the string that holds the JSON: the value's escaped quotes are its own.
      const value = quoted[0]!;
      const place: [number, number] = [at + 2, at + value.length - 2];
      each([text.slice(...place)], place);
      held = Math.max(held, at + value.length);
    } else if (number !== undefined) {
      // A number of that JSON: its place says so, and it stays a number (the JSON still parses).
      const place: [number, number] = [at, at + number.length];
      each([number], place, true);
      held = Math.max(held, at + number.length);
    } else if (quoted.length > 0) {
      // The longest reading: Python's \\' and YAML's '' each end the other's string early.
      const longest = quoted.reduce((a, b) => b.length > a.length ? b : a);
      const place: [number, number] | undefined = longest[0] === enclosing
        ? undefined
        : [at + 1, at + longest.length - 1];
      each(quoted.map((q) => q.slice(1, -1)), place);
      held = Math.max(held, at + longest.length);
    } else if (open > 0) {
      // In a flow: up to a comma, a closing bracket or the line end, trailing blanks left out.
      const end = ends.trimmed(at, ends.stop(at));
      const scalar = enclosing === "" && !NOT_A_SCALAR.test(text.slice(at, end));
      const place: [number, number] | undefined = scalar ? [at, end] : undefined;
      if (nested) inside = { at, end, flow: true, place };
      else each([text.slice(at, end)], place);
      held = Math.max(held, end);
    } else {
      // The line's rest without a comment and trailing blanks, and its part before a comma or
      // a closing bracket, trimmed.
      const end = ends.trimmed(at, ends.comment(at));
      // A comma ending the line stays out of the pair's place: in a flow written over several
      // lines (JSON-style YAML), which the count above starts anew on each line, it parts the
      // pair from the next.
      const own = end > at && text.charCodeAt(end - 1) === 0x2c ? ends.trimmed(at, end - 1) : end;
      // A quote or a closing bracket in it may end a structure the line is part of: then only
      // its part before the first comma or closing bracket, when that holds no quote (the last
      // pair of a flow written over several lines, `DB_PASSWORD: xQ9}`, whose value a scrubbing
      // of values from 4 characters leaves shown; in a plain scalar, `a}b`, its start).
      const plain = enclosing === "" && !NOT_A_SCALAR.test(text.slice(at, own));
      const stop = ends.stop(at);
      const place: [number, number] | undefined = !plain
        ? undefined
        : !ends.quoteBefore(at, own)
        ? [at, own]
        : stop < own && !ends.quoteBefore(at, stop)
        ? [at, ends.trimmed(at, stop)]
        : undefined;
      if (nested) inside = { at, end, flow: false, place };
      else {
        const cut = Math.min(ends.stop(at), end);
        const first = ends.blanksAfter(at, cut);
        each([text.slice(at, end), text.slice(first, ends.trimmed(first, cut))], place);
      }
      held = Math.max(held, end);
    }
  }
  flush(text.length);
}

/**
 * Values under secret-named keys in text that does not parse (a config with
 * a syntax error, which a capture still holds, a Python dict's or list's repr
 * in `SM_USER_ARGS`), as the text holds them: for each `KEY: value`,
 * `"KEY": "value"` or `KEY=value`, a quoted value; else, inside brackets
 * opened before it on its line (a Python repr, JSON or a YAML flow on one
 * line), its part before a comma or a closing bracket, where the next pair
 * starts; else the line's rest without a comment and, when a comma or a
 * closing bracket may end it, its part before that too (after the whole,
 * which is scrubbed first).
 */
export function secretsInText(text: string, out: Set<string> = new Set()): Set<string> {
  secretPairs(text, (values) => {
    for (const v of values) if (v !== "") out.add(v);
  });
  return out;
}

/**
 * `text` with the value of each secret-named pair ({@linkcode secretsInText}) replaced where it
 * stands, whatever its length: its own place, where a value too short to scrub elsewhere
 * (`DB_PASSWORD: xQ9`) is hidden all the same (design section 8). A quoted value keeps its
 * quotes; a block scalar's lines, a collection or a quote that does not close on its line are
 * left to the scrubbing, so the text still parses as it did. With `yaml`, a plain number becomes
 * {@linkcode NUMBER_PLACEHOLDER}, a number still, and a boolean or null is kept.
 */
export function hideSecretPairs(text: string, opts: { readonly yaml?: boolean } = {}): string {
  return hidePairs(text, opts.yaml === true ? "yaml" : "all");
}

/**
 * A YAML 1.2 (core schema) plain scalar that reads as a number: an int
 * (decimal, `0o`, `0x`), a float, an infinity or NaN.
 */
const YAML_NUMBER =
  /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** A YAML 1.2 (core schema) plain scalar that reads as a boolean or null. */
const YAML_CONSTANT = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL|~)$/;

/**
 * In YAML, the number that stands for a secret-named pair's number: the
 * value keeps its type, so a replay refuses what the live start refused
 * (the config's secret-named keys take strings only) and reads a number
 * where one was, without a digit of it.
 */
export const NUMBER_PLACEHOLDER = "0";

/**
 * YAML text with each secret-named pair's plain number replaced by
 * {@linkcode NUMBER_PLACEHOLDER} where it stands, and nothing else: done
 * before the text is scrubbed, which would make a number of 4 digits or more
 * the string `<redacted>`.
 */
export function hideSecretNumbers(text: string): string {
  return hidePairs(text, "numbers");
}

function hidePairs(text: string, mode: "all" | "yaml" | "numbers"): string {
  let out = "";
  let copied = 0;
  secretPairs(text, (_, place, jsonNumber) => {
    // A pair inside the value of one before it (`password=a token=b` on one line) is hidden already.
    if (place === undefined || place[0] < copied || place[0] === place[1]) return;
    if (jsonNumber === true) {
      // A number of JSON escaped in a string: a number still, whatever the text around it.
      out += text.slice(copied, place[0]) + NUMBER_PLACEHOLDER;
      copied = place[1];
      return;
    }
    // A quoted value's place starts after its quote: a string, whatever it reads as.
    const quoted = place[0] > 0 && `"'`.includes(text[place[0] - 1]!);
    const plain = mode !== "all" && !quoted ? text.slice(place[0], place[1]) : undefined;
    // A YAML boolean or null is kept: it holds no secret, and `<redacted>` would be a string.
    if (plain !== undefined && YAML_CONSTANT.test(plain)) return;
    const number = plain !== undefined && YAML_NUMBER.test(plain);
    if (mode === "numbers" && !number) return;
    out += text.slice(copied, place[0]) + (number ? NUMBER_PLACEHOLDER : REDACTED);
    copied = place[1];
  });
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Whether a UTF-16 code unit is one that `\s` matches and `trim()` removes: ECMAScript's white
 * space and line terminators.
 */
function isBlank(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f ||
    c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * Where the unquoted values of a text's pairs end, for places asked in increasing order. Each
 * answer is the nearest character of its kind, kept until a later place passes it, and trailing
 * blanks are measured once for each place they end at: a line of 20,000 `password=x` pairs,
 * each reading the rest of the line, cost the square of the line's length (220 KB: 25 s).
 */
class ValueEnds {
  #lineEnd = -1;
  /** The last `\r`, U+2028 or U+2029 on the line, which a comment's `.*$` cannot pass. */
  #lastBreak = -1;
  #stop = -1;
  #quote = -1;
  #comment = -1;
  readonly #blankFrom = new Map<number, number>();
  constructor(readonly text: string) {}

  /** The end of the line of `at` (a line end or the text's end). */
  #line(at: number): number {
    if (at > this.#lineEnd) {
      const t = this.text;
      const eol = t.indexOf("\n", at);
      this.#lineEnd = eol < 0 ? t.length : eol;
      this.#lastBreak = -1;
      for (let i = this.#lineEnd - 1; i >= at; i--) {
        const c = t.charCodeAt(i);
        if (c === 13 || c === 0x2028 || c === 0x2029) {
          this.#lastBreak = i;
          break;
        }
      }
    }
    return this.#lineEnd;
  }

  /** The first comma or closing bracket at or after `at` on its line, else the line's end. */
  stop(at: number): number {
    const end = this.#line(at);
    if (this.#stop < at) this.#stop = this.#firstOf(at, end, ",}]");
    return this.#stop;
  }

  /** Whether a quote or a closing bracket stands at or after `at`, before `end` (on its line). */
  quoteBefore(at: number, end: number): boolean {
    const lineEnd = this.#line(at);
    if (this.#quote < at) this.#quote = this.#firstOf(at, lineEnd, `"'}]`);
    return this.#quote < end;
  }

  /** The first place from `at` before `end` holding one of `chars`, else `end`. */
  #firstOf(at: number, end: number, chars: string): number {
    const t = this.text;
    let i = at;
    while (i < end && !chars.includes(t[i]!)) i++;
    return i;
  }

  /**
   * Where a comment cuts the line's rest from `at`, as `/(?:^|\s)#.*$/` finds one in it: a `#`
   * at `at` or a blank before a `#`, with no line break after the `#`; else the line's end.
   */
  comment(at: number): number {
    const end = this.#line(at);
    const t = this.text;
    if (t.charCodeAt(at) === 0x23 && this.#lastBreak < at) return at;
    if (this.#comment < at) {
      let i = Math.max(at, this.#lastBreak);
      for (; i + 1 < end; i++) {
        if (t.charCodeAt(i + 1) === 0x23 && isBlank(t.charCodeAt(i))) break;
      }
      this.#comment = i + 1 < end ? i : end;
    }
    return this.#comment;
  }

  /** The first character at or after `from`, before `to`, that is no blank; else `to`. */
  blanksAfter(from: number, to: number): number {
    const t = this.text;
    let i = from;
    while (i < to && isBlank(t.charCodeAt(i))) i++;
    return i;
  }

  /** `to` less the blanks before it, not before `from` (both on one line). */
  trimmed(from: number, to: number): number {
    let start = this.#blankFrom.get(to);
    if (start === undefined) {
      const t = this.text;
      start = to;
      while (start > 0 && t.charCodeAt(start - 1) !== 10 && isBlank(t.charCodeAt(start - 1))) {
        start--;
      }
      this.#blankFrom.set(to, start);
    }
    return Math.max(from, start);
  }
}

/**
 * How many brackets are open at a place of a text, counted from the start of its line outside
 * quoted strings; asked of places in increasing order, each character is read once.
 */
class FlowDepth {
  #at = 0;
  #depth = 0;
  #quote = "";
  constructor(readonly text: string) {}

  /** The quote open at the last place asked (`"` or `'`), or "". */
  get quote(): string {
    return this.#quote;
  }

  /** The brackets open at `index`, not before the last place asked. */
  at(index: number): number {
    const t = this.text;
    for (; this.#at < index; this.#at++) {
      const c = t[this.#at]!;
      if (c === "\n") {
        this.#depth = 0;
        this.#quote = "";
      } else if (this.#quote !== "") {
        if (c === "\\" && t[this.#at + 1] !== "\n") this.#at++;
        else if (c === this.#quote) this.#quote = "";
      } else if (c === '"' || c === "'") this.#quote = c;
      else if (c === "{" || c === "[") this.#depth++;
      else if ((c === "}" || c === "]") && this.#depth > 0) this.#depth--;
    }
    return this.#depth;
  }
}

/**
 * The secret values an environment holds: secret-named variables' values, and
 * the values under secret-named keys of JSON any variable holds, a secret-named
 * one too (`DB_CREDENTIALS='{"password": ...}'`: its name hides it whole where
 * it stands, but a copy of the password elsewhere is a secret's copy all the
 * same, design section 8). `opts` as for {@linkcode secretsInJson}.
 */
export function envSecrets(
  env: Readonly<Record<string, string>>,
  out: Set<string> = new Set(),
  opts: { readonly flags?: boolean } = {},
): Set<string> {
  for (const [k, v] of Object.entries(env)) {
    if (isSecretName(k)) out.add(v);
    secretsInJson(v, out, opts);
  }
  return out;
}

/**
 * A value holding a JSON list of arguments (`SM_USER_ARGS`) with the
 * word after a secret-named flag and a `--secret-name=value`'s value hidden,
 * as the command line's are (a short number there is scrubbed nowhere else);
 * undefined when it is no such list or hides nothing.
 */
export function redactArgsText(text: string): string | undefined {
  if (!text.startsWith("[")) return undefined;
  let words: unknown;
  try {
    words = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(words) || !words.every((w) => typeof w === "string")) return undefined;
  const hidden = redactArgs(words);
  return hidden.some((w, i) => w !== words[i]) ? JSON.stringify(hidden) : undefined;
}

/**
 * JSON text with every value under a secret-named key replaced whole (a
 * nested dict such as `"credentials": {...}` included, and in strings holding
 * such JSON), re-serialised;
 * undefined when the text is not JSON or holds no secret-named key. Python's
 * NaN and Infinity come back as null: only a text that held a secret changes.
 * JSON nested too deep to look into is `<redacted>` whole.
 */
export function redactJsonText(text: string): string | undefined {
  // Asked of every hyperparameter: the common answer comes before redactParsed's
  // closures, whose context V8 would allocate on entry for every call.
  return jsonLike(text) ? redactParsed(text) : undefined;
}

function redactParsed(text: string): string | undefined {
  let value: unknown;
  try {
    value = parseLenient(text);
  } catch {
    return undefined;
  }
  if (value === TOO_DEEP) return REDACTED;
  let changed = false;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    // JSON held in a string (encoded twice): its secrets are hidden too, and the string re-written.
    if (typeof v === "string") {
      const inner = redactJsonText(v);
      if (inner === undefined) return v;
      changed = true;
      return inner;
    }
    if (v === null || typeof v !== "object") return v;
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => {
        if (!isSecretName(k)) return [k, walk(x)];
        changed = true;
        return [k, REDACTED];
      }),
    );
  };
  const out = walk(value);
  return changed ? JSON.stringify(out) : undefined;
}

/**
 * A decoded value with the values under secret-named keys replaced, at any
 * depth (a dict-valued hyperparameter `creds={"password": ...}`), and in
 * strings holding such JSON; the same value when nothing in it is secret.
 */
export function redactPyValue(v: PyValue): PyValue {
  return redacted(v) ?? v;
}

/**
 * {@linkcode redactPyValue}, undefined when nothing in `v` is secret: each value is visited
 * once. Asking first whether a value held a secret, then redacting each of its parts, asked
 * again at every level below: a dict nested 500 deep over 8,000 keys, a secret among them,
 * took 734 ms to plan.
 */
function redacted(v: PyValue): PyValue | undefined {
  // A string holding JSON with secret-named keys (a hyperparameter encoded twice by its author).
  if (typeof v === "string") return redactJsonText(v);
  if (Array.isArray(v)) {
    let copy: PyValue[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const r = redacted(v[i]!);
      if (r !== undefined) (copy ??= [...v])[i] = r;
    }
    return copy;
  }
  return v instanceof Map ? redactedDict(v) : undefined;
}

/**
 * redacted() of a dict: a new dict when any key is secret-named or any value holds a secret. A
 * function of its own: a closure's context is allocated when its function is entered, so
 * redacted() would allocate one for each of 10,000 scalar values.
 */
function redactedDict(d: PyDict): PyDict | undefined {
  let changed: Map<string, PyValue> | undefined;
  // forEach: a for-of over a 10,000-entry map allocates an entry pair per key.
  d.forEach((x, k) => {
    const r = isSecretName(k) ? REDACTED : redacted(x);
    if (r !== undefined) (changed ??= new Map()).set(k, r);
  });
  if (changed === undefined) return undefined;
  const out: PyDict = new Map();
  d.forEach((x, k) => out.set(k, changed!.has(k) ? changed!.get(k)! : x));
  return out;
}

/** Whether a command-line word is a secret-named flag, alone (`--token`) or with its value (`--token=X`). */
export function isSecretFlag(word: string): boolean {
  return secretFlag(word) || joinedSecret(word) !== undefined;
}

/**
 * Secret-named fields of JSON held in command-line words (`--config
 * '{"api_key": ...}'`): values of named keys, hidden wherever they appear. A
 * flag's own value, or a `SECRET_NAME=value` word's, is hidden in its word only
 * ({@linkcode redactArgs}): a flag like --max-new-tokens, or a program's
 * `max_tokens=100000` argument, would otherwise scrub its number everywhere.
 */
export function secretsInArgs(words: readonly string[], out: Set<string> = new Set()): Set<string> {
  for (const word of words) secretsInJson(word, out, { flags: false });
  out.delete("");
  return out;
}

/**
 * Command-line words as they may be shown: the word after a secret-named
 * flag, the value of `--secret-name=value` and a word that is a known secret
 * replaced whatever their length; JSON with secret-named keys re-written with
 * those values replaced whole (however the text escaped them); known secret
 * values of {@linkcode MIN_SECRET_LENGTH} or more replaced inside any other word.
 */
export function redactArgs(words: readonly string[], secrets: readonly string[] = []): string[] {
  // Built once for all words: 5,000 words and 500 secrets would be millions of comparisons.
  const known = new Set(secrets);
  const hide = scrubber(secrets);
  return words.map((word, i) => {
    if (takenBySecretFlag(words, i) || known.has(word)) return REDACTED;
    const joined = joinedSecret(word);
    if (joined !== undefined) return word.slice(0, word.length - joined.length) + REDACTED;
    return jsonHidden(hide(word));
  });
}

/**
 * A word with the values under its secret-named JSON keys hidden: as written
 * when scrubbing already hid them all, else re-serialised with them replaced
 * (a dict under `credentials`, a value escaped as `\/` or `\u00e4`).
 */
function jsonHidden(word: string): string {
  const hidden = redactJsonText(word);
  if (hidden === undefined || hidden === REDACTED) return hidden ?? word;
  return hidden === JSON.stringify(parseLenient(word)) ? word : hidden;
}

/** The body of a JSON string literal of `s`; with `ascii`, as Python's json writes it by default. */
function jsonBody(s: string, ascii: boolean): string {
  const body = JSON.stringify(s).slice(1, -1);
  return ascii
    ? body.replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"))
    : body;
}

/**
 * The forms a secret value takes in text: as is; escaped inside a JSON
 * string, with non-ASCII as is or as `\uXXXX` (Python's default); escaped
 * twice, as JSON held in a JSON string (the SageMaker SDK writes dict-valued
 * hyperparameters so); and each of those inside a single-quoted YAML scalar. An empty value
 * or a plain word has none (see {@linkcode hiddenEverywhere}), nor a short
 * number unless `numbers` asks for them (text that is the value's own place).
 */
export function secretForms(
  values: Iterable<string>,
  opts: { readonly numbers?: boolean } = {},
): string[] {
  const forms = new Set<string>();
  for (const v of values) {
    if (!hiddenEverywhere(v) && !(opts.numbers === true && SHORT_NUMBER.test(v))) continue;
    const own = [v];
    for (const ascii of [false, true]) {
      const once = jsonBody(v, ascii);
      own.push(once, jsonBody(once, false));
    }
    for (const form of own) {
      forms.add(form);
      // In a single-quoted YAML scalar, escaped ones too: JSON a YAML config's variable holds.
      if (form.includes("'")) forms.add(form.replaceAll("'", "''"));
    }
  }
  // Longest first: replacing a shorter form first could break a longer one that holds it.
  return [...forms].sort((a, b) => b.length - a.length);
}

/** The shortest secret value replaced inside other text (shorter ones would garble it). */
export const MIN_SECRET_LENGTH = 4;

// The words every config and JSON value is full of, and the context's own vocabulary: a
// `DB_PASSWORD=local` hidden everywhere would turn the context id into `<redacted>-unknown`.
const PLAIN_WORDS: ReadonlySet<string> = new Set([
  "true",
  "false",
  "null",
  "none",
  "yes",
  "no",
  "on",
  "off",
  ...PLATFORMS,
  ...WORKLOADS,
]);

/**
 * A whole number of up to 7 digits: what a secret-named count holds
 * (`MAX_INPUT_TOKENS=1024`, a `max_new_tokens` hyperparameter), and what
 * every system file is full of (uids, ports, cgroup limits).
 */
const SHORT_NUMBER = /^[+-]?\d{1,7}$/;

/**
 * Whether a secret value is hidden wherever it appears, not only in its own
 * variable. A secret-named variable holding a plain word
 * (`TOKENIZERS_PARALLELISM=false`: the name matches TOKEN) or a short number
 * (`MAX_NEW_TOKENS=1000`) shows `<redacted>` itself, but hiding every `false`
 * or `1000` elsewhere would garble the output and break what a capture keeps
 * for its replay (uid 1000 in /etc/passwd and the image config).
 */
export function hiddenEverywhere(value: string): boolean {
  return value !== "" && !PLAIN_WORDS.has(value.toLowerCase()) && !SHORT_NUMBER.test(value);
}

/**
 * A URL's scheme and authority (RFC 3986 section 3.2), where a password stands
 * as `user:password@`. The authority ends where a path, query or fragment
 * starts, and at characters no URL holds unencoded that JSON, shell and
 * lists put around one (quotes, a backslash, braces, a comma, a semicolon),
 * so `"http://h:5000","owner":"me@corp.com"` is two strings, not a password.
 * Looked for only where a run of scheme characters starts, the digits and
 * signs before its first letter in group 1 (as for {@linkcode TEXT_KEY}: a
 * long hex token beside a URL cost the square of its length).
 */
const URL_AUTHORITY =
  /(?<![A-Za-z0-9+.-])([0-9+.-]*)([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s/?#"'`\\{}<>,;|^]+)/g;

/**
 * The password of a URL authority, split as URL parsers split it (WHATWG,
 * Python's urllib): the user information ends at the last `@`
 * (`me@corp.com:pw@proxy`), the user at its first `:`. Names say nothing of
 * it (`HTTP_PROXY`, `DATABASE_URL` end in no secret word): its place does.
 */
function passwordSpan(authority: string): { start: number; end: number } | undefined {
  const at = authority.lastIndexOf("@");
  const colon = authority.indexOf(":");
  if (at < 0 || colon < 0 || colon + 1 >= at) return undefined;
  return { start: colon + 1, end: at };
}

/**
 * A query parameter (`?name=value`, `&name=value`) of a URL or a route, its
 * value ending where the parameter, the fragment or the URL does.
 */
const QUERY_PARAMETER = /([?&])([A-Za-z0-9_.-]+)=([^&#\s"'`\\{}<>,;|^]+)/g;

/**
 * Query parameters that carry a signed URL's signature, which no secret word
 * names: whoever reads the URL has the access it grants until it expires (an
 * Azure SAS `sig`, whose account is the host name; S3's and GCS's V2
 * `Signature` beside a key id; `X-Amz-Signature`, `X-Goog-Signature`).
 */
const SIGNATURE_PARAMETERS: ReadonlySet<string> = new Set([
  "sig",
  "signature",
  "x-amz-signature",
  "x-goog-signature",
]);

/** Whether a URL's query parameter of this name holds a secret: a secret name, or a signature. */
function isSecretParameter(name: string): boolean {
  return isSecretName(name) || SIGNATURE_PARAMETERS.has(name.toLowerCase());
}

/** Where each URL in `text` holds a password (see {@linkcode passwordSpan}), in order. */
function* urlPasswords(text: string): Generator<{ start: number; end: number }> {
  for (const m of text.matchAll(URL_AUTHORITY)) {
    const span = passwordSpan(m[3]!);
    if (span === undefined) continue;
    const at = m.index + m[1]!.length + m[2]!.length;
    yield { start: at + span.start, end: at + span.end };
  }
}

/** Where each query parameter in `text` holds a secret (see {@linkcode isSecretParameter}), in order. */
function* secretParameters(text: string): Generator<{ start: number; end: number }> {
  for (const m of text.matchAll(QUERY_PARAMETER)) {
    const name = m[2]!;
    if (!isSecretParameter(name)) continue;
    const at = m.index + m[1]!.length + name.length + 1;
    yield { start: at, end: at + m[3]!.length };
  }
}

/** `text` with each of the spans (in order, none overlapping) replaced by {@linkcode REDACTED}. */
function redactSpans(text: string, spans: Iterable<{ start: number; end: number }>): string {
  let out = "";
  let copied = 0;
  for (const { start, end } of spans) {
    out += text.slice(copied, start) + REDACTED;
    copied = end;
  }
  return out + text.slice(copied);
}

/**
 * `text` with each URL's password replaced, whatever its length: its place
 * says what it is. Only there: the same word elsewhere (`postgres` in
 * `postgres://postgres:postgres@db`) is no secret. So is the value of a query
 * parameter with a secret name (`/health?api_key=...`, a JDBC URL's
 * `&password=...`, a presigned URL's `X-Amz-Security-Token=...`), or with a
 * signed URL's signature (an Azure SAS `sig=...`). The parameters are looked
 * for once the passwords are replaced.
 */
export function hideUrlSecrets(text: string): string {
  const out = text.includes("://") ? redactSpans(text, urlPasswords(text)) : text;
  return out.includes("=") && (out.includes("?") || out.includes("&"))
    ? redactSpans(out, secretParameters(out))
    : out;
}

/**
 * Replaces every occurrence of the given secret values in `text`, and the
 * password of every URL in it. A last line of defence for logs; values shorter
 * than MIN_SECRET_LENGTH are left alone, since replacing them would garble
 * unrelated text (a command word that is exactly a secret is replaced whatever
 * its length, by {@linkcode redactArgs} and the plan).
 */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = hideUrlSecrets(text);
  for (const s of deeperForms(out, secrets)) {
    if (out.includes(s)) out = out.split(s).join(REDACTED);
  }
  for (const s of secrets) {
    if (s.length >= MIN_SECRET_LENGTH && out.includes(s)) out = out.split(s).join(REDACTED);
  }
  return out;
}

/** The backslashes before a quote in a value escaped a third time: fewer need no deeper forms. */
const THIRD_ESCAPE = "\\\\\\\\";

/**
 * Forms of `secrets` escaped more often than {@linkcode secretForms} gives (twice), as deep as
 * `text` can hold them, longest first: a secret holding a quote in JSON held in a string of JSON
 * that a JSON string holds (a YAML config's variable, a capture's or a JSON log line's copy of
 * one) is escaped three times or more. Each escape doubles a backslash run, so a text whose
 * longest run has n backslashes holds a form at most log2(n) escapes deeper: a handful of forms,
 * each as long as that run allows, and none for text without four backslashes in a row (a
 * control character escaped a third time has four).
 */
function deeperForms(text: string, secrets: readonly string[]): string[] {
  if (!text.includes(THIRD_ESCAPE)) return [];
  const longest = longestRun(text);
  const known = new Set(secrets);
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH || !s.includes("\\")) continue;
    // A form longer than the text, or with a longer run, is not in it, nor any deeper one.
    for (
      let form = jsonBody(s, false);
      form.length <= text.length && longestRun(form) <= longest;
      form = jsonBody(form, false)
    ) {
      if (!known.has(form)) forms.add(form);
    }
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** The longest run of backslashes in `text`. */
function longestRun(text: string): number {
  let longest = 0;
  for (let i = 0, run = 0; i < text.length; i++) {
    run = text.charCodeAt(i) === 0x5c ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  return longest;
}

/**
 * Lists shorter than this are searched for secret by secret: a text's index
 * scan costs about what a dozen searches of a short value do.
 */
const INDEXED_FROM = 16;
/** Buckets of the index of secrets by four characters of each (a power of two). */
const GRAMS = 1 << 16;

/** A hash of the four characters of `text` from `i` into {@linkcode GRAMS} buckets. */
function gram(text: string, i: number): number {
  return ((text.charCodeAt(i) << 12) ^ (text.charCodeAt(i + 1) << 8) ^
    (text.charCodeAt(i + 2) << 4) ^ text.charCodeAt(i + 3)) & (GRAMS - 1);
}

/**
 * {@linkcode scrub} with the same secrets for many texts (every value of a
 * capture, every string of an `--explain` document, every log line): the same
 * result, but a long list is indexed by four characters of each secret
 * once, and each text looks up the few secrets that may occur in it instead
 * of being searched for each. Searched for each, a capture of 7,000
 * service-link variables and 500 secret-named ones made 3.5 million searches
 * (the cost grew with variables times secrets).
 */
export function scrubber(secrets: readonly string[]): (text: string) => string {
  const long = secrets.filter((s) => s.length >= MIN_SECRET_LENGTH);
  if (long.length < INDEXED_FROM) return (text) => scrub(text, long);
  // The secrets of each bucket in list order, and a byte per bucket to skip empty ones fast.
  const buckets = new Map<number, number[]>();
  const used = new Uint8Array(GRAMS);
  // Where in each secret its four characters start.
  const at = new Int32Array(long.length);
  long.forEach((s, i) => {
    // By the four characters of it whose bucket holds the fewest secrets so far, from its end
    // on: tokens share their first ones (ghp_, sk-proj-, hf_, xoxb-), and passwords of one
    // scheme their last ones (`-prod`). By the last four alone, 8,000 secrets ending alike
    // were compared at each place of a text where their ending stood.
    let best = s.length - MIN_SECRET_LENGTH;
    let fewest = buckets.get(gram(s, best))?.length ?? 0;
    for (let k = best - 1; k >= 0 && fewest > 0; k--) {
      const size = buckets.get(gram(s, k))?.length ?? 0;
      if (size < fewest) [best, fewest] = [k, size];
    }
    const g = gram(s, best);
    at[i] = best;
    const list = buckets.get(g);
    if (list === undefined) buckets.set(g, [i]);
    else list.push(i);
    used[g] = 1;
  });
  // The first secret from `from` on, in list order, that `text` holds (-1: none). A secret
  // the text holds has its four characters where the text has them: only the secrets of their
  // bucket are compared, there (a bucket also holds secrets that merely share its hash).
  const firstHeld = (text: string, from: number): number => {
    let first = -1;
    for (let i = 0; i + MIN_SECRET_LENGTH <= text.length; i++) {
      const g = gram(text, i);
      if (used[g] === 0) continue;
      for (const j of buckets.get(g)!) {
        if (j < from || (first >= 0 && j >= first)) continue;
        const s = long[j]!;
        const start = i - at[j]!;
        if (start >= 0 && text.startsWith(s, start)) first = j;
      }
    }
    return first;
  };
  // A secret that could be there only once another is replaced: one inside `<redacted>`, or
  // one that holds its `<` or `>` and so may run into it. Without any, the secrets a text holds
  // are found in one scan (heldOnce()); with one, the text is scanned again after each secret
  // replaced, as scrub() would find them.
  const appears = long.some((s) => s.includes("<") || s.includes(">") || REDACTED.includes(s));
  return (text) => {
    // As scrub() does: each secret in list order replaced in the text as the earlier ones left it.
    let out = hideUrlSecrets(text);
    for (const s of deeperForms(out, long)) {
      if (out.includes(s)) out = out.split(s).join(REDACTED);
    }
    if (!appears) return heldOnce(out);
    for (let j = firstHeld(out, 0); j >= 0; j = firstHeld(out, j + 1)) {
      out = out.split(long[j]!).join(REDACTED);
    }
    return out;
  };

  /**
   * What replacing each held secret in list order (the loop above) gives, from one scan: a
   * replacement only takes text away, so a secret is there when it comes to its turn where a
   * place it had in `text` is still whole, and `split` takes its places left to right, none
   * overlapping. The loop scanned the text again after each secret it replaced, and copied it
   * each time: a text of 4,000 known tokens took 6 s to capture.
   */
  function heldOnce(text: string): string {
    const places = new Map<number, number[]>();
    for (let i = 0; i + MIN_SECRET_LENGTH <= text.length; i++) {
      const g = gram(text, i);
      if (used[g] === 0) continue;
      for (const j of buckets.get(g)!) {
        const s = long[j]!;
        const start = i - at[j]!;
        if (start < 0 || !text.startsWith(s, start)) continue;
        const list = places.get(j);
        if (list === undefined) places.set(j, [start]);
        else list.push(start);
      }
    }
    if (places.size === 0) return text;
    // The places replaced: none overlap, so each ends where it is marked from.
    const gone = new Uint8Array(text.length);
    const ends = new Map<number, number>();
    for (const j of [...places.keys()].sort((a, b) => a - b)) {
      const length = long[j]!.length;
      let end = 0;
      for (const start of places.get(j)!) {
        if (start < end || gone.subarray(start, start + length).includes(1)) continue;
        end = start + length;
        gone.fill(1, start, end);
        ends.set(start, end);
      }
    }
    const spans = [...ends].sort((a, b) => a[0] - b[0]).map(([start, end]) => ({ start, end }));
    return redactSpans(text, spans);
  }
}

/**
 * `text` from index `from` on, with the secrets of `secrets` (as
 * {@linkcode secretForms} gives them) and URL passwords hidden as
 * {@linkcode scrub} hides them (its query parameters looked for in the text as
 * given, where scrub looks once the passwords are replaced: a parameter inside
 * a URL's user information, `http://u:p&sig=q@h`, is hidden to its end, the
 * host too), and also where the cut at `from` falls inside
 * one: the part after the cut is hidden too, where a search of the cut text
 * would no longer recognise it. A tail kept from a longer stream (a command's
 * stderr for a failure report) starts with a margin of at least the longest
 * form's length before `from`, so a secret that the stream's own cut split
 * lies wholly in that margin and is dropped with it. Each run of hidden
 * characters becomes one {@linkcode REDACTED}.
 */
export function hiddenTail(text: string, from: number, secrets: readonly string[]): string {
  const long = secrets.filter((s) => s.length >= MIN_SECRET_LENGTH);
  const hidden = new Uint8Array(text.length);
  const hide = (start: number, end: number) => hidden.fill(1, start, end);
  for (const s of [...deeperForms(text, long), ...long]) {
    // Overlapping occurrences too; the part already hidden is not filled again (linear per form).
    let done = 0;
    for (let i = text.indexOf(s); i >= 0; i = text.indexOf(s, i + 1)) {
      hide(Math.max(i, done), i + s.length);
      done = i + s.length;
    }
  }
  for (const { start, end } of urlPasswords(text)) hide(start, end);
  for (const { start, end } of secretParameters(text)) hide(start, end);
  let out = "";
  for (let i = Math.max(0, from); i < text.length;) {
    if (hidden[i] === 0) {
      let end = i;
      while (end < text.length && hidden[end] === 0) end++;
      out += text.slice(i, end);
      i = end;
    } else {
      while (i < text.length && hidden[i] === 1) i++;
      out += REDACTED;
    }
  }
  return out;
}

/**
 * {@linkcode scrub} over every string inside a JSON-like value (numbers and
 * keys are left alone). An array or object with nothing to scrub is returned
 * as it is, and one with something is copied once: copying every object of an
 * `--explain` document through Object.entries and Object.fromEntries cost a
 * start about 2 million instructions.
 */
export function scrubDeep<T>(value: T, secrets: readonly string[]): T {
  return scrubDeepWith(value, scrubber(secrets));
}

function scrubDeepWith<T>(value: T, hide: (text: string) => string): T {
  if (typeof value === "string") return hide(value) as T;
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = scrubDeepWith(value[i], hide);
      if (v !== value[i]) (copy ??= [...value])[i] = v;
    }
    return (copy ?? value) as T;
  }
  const object = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(object)) {
    const scrubbed = scrubDeepWith(v, hide);
    if (scrubbed !== v) (copy ??= { ...object })[k] = scrubbed;
  }
  return (copy ?? value) as T;
}
