/**
 * JSON text read as `JSON.parse` reads it, with every object key as written.
 *
 * V8 12.8 to 15.0 at least (Deno 2.9.6 included) can read a key written as one
 * escape (`"\n"`, `"\u0079"`) as the key `\` when an object parsed earlier in
 * the process had that key at the same place: after `{"x":1,"\\":2}`,
 * `{"x":1,"\u0079":3}` reads as `{"x":1,"\\":3}` (nodejs/node#63785, open
 * upstream). Only escaped keys are misread, so a text whose keys hold no
 * escape is `JSON.parse`'s to read; one that has such a key is read again
 * here, each key and each scalar by `JSON.parse` alone, where no object's keys
 * come into it.
 *
 * @module
 */

/**
 * Every string of JSON text, a key with the ":" after it: the engine consumes
 * each string whole, so it never starts one inside another. Written as runs of
 * plain characters between escapes: `(?:[^"\\]|\\.)*` kept a backtrack entry per
 * character and overflowed the stack on a string of 10 million.
 */
export const STRING_TOKEN = /"[^"\\]*(?:\\.[^"\\]*)*"(?:\s*:)?/g;

/** Whether a {@linkcode STRING_TOKEN} match is a key (only a key's ":" ends the match). */
export const isKeyToken = (token: string): boolean => token.charCodeAt(token.length - 1) === 0x3a;

/** The tokens of valid JSON text: strings, structural characters, and scalars between them. */
const JSON_TOKEN = /"[^"\\]*(?:\\.[^"\\]*)*"|[{}[\],:]|[^\s{}[\],:"]+/g;

/**
 * `JSON.parse(text)`, with the keys as the text writes them. Throws
 * `JSON.parse`'s SyntaxError for text that is not JSON.
 */
export function parseJsonText(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return hasEscapedKey(text) ? exactly(text) : value;
}

/** Whether a key of valid JSON `text` holds an escape. */
function hasEscapedKey(text: string): boolean {
  if (!text.includes("\\")) return false;
  for (const token of text.match(STRING_TOKEN) ?? []) {
    if (isKeyToken(token) && token.includes("\\")) return true;
  }
  return false;
}

/**
 * Valid JSON text read token by token: containers built here, keys and scalars
 * read by `JSON.parse` one at a time. A list of open containers, not
 * recursion, as `JSON.parse` takes any depth.
 */
function exactly(text: string): unknown {
  const tokens = text.match(JSON_TOKEN) ?? [];
  const open: { into: Record<string, unknown> | unknown[]; key: string }[] = [];
  let top: unknown;
  const put = (value: unknown) => {
    const at = open.at(-1);
    if (at === undefined) top = value;
    else if (Array.isArray(at.into)) at.into.push(value);
    // As JSON.parse defines it: an own property, "__proto__" too; a key given twice keeps its
    // first place and takes the later value.
    else {
      Object.defineProperty(at.into, at.key, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === "{" || t === "[") {
      const into = t === "{" ? {} : [];
      put(into);
      open.push({ into, key: "" });
    } else if (t === "}" || t === "]") open.pop();
    else if (t === "," || t === ":") continue;
    else if (tokens[i + 1] === ":") open.at(-1)!.key = JSON.parse(t) as string;
    else put(JSON.parse(t));
  }
  return top;
}
