import { match } from "@std/assert";
import { failureText } from "./report.ts";

Deno.test("failureText() names the signals that crash programs", () => {
  for (
    const [n, name] of [[4, "SIGILL"], [6, "SIGABRT"], [7, "SIGBUS"], [8, "SIGFPE"], [
      11,
      "SIGSEGV",
    ]] as const
  ) {
    match(
      failureText(["python3", "t.py"], { kind: "signaled", signal: n }, ""),
      new RegExp(`killed by signal ${name} \\(${n}\\)$`),
    );
  }
});
