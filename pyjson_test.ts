import { deepEqual, equal, ok, throws } from "@std/assert";
import { rng } from "./tests/fuzz.ts";
import {
  floatRepr,
  PerObject,
  type PyDict,
  pyDumps,
  PyFloat,
  PyInt,
  PyJsonError,
  PyJsonTooDeep,
  pyLoads,
  pyRepr,
  pyStr,
  pyTruthy,
  type PyValue,
  readStringObject,
  strRepr,
} from "./pyjson.ts";

Deno.test("floatRepr() prints floats as Python's repr", () => {
  const cases: [number, string][] = [
    [1, "1.0"],
    [0.001, "0.001"],
    [1e-5, "1e-05"],
    [0.0001, "0.0001"],
    [1e16, "1e+16"],
    [1.5e16, "1.5e+16"],
    [123456789012345680, "1.2345678901234568e+17"],
    [9999999999999998, "9999999999999998.0"],
    [0.1 + 0.2, "0.30000000000000004"],
    [-0, "-0.0"],
    [0, "0.0"],
    [-2.5, "-2.5"],
    [5.434322, "5.434322"],
    [1e22, "1e+22"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [5e-324, "5e-324"],
    [NaN, "nan"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
    [100000, "100000.0"],
    [0.00012, "0.00012"],
  ];
  for (const [x, want] of cases) equal(floatRepr(x), want, String(x));
});

Deno.test("floatRepr() agrees with Python 3.11 on 1,825 doubles (tests/golden/float_repr.json)", () => {
  const golden = JSON.parse(
    Deno.readTextFileSync(new URL("./tests/golden/float_repr.json", import.meta.url)),
  ) as { cases: [string, string][] };
  const view = new DataView(new ArrayBuffer(8));
  for (const [bits, want] of golden.cases) {
    view.setBigUint64(0, BigInt(`0x${bits}`));
    equal(floatRepr(view.getFloat64(0)), want, bits);
  }
});

/**
 * What readStringObject() reads, collected into a map (undefined when the text
 * is not that shape), each value as it is in the text: a value given `loaded`
 * (`x` for `"\\"x\\""`) is quoted back, after checking that pyLoads() agrees.
 */
function collect<T>(text: string, each: (value: string) => T): Map<string, T> | undefined {
  const out = new Map<string, T>();
  const read = readStringObject(text, (k, v, loaded) => {
    if (loaded) equal(pyLoads(`"${v}"`), v, v);
    out.set(k, each(loaded ? `"${v}"` : v));
  });
  return read ? out : undefined;
}

Deno.test("readStringObject() reads a flat object of strings exactly as pyLoads does", () => {
  const texts = [
    '{"b": "1", "a": "x", "b": "3"}',
    ' \n{ "10": "\\"quoted\\"", "2": "", "k\\u00e9": "tab\\there" } \t',
    "{}",
    " { } ",
    '{"slash": "a\\/b", "back": "c\\\\\\"d", "astral": "\\ud83d\\ude00"}',
    '{"nl": "two\\nlines", "q": "\\"x\\""}',
  ];
  for (const text of texts) {
    deepEqual(collect(text, (v) => v), pyLoads(text), text);
  }
  // Any other shape, and any invalid text, is left to pyLoads.
  for (
    const text of [
      '{"a": 1}',
      '{"a": {"b": "c"}}',
      '["a"]',
      '{"a": "b",}',
      '{"a": "b"} x',
      '{"a": "b"',
      '{"a": "b"]',
      '{"a": "b", "c": "d"] ',
      '{"a": "\\x"}',
      '{"a": "\\u12"}',
      '{"a": "line\nbreak"}',
      '{"a": "unit\x1fseparator"}',
      '{"a", "b"}',
      '["a": "b"}',
      '{"a": "b"; "c": "d"}',
      '{"a": "b\\',
      '{"a\\ ": "b"}',
      '{"a": "\\"}',
      "",
      '"a"',
    ]
  ) {
    equal(collect(text, (v) => v), undefined, text);
  }
  deepEqual(
    collect('{"n": "7", "s": "\\"x\\""}', (v) => v.length),
    new Map([["n", 1], ["s", 3]]),
  );
  // A member callback may read JSON-in-JSON values with readStringObject itself.
  deepEqual(
    collect('{"outer": "{\\"in\\": \\"x\\"}", "next": "y"}', (v) => collect(v, (w) => w) ?? v),
    new Map<string, unknown>([["outer", new Map([["in", "x"]])], ["next", "y"]]),
  );
});

Deno.test("readStringObject() agrees with pyLoads on random token soups", () => {
  const tokens = [
    "{",
    "}",
    ":",
    ",",
    " ",
    "\n",
    '"a"',
    '"b"',
    '"\\"x\\""',
    '"\\u00e9"',
    '"\\x"',
    "1",
    '"',
    // Near misses of the JSON-in-JSON shape that comes back loaded.
    '"\\"\\""',
    '"\\"x\\"y"',
    '"x\\"y\\""',
    '"\\"\\\\\\""',
    '"\\"\\t\\""',
    '"\\"x\\"\\""',
    '"\\"x\\\\"',
    '"\\"x\\n"',
    '"\\tx\\""',
  ];
  const literals = [...tokens.slice(6, 11), ...tokens.slice(13)];
  const r = rng(7);
  let flat = 0;
  for (let n = 0; n < 3000; n++) {
    // Mostly well-formed objects, with a random token spliced in now and then.
    const members = Array.from({ length: Math.floor(r() * 4) }, () => {
      const pick = () => literals[Math.floor(r() * literals.length)]!;
      return `${pick()}:${pick()}`;
    });
    let text = `{${members.join(",")}}`;
    if (r() < 0.5) {
      const at = Math.floor(r() * (text.length + 1));
      text = text.slice(0, at) + tokens[Math.floor(r() * tokens.length)]! + text.slice(at);
    }
    let want: PyValue | undefined;
    try {
      want = pyLoads(text);
    } catch {
      want = undefined;
    }
    const strings = want instanceof Map && [...want.values()].every((v) => typeof v === "string");
    if (strings) flat++;
    deepEqual(collect(text, (v) => v), strings ? want : undefined, text);
  }
  ok(flat > 1000, `only ${flat} texts were flat objects of strings`);
});

Deno.test("pyLoads() follows Python's json.loads, keeping ints exact and floats as floats", () => {
  equal(
    (pyLoads("123456789012345678901234567890") as PyInt).text,
    "123456789012345678901234567890",
  );
  equal(pyLoads(" 7 ") instanceof PyInt, true);
  equal((pyLoads("1.0") as PyFloat).value, 1);
  equal((pyLoads("1e400") as PyFloat).value, Infinity);
  equal(Number.isNaN((pyLoads("NaN") as PyFloat).value), true);
  equal((pyLoads("-Infinity") as PyFloat).value, -Infinity);
  equal(pyLoads('"\\u00e9\\n"'), "é\n");
  deepEqual(pyLoads("[true, null, false]"), [true, null, false]);
  deepEqual([pyLoads("true"), pyLoads("false"), pyLoads("null")], [true, false, null]);
  // Every escape JSON has, hex digits in either case.
  equal(pyLoads('"\\b\\f\\n\\r\\t\\/\\\\\\"\\u00E9\\u00e9"'), '\b\f\n\r\t/\\"éé');
  // Each refused where Python's json.loads stops (its JSONDecodeError's pos).
  const refused: [string, number][] = [
    ["007", 1],
    ["", 0],
    ["adam", 0],
    ["False", 0],
    ["1.", 1],
    [".5", 0],
    ['"a\tb"', 2],
    ["[1,]", 3],
    ["{'a': 1}", 1],
    ["1 2", 2],
    ["-", 0],
    ["+1", 0],
    ['"unit\x1fseparator"', 5],
    ["[1 22]", 3],
    ['{"a", 1}', 4],
    ['{a": 1}', 1],
    [" ", 1],
    ['{"a" 1}', 5],
    ['{"a":1,}', 7],
    ['{"a":1 "b":2}', 7],
    ["[01]", 2],
    ['["a\u0001"]', 3],
    ["   [1,,2]", 6],
    // A string's errors: unterminated at its opening quote (a lone backslash at the end too), a bad
    // escape at its backslash, a bad \u escape at its u.
    ['"abc', 0],
    ['["abc', 1],
    ['"ab\\', 0],
    ['"\\x"', 1],
    ['{"a":"\\q"}', 6],
    ['"\\u12"', 2],
    ['"a\\uZZZZ"', 3],
  ];
  for (const [bad, at] of refused) {
    throws(() => pyLoads(bad), PyJsonError, new RegExp(` at position ${at}$`));
  }
  const d = pyLoads('{"b": 1, "a": 2, "b": 3}') as Map<string, unknown>;
  deepEqual([...d.keys()], ["b", "a"]);
  equal((d.get("b") as PyInt).text, "3");
});

/** What pyLoads() makes of `text`: a value's kind and exact form, or that it is refused. */
function loaded(text: string): string {
  try {
    const v = pyLoads(text);
    return v instanceof PyInt
      ? `int ${v.text}`
      : v instanceof PyFloat
      ? `float ${v.repr}`
      : pyRepr(v);
  } catch (e) {
    return e instanceof PyJsonError ? "refused" : `threw ${e}`;
  }
}

Deno.test("pyLoads() answers short scalars as its parser does (a space before or after takes the parser)", () => {
  const edges = [
    "0",
    "-0",
    "7",
    "-7",
    "10",
    "01",
    "-01",
    "00",
    "1.",
    "-.5",
    ".5",
    "1.5",
    "-0.0",
    "1e5",
    "1E+05",
    "1e-5",
    "1e",
    "1e+",
    "1.5e",
    "0e0",
    "-",
    "--1",
    "+1",
    "1-",
    "1.2.3",
    "1e5e5",
    "9".repeat(63),
    '""',
    '"',
    '"a"',
    '"\\"',
    '"a\\"b"',
    '"\\"v\\""',
    '"a"b"',
    '"\t"',
    '"a\tb"',
    '"\u0001"',
    '"\u00e9"',
    "true",
    "null",
    "-Infinity",
    "NaN",
  ];
  const tokens = [
    "-",
    "+",
    "0",
    "1",
    "7",
    ".",
    "e",
    "E",
    " ",
    '"',
    "\\",
    "a",
    "\t",
    "\x01",
    "\u00e9",
  ];
  const r = rng(11);
  const texts = [...edges];
  const pick = (from: string[]) => from[Math.floor(r() * from.length)]!;
  // Numbers from their parts, some parts broken, and soups of tokens, some quoted.
  const number = [
    ["", "", "-", "+", "--", " "],
    ["0", "7", "10", "123", "00", "01", ""],
    ["", "", "", "", ".", ".5", ".05", ".0", ".."],
    ["", "", "", "", "", "e5", "E+05", "e-1", "e", "E+", "e07", "ee1"],
    ["", "", "", " ", "x", ".", "-"],
  ];
  for (let n = 0; n < 20000; n++) {
    let t = "";
    if (r() < 0.5) t = number.map(pick).join("");
    else {
      for (let k = Math.floor(r() * 6); k >= 0; k--) t += pick(tokens);
      if (r() < 0.6) t = `"${t}"`;
    }
    texts.push(t);
  }
  const kinds = new Map<string, number>();
  for (const text of texts) {
    const got = loaded(text);
    equal(got, loaded(`${text} `), JSON.stringify(text));
    // A leading space takes the parser whatever follows (a trailing one does not end a string).
    equal(got, loaded(` ${text}`), JSON.stringify(text));
    const kind = got.split(" ")[0]!;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  // Each fast path and the refusals were exercised many times.
  for (const kind of ["int", "float", "refused"]) {
    ok((kinds.get(kind) ?? 0) > 500, `${kind}: ${kinds.get(kind)}`);
  }
  ok(texts.filter((t) => loaded(t).startsWith("'")).length > 500, "strings");
});

Deno.test("PyInt normalises a leading zero and a negative zero away, as int() does", () => {
  deepEqual(
    ["007", "-007", "-0", "-00", "0", "10", "-10"].map((t) => new PyInt(t).text),
    ["7", "-7", "0", "0", "0", "10", "-10"],
  );
});

Deno.test("pyLoads() refuses ints over Python's 4,300 digits, as json.loads does", () => {
  equal((pyLoads("9".repeat(4300)) as PyInt).text.length, 4300);
  equal((pyLoads(`-${"9".repeat(4300)}`) as PyInt).text.length, 4301);
  for (const bad of ["9".repeat(4301), `-${"9".repeat(4301)}`, `[${"1".repeat(4301)}]`]) {
    throws(() => pyLoads(bad), PyJsonError, /integer of 4301 digits, over Python's limit of 4300/);
  }
  // Floats have no such limit.
  equal((pyLoads(`${"9".repeat(4301)}.5`) as PyFloat).value, Infinity);
});

Deno.test("pyDumps() matches json.dumps(sort_keys=True, separators=(',', ':'))", () => {
  equal(
    pyDumps(pyLoads('{"nested": {"z": 1, "a": [1, 2.50, "x"]}, "none": null}')),
    '{"nested":{"a":[1,2.5,"x"],"z":1},"none":null}',
  );
  equal(
    pyDumps(pyLoads('["caf\\u00e9 \\u2603", "\\ud83d\\ude00", "\\u007f", "/"]')),
    '["caf\\u00e9 \\u2603","\\ud83d\\ude00","\\u007f","/"]',
  );
  equal(
    pyDumps([new PyFloat(NaN), new PyFloat(Infinity), new PyFloat(-Infinity)]),
    "[NaN,Infinity,-Infinity]",
  );
  equal(
    pyDumps([new PyFloat(NaN), new PyFloat(1e400)], { nanAsString: true }),
    '["NaN","Infinity"]',
  );
  equal(pyDumps("é", { ensureAscii: false }), '"é"');
  // Short escapes where JSON has them, \u for the other control characters (and DEL with ensure_ascii).
  equal(pyDumps("\b\f\r\n\t\x1f\x00\x7f"), '"\\b\\f\\r\\n\\t\\u001f\\u0000\\u007f"');
  equal(
    pyDumps("\b\f\r\n\t\x1f\x00\x7fé", { ensureAscii: false }),
    '"\\b\\f\\r\\n\\t\\u001f\\u0000\x7fé"',
  );
  equal(pyDumps(new Map([["é", new PyInt("1")]]), { ensureAscii: false }), '{"é":1}');
  equal(pyDumps([]), "[]");
  equal(pyDumps(["a", "b c"]), '["a","b c"]');
  equal(pyDumps(["a", 'q"', "é"]), '["a","q\\"","\\u00e9"]');
  // The other forms after the default one (which is remembered): same text only when nothing differs.
  const d = pyLoads('{"s": "caf\\u00e9", "f": NaN, "t": "\\u007f"}');
  equal(pyDumps(d), '{"f":NaN,"s":"caf\\u00e9","t":"\\u007f"}');
  equal(pyDumps(d, { ensureAscii: false }), '{"f":NaN,"s":"café","t":"\x7f"}');
  equal(pyDumps(d, { nanAsString: true }), '{"f":"NaN","s":"caf\\u00e9","t":"\\u007f"}');
  const plain = pyLoads('{"s": "cafe", "n": [1.5, "NaN?"]}');
  equal(pyDumps(plain), '{"n":[1.5,"NaN?"],"s":"cafe"}');
  equal(pyDumps(plain, { ensureAscii: false, nanAsString: true }), '{"n":[1.5,"NaN?"],"s":"cafe"}');
  // A remembered default form holding a special float is not the nanAsString form.
  const specials: [string, string, string][] = [
    ['{"a": NaN}', '{"a":NaN}', '{"a":"NaN"}'],
    ['{"a": -Infinity}', '{"a":-Infinity}', '{"a":"-Infinity"}'],
  ];
  for (const [text, bare, quoted] of specials) {
    const v = pyLoads(text);
    equal(pyDumps(v), bare);
    equal(pyDumps(v, { nanAsString: true }), quoted);
  }
  // Keys sort by code point: upper case first, astral after U+FFFF; a lone surrogate is a code
  // point of its own, below U+E000 (Python's order).
  const intsBy = (keys: string[]) => new Map(keys.map((k, i) => [k, new PyInt(String(i + 1))]));
  equal(
    pyDumps(intsBy(["b", "B", "\u{1F600}", "\uFFFF"])),
    '{"B":2,"b":1,"\\uffff":4,"\\ud83d\\ude00":3}',
  );
  equal(
    pyDumps(intsBy(["\uffff", "\udc00", "\u{1F600}", "\ud800"])),
    '{"\\ud800":4,"\\udc00":2,"\\uffff":1,"\\ud83d\\ude00":3}',
  );
  // A pair against a lone high surrogate before U+E000, the last code point, a key that is
  // another's prefix (as CPython 3.11 sorts them).
  equal(
    pyDumps(intsBy(["\u{1F600}", "\ud83d\ue000", "\u{10FFFF}", "\uffffa", "\uffff"])),
    '{"\\ud83d\\ue000":2,"\\uffff":5,"\\uffffa":4,"\\ud83d\\ude00":1,"\\udbff\\udfff":3}',
  );
  // Keys that need escaping, first and later, beside plain ones; an empty dict inside.
  equal(
    pyDumps(pyLoads('{"z": {}, "\\"q": 1, "b": 2, "a\\\\b": 3, "\\u00e9": 4}')),
    '{"\\"q":1,"a\\\\b":3,"b":2,"z":{},"\\u00e9":4}',
  );
});

Deno.test("pyDumps() writes 3,000 random values, dicts shared at several depths among them, as json.dumps does in each form", () => {
  // json.dumps(sort_keys=True, separators=(",", ":")) written out plainly: the oracle.
  const oracle = (v: PyValue, ascii: boolean, nanAsString: boolean): string => {
    if (v === null) return "null";
    if (typeof v === "boolean") return String(v);
    if (typeof v === "string") {
      const s = JSON.stringify(v);
      return ascii
        ? s.replace(
          /[\u007f-\uffff]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
        )
        : s;
    }
    if (v instanceof PyInt) return v.text;
    if (v instanceof PyFloat) {
      const special = Number.isNaN(v.value) ? "NaN" : v.value > 0 ? "Infinity" : "-Infinity";
      if (Number.isFinite(v.value)) return v.repr;
      return nanAsString ? `"${special}"` : special;
    }
    if (Array.isArray(v)) return `[${v.map((x) => oracle(x, ascii, nanAsString)).join(",")}]`;
    const keys = [...v.keys()].sort();
    return `{${
      keys.map((k) => `${oracle(k, ascii, nanAsString)}:${oracle(v.get(k)!, ascii, nanAsString)}`)
        .join(",")
    }}`;
  };
  const r = rng(20261205);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const shared: PyValue[] = [];
  const value = (depth: number): PyValue => {
    const kind = Math.floor(r() * (depth > 6 ? 6 : 10));
    if (kind === 0) return null;
    if (kind === 1) return pick([true, false]);
    if (kind === 2) return pick(["a", "b c", "caf\u00e9", 'q"', "\x7f", "NaN"]);
    if (kind === 3) return new PyInt(String(Math.floor(r() * 100)));
    if (kind === 4) return new PyFloat(pick([1.5, NaN, Infinity, -Infinity, 0.1]));
    if (kind === 5 && shared.length > 0) return pick(shared);
    if (kind <= 7) return Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1));
    const d: PyDict = new Map();
    for (let n = Math.floor(r() * 4); n > 0; n--) {
      d.set(pick(["z", "a", "B", "\u00e9", "k"]), value(depth + 1));
    }
    if (r() < 0.3) shared.push(d);
    return d;
  };
  for (let i = 0; i < 3000; i++) {
    const v = value(0);
    for (
      const [ascii, nanAsString] of [[true, false], [false, true], [true, true], [false, false]]
    ) {
      const opts = { ensureAscii: ascii!, nanAsString: nanAsString! };
      equal(pyDumps(v, opts), oracle(v, ascii!, nanAsString!), `${i} ${JSON.stringify(opts)}`);
    }
  }
  // A dict 500 deep over 8,000 keys (each dict joined on its own held all below it: 50 MB a dump).
  let deep: PyDict = new Map(Array.from({ length: 8000 }, (_, i) => [`k${i}`, new PyInt(`${i}`)]));
  for (let i = 0; i < 500; i++) deep = new Map([["d", deep], ["n", null]]);
  equal(pyDumps(deep), oracle(deep, true, false));
  equal(pyDumps(new Map([["hps", deep]])), `{"hps":${oracle(deep, true, false)}}`);
});

Deno.test("pyStr() and pyRepr() match Python's str() and repr()", () => {
  equal(pyStr(true), "True");
  equal(pyStr(pyLoads('["a", ["b", "c", [["6"]]]]')), "['a', ['b', 'c', [['6']]]]");
  equal(pyStr(pyLoads('[1, 2.50, "x"]')), "[1, 2.5, 'x']");
  equal(pyRepr(pyLoads('{"b": null, "a": true}')), "{'b': None, 'a': True}");
  equal(strRepr("it's"), `"it's"`);
  equal(strRepr(`both ' and "`), `'both \\' and "'`);
  equal(strRepr("tab\there\u0001\u00e9\u00a0"), "'tab\\there\\x01é\\xa0'");
  // What str.isprintable() refuses (Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs but space) is escaped.
  equal(
    strRepr(
      "a\\b\r\x7f\uffff\u200b\xad\u0378\ue000\u2028\u2029\u3000\u{10ffff}\u{1F600}\ud800\x85",
    ),
    "'a\\\\b\\r\\x7f\\uffff\\u200b\\xad\\u0378\\ue000\\u2028\\u2029\\u3000\\U0010ffff\u{1F600}\\ud800\\x85'",
  );
  equal(pyStr(new PyFloat(NaN)), "nan");
  equal(pyStr("plain"), "plain");
});

Deno.test("pyRepr() writes 3,000 random values as the recursive repr() it replaced, and a dict 500 deep", () => {
  // The repr() it replaced: each container's text joined on its own.
  const old = (v: PyValue): string => {
    if (v === null) return "None";
    if (v === true) return "True";
    if (v === false) return "False";
    if (typeof v === "string") return strRepr(v);
    if (v instanceof PyInt) return v.text;
    if (v instanceof PyFloat) return v.repr;
    if (Array.isArray(v)) return `[${v.map(old).join(", ")}]`;
    return `{${[...v].map(([k, x]) => `${strRepr(k)}: ${old(x)}`).join(", ")}}`;
  };
  const r = rng(5);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const value = (depth: number): PyValue => {
    const kind = Math.floor(r() * (depth > 5 ? 5 : 7));
    if (kind === 0) return pick([null, true, false]);
    if (kind === 1) return pick(["a", "it's", 'q"', "\n\t", "é\u2603", ""]);
    if (kind === 2) return new PyInt(String(Math.floor(r() * 100) - 50));
    if (kind === 3) return new PyFloat(pick([1.5, NaN, -Infinity, 1e-5]));
    if (kind === 4 || kind === 5) {
      return Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1));
    }
    return new Map(
      Array.from({ length: Math.floor(r() * 4) }, () => [pick(["a", "b'", "é"]), value(depth + 1)]),
    );
  };
  for (let i = 0; i < 3000; i++) {
    const v = value(0);
    equal(pyRepr(v), old(v));
    equal(pyStr(v), typeof v === "string" ? v : old(v));
  }
  let deep: PyValue = new Map(Array.from({ length: 6000 }, (_, i) => [`k${i}`, [`v${i}`]]));
  for (let i = 0; i < 500; i++) {
    deep = new Map<string, PyValue>([["d", deep], ["l", [new PyInt(`${i}`)]]]);
  }
  equal(pyRepr(deep), old(deep));
});

