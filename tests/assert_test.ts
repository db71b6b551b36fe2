/** The tests' own assertions are strict, and their throws checks what they are given. */
import assert from "node:assert/strict";
import { deepEqual, equal, rejects, throws } from "@std/assert";

/** Whether `f` fails as an assertion does. */
function fails(f: () => unknown): boolean {
  try {
    f();
  } catch (e) {
    return e instanceof assert.AssertionError;
  }
  return false;
}

Deno.test("equal() and deepEqual() compare without type conversion", () => {
  assert.ok(fails(() => equal("1", 1)));
  assert.ok(fails(() => equal("", false)));
  assert.ok(fails(() => deepEqual([1], ["1"])));
  assert.ok(fails(() => deepEqual({ a: 0 }, { a: false })));
  assert.ok(!fails(() => deepEqual({ a: [1, "x"] }, { a: [1, "x"] })));
});

Deno.test("throws() checks the class and what the message holds, or the whole text against a pattern", () => {
  const boom = () => {
    throw new RangeError("port 0 out of range");
  };
  assert.ok(!fails(() => throws(boom, RangeError, "out of range")));
  assert.ok(fails(() => throws(boom, RangeError, "in range and more")));
  assert.ok(fails(() => throws(boom, TypeError)));
  assert.ok(!fails(() => throws(boom, /^RangeError: port 0/)));
  assert.ok(fails(() => throws(boom, /^TypeError/)));
  assert.ok(fails(() => throws(() => 1)));
  assert.ok(!fails(() => throws(boom, (e: Error) => e.message.startsWith("port"))));
  assert.ok(fails(() => throws(boom, (e: Error) => e.message.startsWith("host"))));
});

Deno.test("rejects() checks a rejection as throws() checks an error", async () => {
  const boom = () => Promise.reject(new RangeError("port 0 out of range"));
  await rejects(boom, RangeError, "out of range");
  await assert.rejects(() => rejects(boom, RangeError, "in range"), assert.AssertionError);
  await assert.rejects(() => rejects(Promise.resolve(1)), assert.AssertionError);
});
