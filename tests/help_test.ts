/**
 * `--help` names every environment variable the entrypoint reads: each
 * `CHAMELEON_*` name and `NO_COLOR` found in the modules main.ts can load.
 */
import { equal } from "@std/assert";
import { helpText } from "../cli.ts";
import { entrypointModules } from "./helpers.ts";

/** Set by the entrypoint for its own exec stage, not by users. */
const INTERNAL = new Set(["CHAMELEON_EXEC_STAGE"]);

Deno.test("--help names every environment variable the sources read", async () => {
  const names = new Set<string>();
  for (const file of await entrypointModules()) {
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