Deno.test("pyTruthy() follows Python truthiness", () => {
  deepEqual(
    [null, false, "", new PyInt("0"), new PyFloat(0), [], new Map(), "False", new PyInt("2"), [0]]
      .map((v) => pyTruthy(v as never)),
    [false, false, false, false, false, false, false, true, true, true],
  );
});

Deno.test("PerObject remembers a value per object, out of sight of keys, JSON and deepEqual", () => {
  const cache = new PerObject<object, string>();
  const d = new Map([["a", 1]]);
  const list = [1, 2];
  equal(cache.get(d), undefined);
  cache.set(d, "dict");
  cache.set(list, "list");
  equal(cache.get(d), "dict");
  equal(cache.get(list), "list");
  equal(cache.get(new Map([["a", 1]])), undefined);
  // Another cache has its own slot on the same object.
  equal(new PerObject<object, string>().get(d), undefined);
  deepEqual(Object.keys(list), ["0", "1"]);
  // Not enumerable: a copy by spread or Object.assign takes nothing along.
  deepEqual(Object.getOwnPropertySymbols({ ...list }), []);
  equal(JSON.stringify(list), "[1,2]");
  deepEqual(list, [1, 2]);
  deepEqual(d, new Map([["a", 1]]));
  // A frozen object is left as it is: nothing remembered, nothing thrown.
  const frozen = Object.freeze([3]);
  cache.set(frozen, "frozen");
  equal(cache.get(frozen), undefined);
});

