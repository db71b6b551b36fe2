import { deepEqual, equal, match, ok } from "@std/assert";
import { waitForHosts } from "./apply.ts";
import { HostWaitError } from "./errors.ts";
import { Logger } from "./log.ts";
import { cutUtf8, failureText } from "./report.ts";

Deno.test("waitForHosts() resolves through /etc/hosts (getaddrinfo), not only DNS", async () => {
  const lines: string[] = [];
  await waitForHosts(["localhost"], 5, new Logger({}, (l) => lines.push(l)));
  deepEqual(lines, []);
});

Deno.test("waitForHosts() prints progress and fails with exit 69 naming what never resolved", async () => {
  const lines: string[] = [];
  const log = new Logger({}, (l) => lines.push(l));
  const e = await waitForHosts(["localhost", "never-resolves.invalid"], 1, log, 200).then(
    () => null,
    (x) => x,
  );
  if (!(e instanceof HostWaitError)) throw new Error(`expected a HostWaitError, got ${e}`);
  match(e.message, /within 1 s: never-resolves\.invalid \(resolved 1 of 2\)/);
  equal(e.exitCode, 69);
  ok(
    lines.some((l) => /waiting for 1 of 2 hosts to resolve: never-resolves\.invalid/.test(l)),
    lines.join("\n"),
  );
});

Deno.test("cutUtf8() never splits a character", () => {
  equal(cutUtf8("aé", 2), "a");
  equal(cutUtf8("aé", 3), "aé");
  equal(cutUtf8("€€", 4), "€");
  equal(cutUtf8("plain", 100), "plain");
});

Deno.test("failureText() names the code or the signal and keeps the stderr tail within 1024 bytes", () => {
  equal(
    failureText(["python3", "t.py"], { kind: "exited", code: 3 }, "boom\n"),
    "Command python3 t.py exited with code 3\nboom",
  );
  match(
    failureText(["x"], { kind: "signaled", signal: 9 }, ""),
    /killed by signal SIGKILL \(9\), perhaps out of memory/,
  );
  ok(
    new TextEncoder().encode(failureText(["x"], { kind: "exited", code: 1 }, "€".repeat(2000)))
      .length <= 1024,
  );
  // A long stderr keeps its end (the traceback's last lines), not its beginning.
  const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join("\n");
  const report = failureText(["x"], { kind: "exited", code: 1 }, lines);
  ok(report.startsWith("Command x exited with code 1\n"), report.slice(0, 60));
  ok(report.endsWith("line 999"), report.slice(-60));
  ok(new TextEncoder().encode(report).length <= 1024);
});
