/**
 * JSON text read as `JSON.parse` reads it, with every object key as written.
 *
 * V8 12.8 to 15.0 at least (Deno 2.9.6 included) can read an object key that
 * holds an escape as the key an object parsed earlier in the process had at
 * the same place: after `{"x":1,"\\":2}`, `{"x":1,"\u0079":3}` reads as
 * `{"x":1,"\\":3}`, and after `{"x":1,"a\\":2}`, `{"x":1,"a\n":3}` as
 * `{"x":1,"a\\":3}` (nodejs/node#63785, open upstream). Keys without an
 * escape are read right, so a text whose keys hold none is `JSON.parse`'s to
 * read; one that has such a key is read again here, each key and each scalar
 * by `JSON.parse` alone, where no object's keys come into it.
 *
 * The text is walked with loops and `indexOf`, not patterns: a pattern for a
 * JSON string kept a backtrack entry per escape and overflowed V8's regexp
 * stack on a string of some 3.4 million escapes.
 *
 * @module
 */

/**
 * `JSON.parse(text)`, with the keys as the text writes them. Throws
 * `JSON.parse`'s SyntaxError for text that is not JSON.
 */
export function parseJsonText(text: string): unknown {
  return readJson(text, false).value;
}

/**
 * {@linkcode parseJsonText}, and how many keys the text writes in all its
 * objects: one walk over the text tells both.
 */
export function parseJsonCountingKeys(text: string): { value: unknown; keys: number } {
  return readJson(text, true);
}

/** The value, and the keys counted when `count` is set (else 0); the walk stops early when it may. */
function readJson(text: string, count: boolean): { value: unknown; keys: number } {
  let keys = 0;
  let escaped = false;
  const mayEscape = text.includes("\\");
  if (count || mayEscape) {
    someKey(text, (start, end) => {
      keys++;
      escaped ||= mayEscape && holdsEscape(text, start, end);
      return escaped && !count;
    });
  }
  if (!escaped) return { value: JSON.parse(text), keys };
  JSON.parse(text); // throws for text that is not JSON; its keys may be misread
  return { value: exactly(text), keys };
}

/** Whether the key at `start` (its opening quote) to `end` (after its closing one) holds an escape. */
function holdsEscape(text: string, start: number, end: number): boolean {
  for (let i = start + 1; i < end - 1; i++) if (text.charCodeAt(i) === 0x5c) return true;
  return false;
}

/**
 * Whether `test` holds for a key of JSON `text`, each asked in text order
 * until one does. Outside a string every `"` opens one, and a string that a
 * ":" follows (blanks apart) is a key. Text that is not JSON ends the walk
 * somewhere; the answer is then `JSON.parse`'s error to give.
 */
function someKey(text: string, test: (start: number, end: number) => boolean): boolean {
  for (let start = text.indexOf('"'); start >= 0;) {
    const end = stringEnd(text, start);
    if (text.charCodeAt(afterBlanks(text, end)) === 0x3a && test(start, end)) return true;
    start = end < text.length ? text.indexOf('"', end) : -1;
  }
  return false;
}

/**
 * Where the string whose opening quote is at `start` ends, after its closing
 * quote (the length of the text if it does not close). A quote closes it when
 * an even number of backslashes stands before it.
 */
function stringEnd(text: string, start: number): number {
  for (let from = start + 1;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** JSON's blanks: space, tab, line feed, carriage return. */
const isBlank = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** The first position from `i` on that is not a blank. */
function afterBlanks(text: string, i: number): number {
  while (isBlank(text.charCodeAt(i))) i++;
  return i;
}

/**
 * The first key that an object of valid JSON `text` holds twice, in text
 * order, and the path of that object (its keys and indexes from the top);
 * undefined when no object repeats a key. `JSON.parse` keeps the last value.
 */
export function repeatedKey(
  text: string,
): { readonly key: string; readonly path: readonly (string | number)[] } | undefined {
  let found: { key: string; path: (string | number)[] } | undefined;
  exactly(text, (key, path) => found = { key, path });
  return found;
}

/**
 * Valid JSON text read here: containers built as `JSON.parse` builds them,
 * keys and scalars read by `JSON.parse` one at a time. Lists of the open
 * containers and their keys, not recursion, as `JSON.parse` takes any depth.
 * With `repeated`, the walk stops at the first key an object holds twice and
 * says which, and where (undefined comes back then).
 */
function exactly(
  text: string,
  repeated?: (key: string, path: (string | number)[]) => void,
): unknown {
  const open: (Record<string, unknown> | unknown[])[] = [];
  const keys: string[] = []; // for each open container, the key its next value goes under
  let top: unknown;
  const put = (value: unknown) => {
    const into = open.at(-1);
    if (into === undefined) top = value;
    else if (Array.isArray(into)) into.push(value);
    // As JSON.parse defines it: an own property, "__proto__" too; a key given twice keeps its
    // first place and takes the later value.
    else {
      Object.defineProperty(into, keys.at(-1)!, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
  };
  for (let i = 0; i < text.length;) {
    const c = text.charCodeAt(i);
    if (isBlank(c) || c === 0x2c || c === 0x3a) i++; // , :
    else if (c === 0x7b || c === 0x5b) { // { [
      const into = c === 0x7b ? {} : [];
      put(into);
      open.push(into);
      keys.push("");
      i++;
    } else if (c === 0x7d || c === 0x5d) { // } ]
      open.pop();
      keys.pop();
      i++;
    } else if (c === 0x22) { // "
      const end = stringEnd(text, i);
      const s = JSON.parse(text.slice(i, end)) as string;
      if (text.charCodeAt(afterBlanks(text, end)) !== 0x3a) put(s);
      else if (repeated !== undefined && Object.hasOwn(open.at(-1)!, s)) {
        // Each open container's place in the one around it, down to this object.
        repeated(s, open.slice(0, -1).map((o, f) => Array.isArray(o) ? o.length - 1 : keys[f]!));
        return undefined;
      } else keys[keys.length - 1] = s;
      i = end;
    } else { // a number, true, false or null: up to the next blank or punctuation
      let end = i + 1;
      while (end < text.length && !isBlank(text.charCodeAt(end)) && !",:]}".includes(text[end]!)) {
        end++;
      }
      put(JSON.parse(text.slice(i, end)));
      i = end;
    }
  }
  return top;
}