Deno.test("pyLoads() takes arrays and objects nested 512 levels deep, and no deeper", () => {
  const arrays = (n: number) => "[".repeat(n) + "]".repeat(n);
  const objects = (n: number) => '{"k":'.repeat(n - 1) + "{}" + "}".repeat(n - 1);
  for (const text of [arrays(512), objects(512)]) {
    equal(pyDumps(pyLoads(text)), text.replaceAll('":', '":'));
  }
  for (const text of [arrays(513), objects(513), "[" + arrays(600) + "]"]) {
    throws(() => pyLoads(text), PyJsonTooDeep);
  }
  // Depth is nesting, not count: many containers side by side are fine.
  equal((pyLoads(`[${Array(2000).fill("[]").join(",")}]`) as PyValue[]).length, 2000);
  equal((pyLoads(`[${Array(2000).fill("{}").join(",")}]`) as PyValue[]).length, 2000);
});

Deno.test("pyLoads() reads -0 as the int 0, as json.loads does", () => {
  equal((pyLoads("-0") as PyInt).text, "0");
  equal(pyDumps(pyLoads("-0")), "0");
  equal(pyDumps(pyLoads("[-0, 0, -0.0]")), "[0,0,-0.0]");
});

Deno.test("pyLoads() reads a number with an exponent and no fraction as a float in a document too", () => {
  equal(
    pyDumps(pyLoads('{"lr": 1e5, "wd": 1E-3, "n": 2, "m": 2.5e+1}')),
    '{"lr":100000.0,"m":25.0,"n":2,"wd":0.001}',
  );
  ok((pyLoads("[1e5]") as PyValue[])[0] instanceof PyFloat);
});

