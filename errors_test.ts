import { deepEqual, equal } from "@std/assert";
import {
  CommandError,
  errorLine,
  EXIT,
  exitCodeOf,
  HookError,
  HostWaitError,
  InputError,
  shortQuotes,
  UsageError,
} from "./errors.ts";

Deno.test("errors are one line whatever the message carries", () => {
  const e = new InputError("File /a\nb: expected\r\n   an object");
  equal(e.message, "File /a b: expected an object");
  equal(e.exitCode, 78);
  equal(new UsageError("Option --x\n").message, "Option --x");
  equal(new InputError("File /a\rb").message, "File /a b", "a lone carriage return too");
});

Deno.test("errorLine() and exitCodeOf() say the same of an error wherever it ends a start (log line, failure file)", () => {
  const ours = new InputError("File /x: expected an object");
  equal(errorLine(ours), "File /x: expected an object");
  equal(exitCodeOf(ours), 78);
  const bug = new TypeError("cannot read properties of undefined");
  equal(errorLine(bug), "Internal error (a bug): cannot read properties of undefined");
  equal(exitCodeOf(bug), 70);
  equal(errorLine("thrown text"), "Internal error (a bug): thrown text");
});

Deno.test("each error a user can cause carries design section 7's exit code and its class's name", () => {
  const cases: [Error & { exitCode: number }, string, number][] = [
    [new UsageError("u"), "UsageError", 2],
    [new HostWaitError("h"), "HostWaitError", 69],
    [new InputError("i"), "InputError", 78],
    [new HookError("k", 3), "HookError", 3],
    [new CommandError("c", 126), "CommandError", 126],
    [new CommandError("c", 127), "CommandError", 127],
  ];
  deepEqual(
    { ...EXIT },
    { usage: 2, hostWait: 69, internal: 70, config: 78, notExecutable: 126, notFound: 127 },
  );
  for (const [e, name, code] of cases) {
    equal(e.name, name);
    equal(e.exitCode, code, name);
    equal(exitCodeOf(e), code, name);
  }
});

Deno.test("a failed hook never ends a start with 0, even when it gives no code of its own", () => {
  equal(new HookError("Hook /h could not start: reason", 0).exitCode, 1);
});

Deno.test("shortQuotes() cuts a quoted value over 200 characters to its start and says its length; shorter ones and the rest stay", () => {
  const big = "v".repeat(100_000);
  equal(
    shortQuotes(`Variable X ${JSON.stringify(big)}: expected "a" or "b"`),
    `Variable X "${"v".repeat(200)}"... (100000 characters): expected "a" or "b"`,
  );
  const normal = `Variable "${"n".repeat(200)}": expected a name, got "\\"quoted\\" \\\\ \\u001b"`;
  equal(shortQuotes(normal), normal);
  // Escapes count as the characters they stand for, and are never cut in two; nor is a pair.
  const escaped = JSON.stringify("\n".repeat(300));
  equal(shortQuotes(escaped), `${JSON.stringify("\n".repeat(200))}... (300 characters)`);
  // Characters are code points: 151 of them (302 UTF-16 units) are not cut; 251 are, never
  // between the halves of a pair.
  const short = JSON.stringify("x" + "\u{1f600}".repeat(150));
  equal(shortQuotes(short), short);
  const pairs = JSON.stringify("x" + "\u{1f600}".repeat(250));
  equal(
    shortQuotes(pairs),
    `${JSON.stringify("x" + "\u{1f600}".repeat(199))}... (251 characters)`,
  );
  // Text between quotes that is no JSON string is left as it is.
  const raw = `PATH="${"\\q".repeat(150)}"`;
  equal(shortQuotes(raw), raw);
});

Deno.test("shortQuotes() pairs quotes as a JSON string pattern tried at each quote does, in one pass", () => {
  // The pattern the one pass stands for: what it cuts and what it leaves must not differ.
  const byPattern = (line: string) => line.replace(/"(?:[^"\\]|\\.)*"/g, (q) => shortQuotes(q));
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pieces = ['"', "\\", "a", "\u00e9", "\\n", "x".repeat(120), '\\"'];
  for (let n = 0; n < 400; n++) {
    let line = "";
    const length = Math.floor(next() * 40);
    for (let i = 0; i < length; i++) line += pieces[Math.floor(next() * pieces.length)];
    equal(shortQuotes(line), byPattern(line), JSON.stringify(line));
  }
  // Quotes that never close leave the line as it is.
  const open = `Variable "${'\\"'.repeat(50_000)}`;
  equal(shortQuotes(open), open);
});
