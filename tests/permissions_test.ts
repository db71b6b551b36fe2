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

Deno.test("the compiled binary's V8 flags are the ones the README's paragraph on them names", () => {
  const readme = Deno.readTextFileSync(`${ROOT}/README.md`);
  const from = readme.indexOf("- **One V8 flag, in the compiled binary.**");
  ok(from >= 0, "README has no paragraph on the compiled binary's V8 flags");
  const paragraph = readme.slice(from, readme.indexOf("\n- ", from + 1));
  for (const word of tasks["compile"]!.split(/\s+/).filter((w) => w.startsWith("--v8-flags="))) {
    ok(paragraph.replace(/\s+/g, " ").includes("`" + word + "`"), word);
  }
});

Deno.test("the README justifies every permission flag", () => {
  const readme = Deno.readTextFileSync(`${ROOT}/README.md`);
  for (const flag of PERMISSIONS) ok(readme.includes("`" + flag + "`"), flag);
});
