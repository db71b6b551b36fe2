/**
 * What a V8 code cache and eager compilation do to the start-up cases: the
 * sources and the bundle run as in bench/startup.ts, with and without
 * `--v8-flags=--no-lazy` (every function compiled when its module loads, so
 * the code cache holds them all), and the bundle also as the compiled
 * entrypoint runs it: the compile task's `--no-code-cache` and V8 flags
 * (README, "No V8 code cache"), with and without `--no-lazy`.
 * Interleaved, medians, ratios to the Deno hello-world floor.
 *
 * Each variant runs with a `DENO_DIR` of its own, warmed by the first runs: V8
 * rejects a code cache written under other flags, so variants sharing one cache
 * would rewrite it on every run and none would measure a warm cache.
 *
 *   deno run -A bench/code_cache.ts [--runs 40] [--write]
 */
import { parseArgs } from "node:util";
import { tempDir } from "../tests/helpers.ts";
import {
  buildBundle,
  BUNDLE,
  type Case,
  COMPILED_OPTIONS,
  FLOOR,
  machine,
  measure,
  RUN,
  runsOption,
  targetCases,
  writeSection,
} from "./lib.ts";

/** `deno run` options tried on each entry (Deno applies every `--v8-flags`); the sources always run with a cache. */
const VARIANTS: readonly { readonly options: readonly string[]; readonly bundleOnly: boolean }[] = [
  { options: [], bundleOnly: false },
  { options: ["--v8-flags=--no-lazy"], bundleOnly: false },
  { options: COMPILED_OPTIONS, bundleOnly: true },
  { options: [...COMPILED_OPTIONS, "--v8-flags=--no-lazy"], bundleOnly: true },
];

/** The cases: the floor, then each entry's target cases under each variant, each with its own cache folder. */
function cases(cacheRoot: string): Case[] {
  const out: Case[] = [{ ...FLOOR, env: { DENO_DIR: `${cacheRoot}/floor` } }];
  const entries = [["sources", RUN], ["bundle", BUNDLE]] as const;
  entries.forEach(([label, [deno, run, ...rest]]) => {
    VARIANTS.forEach((v, i) => {
      if (v.bundleOnly && label !== "bundle") return;
      const name = [label, ...v.options].join(" ");
      const env = { DENO_DIR: `${cacheRoot}/${label}-${i}` };
      for (const c of targetCases(`${name}: `, [deno!, run!, ...v.options, ...rest])) {
        out.push({ ...c, env });
      }
    });
  });
  return out;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "40" },
      write: { type: "boolean", default: false },
    },
  });
  const runs = runsOption(values.runs);
  buildBundle();
  using tmp = tempDir();
  const table = await measure(cases(tmp.path), runs);
  const body =
    `${await machine()}, ${runs} runs per case, interleaved, a \`DENO_DIR\` per variant; ` +
    `command: \`deno run -A bench/code_cache.ts --runs ${runs} --write\`\n\n${table}`;
  console.log(body);
  if (values.write) writeSection("code-cache", body);
}
