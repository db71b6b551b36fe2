import { deepEqual, equal, throws } from "@std/assert";
import {
  anyJson,
  nonEmpty,
  nullable,
  num,
  object,
  optional,
  parseJson,
  record,
  str,
  uint,
  uintUpTo,
} from "./shape.ts";
import { MAX_ID } from "./types.ts";

Deno.test("record() reads every key as data, __proto__ included, and names the bad value's pointer", () => {
  const text = '{"a": 1, "__proto__": {"x": 2}, "b/c": "d"}';
  for (const reader of [record(anyJson), record((v) => v)]) {
    const got = parseJson(text, reader);
    equal(got.ok, true);
    if (!got.ok) continue;
    deepEqual(Object.keys(got.value), ["a", "__proto__", "b/c"]);
    equal(Object.getPrototypeOf(got.value), Object.prototype);
    deepEqual(got.value["__proto__"], { x: 2 });
  }
  deepEqual(parseJson(text, record(str)), {
    ok: false,
    problem: "/a: expected a string, got number 1",
  });
  deepEqual(parseJson("[1]", record(anyJson)), {
    ok: false,
    problem: "top level: expected an object, got an array",
  });
});

Deno.test("parseJson() quotes neither a value under a secret-named key nor V8's text around a bad token", () => {
  deepEqual(parseJson('{"env": {"DB_PASSWORD": 918273645}}', record(record(str))), {
    ok: false,
    problem: "/env/DB_PASSWORD: expected a string, got number <redacted>",
  });
  const bad = parseJson(`{"HF_TOKEN": 'hf_918273645'}`, anyJson);
  equal(bad.ok, false);
  if (!bad.ok) {
    equal(bad.problem, "not valid JSON (Unexpected token ''' at position 13 (line 1 column 14))");
  }
});

Deno.test("parseJson() says where an unexpected token is, as V8 does for its other errors", () => {
  const problem = (text: string) => {
    const r = parseJson(text, anyJson);
    return r.ok ? "parsed" : r.problem;
  };
  equal(
    problem('{\n  "a": 1,\n  "b": tru}'),
    "not valid JSON (Unexpected token '}' at position 22 (line 3 column 11))",
  );
  equal(
    problem("[1, 2, }"),
    "not valid JSON (Unexpected token '}' at position 7 (line 1 column 8))",
  );
  // Python's decoder takes NaN, JSON does not: then no position, rather than a wrong one.
  equal(problem('{"a": NaN}'), "not valid JSON (Unexpected token 'N')");
  // Python takes the NaN and stops at the x: not the N's place, so no place at all.
  equal(problem('{"a": NaN, "b": x}'), "not valid JSON (Unexpected token 'N')");
  // Nor the place of another N well after where Python stops.
  equal(problem('{"a": NaN, "b": x, "c": "N"}'), "not valid JSON (Unexpected token 'N')");
  equal(
    problem('{"a": x}'),
    "not valid JSON (Unexpected token 'x' at position 6 (line 1 column 7))",
  );
});

Deno.test("a strict object() refuses keys every object inherits (constructor, toString, __proto__)", () => {
  const strict = object({ a: optional(str) }, true);
  for (const key of ["constructor", "toString", "hasOwnProperty", "__proto__"]) {
    const got = parseJson(`{"${key}": 1}`, strict);
    equal(got.ok, false, key);
    if (!got.ok) equal(got.problem.startsWith(`/${key}: unknown key`), true, got.problem);
  }
});

Deno.test("parseJson() refuses a key repeated in one object, naming where (JSON.parse would keep the last)", () => {
  const any = (v: unknown) => v;
  deepEqual(parseJson('{"mode":"a","mode":"b"}', any), {
    ok: false,
    problem: 'top level: key "mode" appears twice',
  });
  deepEqual(parseJson('{"o":[{"a":1},{"env":{"set":{"x":"1","x":"2"}}}]}', any), {
    ok: false,
    problem: '/o/1/env/set: key "x" appears twice',
  });
  // The same key in sibling objects, a value equal to a key, escapes: all fine.
  const fine = '{"a":{"k":"a"},"b":{"k":"a"},"c":["k","k"],"d\\"q":{"d\\"q":1},"e":{"v":"v"}}';
  deepEqual(parseJson(fine, any), { ok: true, value: JSON.parse(fine) });
});

Deno.test("uint() and uintUpTo() take 0 and the maximum, and refuse a negative number or one past the maximum", () => {
  const id = uintUpTo(MAX_ID);
  for (const reader of [uint, id]) {
    deepEqual(parseJson("0", reader), { ok: true, value: 0 });
    equal(parseJson("-1", reader).ok, false);
  }
  deepEqual(parseJson("-1", uint), {
    ok: false,
    problem: "top level: expected a non-negative integer, got number -1",
  });
  deepEqual(parseJson(String(MAX_ID), id), { ok: true, value: 4294967294 });
  deepEqual(parseJson(String(MAX_ID + 1), id), {
    ok: false,
    problem: "top level: expected an integer from 0 to 4294967294, got number 4294967295",
  });
});

Deno.test("each reader refuses what its name excludes, with the expectation and what came", () => {
  const problem = (text: string, read: Parameters<typeof parseJson>[1]) => {
    const r = parseJson(text, read);
    return r.ok ? "parsed" : r.problem;
  };
  equal(problem('""', nonEmpty), 'top level: expected a non-empty string, got string ""');
  // JSON.parse reads 1e400 as Infinity: not a number any reader here takes.
  equal(problem("1e400", num), "top level: expected a number, got number Infinity");
  equal(problem("1.5", uint), "top level: expected a non-negative integer, got number 1.5");
  equal(
    problem("1.5", uintUpTo(10)),
    "top level: expected an integer from 0 to 10, got number 1.5",
  );
  equal(problem("true", str), "top level: expected a string, got boolean true");
  // A long string is cut at 40 characters; one of 40 is quoted whole.
  equal(
    problem(JSON.stringify("x".repeat(41)), uint),
    `top level: expected a non-negative integer, got string "${"x".repeat(40)}\u2026"`,
  );
  equal(
    problem(JSON.stringify("x".repeat(40)), uint),
    `top level: expected a non-negative integer, got string "${"x".repeat(40)}"`,
  );
  // An object or array under a secret-named key is described, not hidden: it quotes nothing.
  equal(
    problem('{"env": {"DB_PASSWORD": {"a": 1}}}', record(record(str))),
    "/env/DB_PASSWORD: expected a string, got an object",
  );
  equal(
    problem('{"env": {"DB_PASSWORD": [1]}}', record(record(str))),
    "/env/DB_PASSWORD: expected a string, got an array",
  );
});

Deno.test("optional() takes null only when asked, nullable() keeps it, and an absent key stays absent", () => {
  deepEqual(parseJson("{}", object({ a: optional(str) })), { ok: true, value: {} });
  deepEqual(parseJson('{"a": null}', object({ a: optional(str) })), {
    ok: false,
    problem: "/a: expected a string, got null",
  });
  deepEqual(parseJson('{"a": null}', object({ a: optional(str, true) })), { ok: true, value: {} });
  deepEqual(parseJson('{"a": null}', object({ a: nullable(str) })), {
    ok: true,
    value: { a: null },
  });
});

Deno.test("parseJson() passes on an error of a reader that is not a shape error", () => {
  throws(() =>
    parseJson("1", () => {
      throw new RangeError("a bug in the reader");
    }), RangeError);
});
