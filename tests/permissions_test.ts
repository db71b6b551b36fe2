import { deepEqual, equal, ok } from "@std/assert";
import { PERMISSIONS } from "../sys/permissions.ts";
import { ROOT } from "./helpers.ts";

const tasks: Record<string, string> = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)).tasks;

Deno.test("deno.json explain, start and compile use exactly the documented permission list", () => {
  for (const name of ["explain", "start", "compile"]) {
    const flags = tasks[name]!.split(/\s+/).filter((w) => w.startsWith("--allow-"));
    deepEqual(flags, [...PERMISSIONS], name);
    equal(/(^|\s)(-A|--allow-all)(\s|$)/.test(tasks[name]!), false, `${name} uses -A`);
  }
});

Deno.test("the compiled binary keeps no V8 code cache (a root process would load it from $TMPDIR)", () => {
  ok(tasks["compile"]!.split(/\s+/).includes("--no-code-cache"), tasks["compile"]);
});

Deno.test("the compiled binary's V8 flags are the ones the README documents", () => {
  const readme = Deno.readTextFileSync(`${ROOT}/README.md`);
  const v8 = tasks["compile"]!.split(/\s+/).filter((w) => w.startsWith("--v8-flags="));
  equal(v8.length, 1, tasks["compile"]);
  for (const flag of v8[0]!.slice("--v8-flags=".length).split(",")) ok(readme.includes(flag), flag);
});

Deno.test("the README justifies every permission flag", () => {
  const readme = Deno.readTextFileSync(`${ROOT}/README.md`);
  for (const flag of PERMISSIONS) ok(readme.includes("`" + flag + "`"), flag);
});
