import { deepEqual, equal, throws } from "@std/assert";
import { parseJsonText } from "./json.ts";

Deno.test("parseJsonText() reads a key written as one escape as written, after an object with the key \\ (V8's misreading)", () => {
  // The object that teaches V8 the key "\" after "x" (nodejs/node#63785).
  JSON.parse('{"x": 1, "\\\\": 2}');
  deepEqual(parseJsonText('{"x": 1, "\\u0079": 3}'), { x: 1, y: 3 });
  deepEqual(parseJsonText('{"x": 1, "\\n": 3}'), { x: 1, "\n": 3 });
  deepEqual(parseJsonText('{"x": 1, "\\\\": 3}'), { x: 1, "\\": 3 });
});

Deno.test("parseJsonText() throws JSON.parse's SyntaxError for text that is not JSON", () => {
  for (const text of ["", "{", '{"a":}', "NaN", '{"\\u00": 1}']) {
    throws(() => parseJsonText(text), SyntaxError);
  }
});

Deno.test("parseJsonText() reads generated JSON with escaped keys as the value it was written from", () => {
  // Seeded, so a failure repeats. Each text is written from a value built beside it, as
  // JSON.parse defines it: a key given twice keeps its first place and takes the later value.
  let seed = 5;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed >>> 16) % n;
  };
  const KEYS = ["a", "b", "y", "\\", "\n", '"', "__proto__", "0", "ab\\c", "\ud800", "é"];
  const SCALARS: [string, unknown][] = [
    ["1", 1],
    ["-0", -0],
    ["1e400", Infinity],
    ["0.5e-3", 0.0005],
    ["true", true],
    ["null", null],
    ['"v\\u0079"', "vy"],
    ['"\\ud800"', "\ud800"],
    ['"x\\":"', 'x":'],
  ];
  // A key's text: as JSON.stringify writes it, or with one character as a \u escape.
  const keyText = (k: string) => {
    const escaped = next(2) === 0 ? next(k.length) : -1;
    return `"${
      [...k].map((c, i) =>
        i === escaped
          ? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
          : JSON.stringify(c).slice(1, -1)
      ).join("")
    }"`;
  };
  const generate = (depth: number): [string, unknown] => {
    const kind = depth > 3 ? 2 : next(3);
    if (kind === 0) {
      const value: Record<string, unknown> = {};
      const members: string[] = [];
      for (let n = next(5); n > 0; n--) {
        const key = KEYS[next(KEYS.length)]!;
        const [text, v] = generate(depth + 1);
        Object.defineProperty(value, key, {
          value: v,
          writable: true,
          enumerable: true,
          configurable: true,
        });
        members.push(`${keyText(key)} : ${text}`);
      }
      return [`{${members.join(", ")}}`, value];
    }
    if (kind === 1) {
      const items = Array.from({ length: next(4) }, () => generate(depth + 1));
      return [`[${items.map(([t]) => t).join(",")}]`, items.map(([, v]) => v)];
    }
    return SCALARS[next(SCALARS.length)]!;
  };
  for (let i = 0; i < 3000; i++) {
    const [text, value] = generate(0);
    deepEqual(parseJsonText(text), value, text);
  }
});

Deno.test("parseJsonText() reads a string of 5 million escapes, with and without an escaped key beside it", () => {
  // A pattern for a JSON string kept a backtrack entry per escape: V8's regexp stack overflowed
  // at some 3.4 million, and the text read as no JSON at all.
  const many = "\\n".repeat(5_000_000);
  const expected = "\n".repeat(5_000_000);
  deepEqual(parseJsonText(`{"a": "${many}", "b": 1}`), { a: expected, b: 1 });
  deepEqual(parseJsonText(`{"\\u0061": "${many}", "b": 1}`), { a: expected, b: 1 });
});

Deno.test("parseJsonText() reads JSON nested 100,000 deep that has an escaped key", () => {
  const depth = 100_000;
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  const text = '{"\\u0061":' + "[".repeat(depth) + "1" + "]".repeat(depth) + "}";
  equal(JSON.stringify(parseJsonText(text)), JSON.stringify({ a: value }));
});
