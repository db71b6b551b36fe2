/**
 * Design §1: detectors and adapters are pure. Nothing under contexts/ or
 * adapters/ may touch `Deno.` or `process.`, or import (transitively) a module
 * that does, or import anything outside the project.
 */
import { deepEqual, equal } from "@std/assert";
import { ROOT, tempDir } from "./helpers.ts";

/** Removes comments so JSDoc mentioning `Deno.Command` is not a finding. */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

const IMPORT =
  /(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s+["']([^"']+)["']/g;

/** Problems of one module source (not following imports). */
function problemsOf(src: string): { world: string[]; imports: string[] } {
  const code = stripComments(src);
  // globalThis too: `globalThis["Deno"]` reaches the runtime without naming it as a global.
  const world = [...code.matchAll(/\b(Deno|process)\.[A-Za-z]+|\bglobalThis\b/g)].map((m) => m[0]);
  const imports = [...code.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]!);
  return { world, imports };
}

function check(file: string, seen: Map<string, string[]>, chain: string[]): void {
  if (seen.has(file)) return;
  const found: string[] = [];
  seen.set(file, found);
  const { world, imports } = problemsOf(Deno.readTextFileSync(file));
  const where = [...chain, file.slice(ROOT.length + 1)].join(" -> ");
  for (const w of world) found.push(`${where}: uses ${w}`);
  for (const spec of imports) {
    if (!spec.startsWith(".")) {
      found.push(`${where}: imports ${spec} (outside the project)`);
      continue;
    }
    check(new URL(spec, `file://${file}`).pathname, seen, [...chain, file.slice(ROOT.length + 1)]);
  }
}

function pureModules(dir: string): string[] {
  return [...Deno.readDirSync(`${ROOT}/${dir}`)]
    .filter((e) => e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts"))
    .map((e) => `${ROOT}/${dir}/${e.name}`);
}

Deno.test("nothing under contexts/ or adapters/ touches Deno or process, even through imports", () => {
  const seen = new Map<string, string[]>();
  const files = [...pureModules("contexts"), ...pureModules("adapters")];
  equal(files.length > 10, true);
  for (const f of files) check(f, seen, []);
  deepEqual([...seen.values()].flat(), []);
});

Deno.test("the purity check itself finds a world access and a foreign import", () => {
  const p = problemsOf(
    `// Deno.env in a comment is fine\nimport { x } from "node:fs";\nconst a = Deno.env.get("A");\nprocess.exit(1);\nglobalThis["Deno"];`,
  );
  deepEqual(p.world, ["Deno.env", "process.exit", "globalThis"]);
  deepEqual(p.imports, ["node:fs"]);
});

/** Type-checks `files` with the ECMAScript library only: no Deno namespace, no Node globals. */
async function checkWithoutRuntime(
  files: readonly string[],
): Promise<{ ok: boolean; out: string }> {
  using tmp = tempDir();
  const project = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`));
  Deno.writeTextFileSync(
    `${tmp.path}/deno.json`,
    JSON.stringify({ compilerOptions: { ...project.compilerOptions, lib: ["esnext"] } }),
  );
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", "--config", `${tmp.path}/deno.json`, ...files],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { ok: r.success, out: new TextDecoder().decode(r.stderr) };
}

Deno.test("contexts/ and adapters/ type-check without the Deno namespace or Node globals", async () => {
  // Catches what a text search misses: `const { env } = Deno`, `Deno["env"]`, a bare `process`.
  const r = await checkWithoutRuntime([...pureModules("contexts"), ...pureModules("adapters")]);
  equal(r.ok, true, r.out);
});

Deno.test("the library check itself fails on a module that reaches the runtime", async () => {
  using tmp = tempDir();
  const bad = `${tmp.path}/bad.ts`;
  Deno.writeTextFileSync(bad, 'const { env } = Deno;\nexport const home = env.get("HOME");\n');
  const r = await checkWithoutRuntime([bad]);
  equal(r.ok, false);
  equal(r.out.includes("Cannot find name 'Deno'"), true, r.out);
});
