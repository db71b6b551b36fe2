import { equal } from "@std/assert";
import { errorLine, exitCodeOf, InputError, UsageError } from "./errors.ts";

Deno.test("errors are one line whatever the message carries", () => {
  const e = new InputError("File /a\nb: expected\r\n   an object");
  equal(e.message, "File /a b: expected an object");
  equal(e.exitCode, 78);
  equal(new UsageError("Option --x\n").message, "Option --x");
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
