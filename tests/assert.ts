/**
 * The assertions the tests import as `@std/assert`, all strict. Deno 2.9.6's
 * `node:assert/strict` exports `equal` and `deepEqual` under their loose
 * definitions (unlike Node's, where that module's are the strict ones), so
 * there `equal("1", 1)`, `equal("", false)` and `deepEqual([1], ["1"])`
 * pass. Its default export's strict functions do not.
 */
import assert from "node:assert/strict";

/** `a === b` (Object.is): no type conversion. */
export const equal: <T>(actual: unknown, expected: T, message?: string) => asserts actual is T =
  assert.strictEqual;

/** Equal structure and values, compared strictly (types and prototypes too). */
export const deepEqual: <T>(actual: unknown, expected: T, message?: string) => asserts actual is T =
  assert.deepStrictEqual;

export const ok: (value: unknown, message?: string) => asserts value = assert.ok;
export const match: (value: string, pattern: RegExp, message?: string) => void = assert.match;

// deno-lint-ignore no-explicit-any
type ErrorClass = abstract new (...args: any[]) => Error;
/** A test of the error itself (an arrow function: no prototype, unlike a class). */
type Validate = (e: Error) => boolean;
type Expected = RegExp | ErrorClass | Validate;

/** What a thrown error must be: a message pattern, a test, or a class and what its message holds. */
function check(e: unknown, expected: Expected | undefined, holds?: string | RegExp): void {
  const label = typeof holds === "string" ? holds : undefined;
  if (expected instanceof RegExp) {
    match(String(e), expected, label); // as Node's: "UsageError: message" for an error
    return;
  }
  if (typeof expected === "function" && expected.prototype === undefined) {
    ok((expected as Validate)(e as Error), label ?? `the error did not pass the test: ${e}`);
    return;
  }
  if (expected !== undefined && !(e instanceof (expected as ErrorClass))) {
    const got = e instanceof Error ? e.name : typeof e;
    throw new assert.AssertionError({ message: `expected ${expected.name}, got ${got}: ${e}` });
  }
  if (holds === undefined) return;
  const message = e instanceof Error ? e.message : String(e);
  if (holds instanceof RegExp) return match(message, holds);
  const shown = `expected a message holding ${JSON.stringify(holds)}, got ${
    JSON.stringify(message)
  }`;
  ok(message.includes(holds), shown);
}

/**
 * That `fn` throws: an error whose text (`Name: message`, as Node's) matches
 * the pattern, an error the test passes, or an instance of the class whose
 * message holds `holds` (a string it includes, or a pattern). After a pattern
 * or a test, a string `holds` is the failure message (a label), as in Node.
 * Node's `throws` takes a third argument as its own failure message and
 * checks nothing with it.
 */
export function throws(
  fn: () => unknown,
  expected?: Expected,
  holds?: string | RegExp,
): void {
  try {
    fn();
  } catch (e) {
    check(e, expected, holds);
    return;
  }
  throw new assert.AssertionError({ message: "expected an error, but nothing was thrown" });
}

/** The same for a promise (or a function giving one) that must reject. */
export async function rejects(
  p: Promise<unknown> | (() => Promise<unknown>),
  expected?: Expected,
  holds?: string | RegExp,
): Promise<void> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    check(e, expected, holds);
    return;
  }
  throw new assert.AssertionError({ message: "expected a rejection, but it resolved" });
}
