import { equal } from "@std/assert";
import { InputError, UsageError } from "./errors.ts";

Deno.test("errors are one line whatever the message carries", () => {
  const e = new InputError("File /a\nb: expected\r\n   an object");
  equal(e.message, "File /a b: expected an object");
  equal(e.exitCode, 78);
  equal(new UsageError("Option --x\n").message, "Option --x");
});
