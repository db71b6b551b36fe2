/**
 * `--help` names every environment variable the entrypoint reads: each
 * `CHAMELEON_*` name and `NO_COLOR` found in the modules main.ts can load.
 */
import { equal } from "@std/assert";
import { helpText } from "../cli.ts";
import { entrypointModules } from "./helpers.ts";

/** Set by the entrypoint for its own exec stage, not by users (the second is a prefix). */
const INTERNAL = new Set(["CHAMELEON_EXEC_STAGE", "CHAMELEON_RESTORE_"]);

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

/**
 * The names a module reads from the environment, as literals: `env("X")` and
 * the other readers (`envValue`, `hasEnv`, `envList`, `givenEnv`, `portEnv`,
 * `intEnv`, `namedInt`, `idEnv`, `jsonEnv`, ...) and `env["X"]`.
 */
function namesRead(text: string): string[] {
  const re =
    /\b(?:env|envValue|hasEnv|envList|givenEnv|portEnv|envSwitch|intEnv|positiveIntEnv|namedInt|idEnv|jsonEnv|pyJsonEnv|v)\((?:\w+, )?"([A-Za-z_][A-Za-z0-9_]*)"|\benv\["([A-Za-z_][A-Za-z0-9_]*)"\]/g;
  // anyGiven(input, ["A", "B"]) asks of each name in its list.
  const lists = [...text.matchAll(/\banyGiven\(\w+, \[([^\]]*)\]/g)].flatMap((m) =>
    [...m[1]!.matchAll(/"([A-Za-z_][A-Za-z0-9_]*)"/g)].map((n) => n[1]!)
  );
  return [...[...text.matchAll(re)].map((m) => m[1] ?? m[2]!), ...lists];
}

Deno.test("the README's Read table names every variable the adapters and the start read", async () => {
  const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("### Read"), readme.indexOf("### Set"));
  const tokens = [...section.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  // `AIP_*` covers a prefix; `_NNODES` after `SLURM_NODEID` a sibling (any name ending so).
  const covered = (name: string) =>
    tokens.some((t) =>
      t === name || (t.endsWith("*") && name.startsWith(t.slice(0, -1))) ||
      (t.startsWith("_") && name.endsWith(t))
    );
  const names = new Set<string>();
  for (const file of await entrypointModules()) {
    // The detectors' signals are shown by --explain, as the table's first row says.
    if (file.includes("/contexts/")) continue;
    for (const n of namesRead(Deno.readTextFileSync(file))) if (!INTERNAL.has(n)) names.add(n);
  }
  equal(names.size > 40, true, `found only ${[...names].join(", ")}`);
  const missing = [...names].filter((n) => !covered(n)).sort();
  equal(missing.join(", "), "", `missing from the README's Read table: ${missing.join(", ")}`);
});
