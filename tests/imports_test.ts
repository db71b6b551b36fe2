/**
 * How a start from the sources loads its modules. main.ts and
 * start_modules.ts import every module their start needs directly (see
 * start_modules.ts why): the lists stay equal to the module graph that
 * `deno info` reports, so a new module cannot slip back behind a large
 * importer unnoticed. And the config validator stays out of Deno's graph
 * (see loadConfigSchema in config_load.ts), so a start without a config
 * reads no npm package.
 */
import { deepEqual, equal } from "@std/assert";
import { entrypointArgv, ROOT, runProcess, tempDir } from "./helpers.ts";

interface InfoModule {
  readonly specifier: string;
  readonly dependencies?: readonly {
    readonly code?: { readonly specifier: string };
    readonly isDynamic?: boolean;
  }[];
}

/** The project's modules as `deno info --json main.ts` reports them, by path from the root. */
async function graph(): Promise<Map<string, InfoModule>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(out.success, true, new TextDecoder().decode(out.stderr));
  const modules = JSON.parse(new TextDecoder().decode(out.stdout)).modules as InfoModule[];
  const prefix = `file://${ROOT}/`;
  return new Map(
    modules.filter((m) => m.specifier.startsWith(prefix)).map((m) => [
      m.specifier.slice(prefix.length),
      m,
    ]),
  );
}

/** The project modules `path` imports: statically (type-only imports load nothing), or dynamically. */
function importsOf(
  modules: Map<string, InfoModule>,
  path: string,
  dynamic: boolean,
): string[] {
  const prefix = `file://${ROOT}/`;
  return (modules.get(path)?.dependencies ?? [])
    .filter((d) => (d.isDynamic ?? false) === dynamic && d.code?.specifier.startsWith(prefix))
    .map((d) => d.code!.specifier.slice(prefix.length));
}

/** `root` and every project module it loads through static imports, direct or not. */
function staticClosure(modules: Map<string, InfoModule>, root: string): Set<string> {
  const seen = new Set([root]);
  for (const path of seen) for (const dep of importsOf(modules, path, false)) seen.add(dep);
  return seen;
}

const sorted = (paths: Iterable<string>) => [...paths].sort();

Deno.test("main.ts and start_modules.ts import every module their start loads directly", async () => {
  const modules = await graph();
  const main = staticClosure(modules, "main.ts");
  main.delete("main.ts");
  deepEqual(sorted(importsOf(modules, "main.ts", false)), sorted(main));
  // A start loads start_modules.ts, and that loads start.ts's graph less what main.ts has loaded.
  deepEqual(importsOf(modules, "main.ts", true), ["start_modules.ts"]);
  const start = [...staticClosure(modules, "start.ts")].filter((p) => !main.has(p));
  deepEqual(sorted(importsOf(modules, "start_modules.ts", false)), sorted(start));
  equal(start.length > 40, true);
});

Deno.test("a real start from the sources without a config reads no npm package", async () => {
  using tmp = tempDir();
  const trace = `${tmp.path}/openat.txt`;
  const r = await runProcess([
    "strace",
    "-f",
    "-e",
    "trace=openat",
    "-o",
    trace,
    ...entrypointArgv(),
    "true",
  ]);
  equal(r.code, 0, r.stderr);
  const opened = Deno.readTextFileSync(trace).split("\n").filter((l) => l.includes("openat("));
  // The trace saw Deno load the sources, and not the npm cache (zod's and yaml's metadata).
  equal(opened.some((l) => l.includes(`"${ROOT}/start_modules.ts"`)), true, opened.join("\n"));
  deepEqual(opened.filter((l) => l.includes("/npm/")), []);
});