Deno.test("pyDumps() with ensureAscii false escapes a lone surrogate and writes a pair raw: the text stays UTF-8", () => {
  const cases: [string, string][] = [
    ["\ud800", '"\\ud800"'],
    ["\udc00x", '"\\udc00x"'],
    ["a\ud83d", '"a\\ud83d"'],
    ["\ude00\ud83d", '"\\ude00\\ud83d"'],
    ["\ud83d\ude00\ud800\ud83d\ude00", '"\ud83d\ude00\\ud800\ud83d\ude00"'],
  ];
  for (const [s, want] of cases) {
    const got = pyDumps(new Map([["k", s]]), { ensureAscii: false, nanAsString: true });
    equal(got, `{"k":${want}}`, JSON.stringify(s));
    equal(pyDumps(s, { ensureAscii: false }), want);
  }
  // The default form is Python's either way.
  equal(pyDumps("\ud800\ud83d\ude00"), '"\\ud800\\ud83d\\ude00"');
});

Deno.test("pyDumps() writes non-ASCII raw with ensureAscii false and escaped by default, in either order on one object", () => {
  const asciiFirst = pyLoads('{"s": "\\u00e9", "l": ["\\u00e9", 1]}');
  equal(pyDumps(asciiFirst), '{"l":["\\u00e9",1],"s":"\\u00e9"}');
  equal(pyDumps(asciiFirst, { ensureAscii: false }), '{"l":["é",1],"s":"é"}');
  const rawFirst = pyLoads('{"s": "\\u00e9", "l": ["\\u00e9", 1]}');
  equal(pyDumps(rawFirst, { ensureAscii: false }), '{"l":["é",1],"s":"é"}');
  equal(pyDumps(rawFirst), '{"l":["\\u00e9",1],"s":"\\u00e9"}');
});
