/**
 * `--help` names every environment variable the entrypoint reads: each
 * `CHAMELEON_*` name and `NO_COLOR` found in the runtime sources.
 */
import { equal } from "@std/assert";
import { helpText } from "../cli.ts";
import { ROOT } from "./helpers.ts";

/** Set by the entrypoint for its own exec stage, not by users. */
const INTERNAL = new Set(["CHAMELEON_EXEC_STAGE"]);

/** The runtime sources: every .ts file outside tests/, bench/ and tools/, tests beside code excluded. */
function* runtimeSources(dir = ROOT): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) {
      if (![".git", ".cache", "dist", "tests", "bench", "tools", "node_modules"].includes(e.name)) {
        yield* runtimeSources(path);
      }
    } else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) yield path;
  }
}

Deno.test("--help names every environment variable the sources read", () => {
  const names = new Set<string>();
  for (const file of runtimeSources()) {
    for (const m of Deno.readTextFileSync(file).matchAll(/\b(CHAMELEON_[A-Z_]+|NO_COLOR)\b/g)) {
      if (!INTERNAL.has(m[1]!)) names.add(m[1]!);
    }
  }
  equal(names.size > 10, true, `found only ${[...names].join(", ")}`);
  const help = helpText("9.9.9");
  // Whole names: CHAMELEON_LOG must not pass because CHAMELEON_LOG_LEVEL is there.
  const missing = [...names].filter((n) => !new RegExp(`\\b${n}\\b`).test(help)).sort();
  equal(missing.join(", "), "", "variables missing from --help");
});
