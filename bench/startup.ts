/**
 * Whole-process start-up benchmark: runs each case many times, interleaved,
 * and reports medians, p90 and the ratio to the Deno hello-world floor. With
 * `--write` the table replaces its section of bench/RESULTS.md.
 *
 *   deno run -A bench/startup.ts [--runs 40] [--write] [--only name,name]
 *
 * The "bundle" cases run what `deno task compile` compiles into the image
 * (`deno task bundle`, rebuilt here first) with the same `deno run`.
 */
import { fixturePath as fx, ROOT, tempDir } from "../tests/helpers.ts";
import {
  buildBundle,
  BUNDLE as bundle,
  type Case,
  FLOOR,
  machine,
  measure,
  RUN as run,
  targetCases,
  writeSection,
} from "./lib.ts";

/** Normalised JSON of the ml example, written by --check-config for the config cases. */
function normalisedConfig(dir: string): string {
  const out = `${dir}/config.json`;
  const prepared = new Deno.Command(run[0]!, {
    args: [
      ...run.slice(1),
      "--check-config",
      `${ROOT}/examples/config/ml.yaml`,
      "--write-json",
      out,
    ],
    stderr: "null",
  }).outputSync();
  if (!prepared.success) {
    throw new Error("could not write the normalised config for the config cases");
  }
  return out;
}

/** The cases, grouped by the section of RESULTS.md they belong to. */
function sections(configJson: string): Record<string, Case[]> {
  return {
    startup: [
      { name: "bash -c 'exec true'", argv: ["bash", "-c", "exec true"] },
      FLOOR,
      {
        name: "replay local docker (--explain --format json --snapshot)",
        argv: [...run, "--explain", "--format", "json", "--snapshot", fx("local-unknown/docker")],
      },
      ...targetCases("", run),
      ...targetCases("bundle: ", bundle),
    ],
    config: [
      FLOOR,
      {
        name: "live --explain --format json, no config",
        argv: [...run, "--explain", "--format", "json"],
      },
      {
        name: "live --explain --format json, normalised config.json",
        argv: [...run, "--explain", "--format", "json"],
        env: { CHAMELEON_CONFIG: configJson },
        target: "≤ 3 ms over no config",
      },
      { name: "live start, exec true, no config", argv: [...run, "true"] },
      {
        name: "live start, exec true, normalised config.json (switches to the config's user)",
        argv: [...run, "true"],
        env: { CHAMELEON_CONFIG: configJson },
      },
      {
        name: "live start, exec true, config.yaml (validated at start)",
        argv: [...run, "true"],
        env: { CHAMELEON_CONFIG: `${ROOT}/examples/config/ml.yaml` },
      },
    ],
  };
}

if (import.meta.main) {
  const args = Deno.args;
  const runs = Number(args[args.indexOf("--runs") + 1] ?? 40) || 40;
  buildBundle();
  using tmp = tempDir();
  const cases = sections(normalisedConfig(tmp.path));
  const only = args.includes("--only")
    ? args[args.indexOf("--only") + 1]!.split(",")
    : Object.keys(cases);
  for (const name of only) {
    const table = await measure(cases[name]!, runs);
    const body = `${await machine()}, ${runs} runs per case, interleaved.\n\n${table}`;
    console.log(`## ${name}\n\n${body}\n`);
    if (args.includes("--write")) writeSection(name, body);
  }
}
