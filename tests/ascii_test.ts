/**
 * Every project module the entrypoint can load is plain ASCII. Deno hands an
 * ASCII module to V8 as it is; one character beyond ASCII makes it decode the
 * whole text, inline source map included, into fresh memory on every start
 * (bench/RESULTS.md: 4-7 ms of a live start from the sources on the
 * development machine). Output characters beyond ASCII are written as escapes
 * (`"\u2713"`). The npm packages (yaml, zod) are not ours and load only to
 * validate a YAML config at start, the slow path the README advises against.
 */
import { deepEqual, equal } from "@std/assert";
import { entrypointModules, nonAsciiLines, ROOT } from "./helpers.ts";

Deno.test("every project module in main.ts's graph, dynamic imports included, is ASCII", async () => {
  const local = await entrypointModules();
  // The graph holds the lazily loaded parts too (explain, apply, run, the config schema).
  for (const part of ["start.ts", "explain.ts", "apply.ts", "contexts/mod.ts", "adapters/mod.ts"]) {
    equal(local.includes(`${ROOT}/${part}`), true, part);
  }
  const found = local.flatMap((path) =>
    nonAsciiLines(Deno.readTextFileSync(path)).map((l) => `${path}:${l}`)
  );
  deepEqual(found, []);
});

Deno.test("nonAsciiLines() finds a section sign, an ellipsis and a check mark", () => {
  deepEqual(nonAsciiLines("a\n// design \u00a76\nb \u2026\nok"), [
    "2: // design \u00a76",
    "3: b \u2026",
  ]);
  deepEqual(nonAsciiLines('const mark = "\\u2713";'), []);
});
