/**
 * Whole-process start-up benchmark: runs each case many times, interleaved,
 * and reports medians, p90 and the ratio to the Deno hello-world floor. With
 * `--write` the table replaces its section of bench/RESULTS.md.
 *
 *   deno run -A bench/startup.ts [--runs 40] [--write] [--only name,name] [--against DIR]
 *
 * With `--against DIR` (another checkout, e.g. `git worktree add DIR COMMIT`)
 * the start-up section also runs DIR's sources and bundle, interleaved with
 * this tree's, for a before/after of the same hour; nothing is written then.
 *
 * The "bundle" cases run what `deno task compile` compiles into the image
 * (`deno task bundle`, rebuilt here first) with the same `deno run`, and
 * again with the options the compile task gives the binary (`--no-code-cache`,
 * its V8 flags), as the compiled entrypoint runs it.
 */
import { parseArgs } from "node:util";
import { fixturePath as fx, ROOT, tempDir } from "../tests/helpers.ts";
import {
  buildBundle,
  BUNDLE as bundle,
  BUNDLE_UNCACHED,
  type Case,
  configCase,
  FLOOR,
  machine,
  measure,
  normalisedConfig,
  RUN as run,
  runsOption,
  targetCases,
  writeSection,
} from "./lib.ts";

/** `argv` with this tree's paths replaced by `dir`'s. */
const inTree = (dir: string, argv: readonly string[]) =>
  argv.map((w) => w.startsWith(`${ROOT}/`) ? `${dir}/${w.slice(ROOT.length + 1)}` : w);

/** The cases, grouped by the section of RESULTS.md they belong to. */
function sections(configJson: string, against?: string): Record<string, Case[]> {
  const other = against === undefined ? [] : [
    ...targetCases(`${against}: `, inTree(against, run)),
    ...targetCases(`${against} bundle: `, inTree(against, bundle)),
  ];
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
      ...targetCases("bundle without a code cache, as compiled: ", BUNDLE_UNCACHED),
      ...other,
    ],
    config: [
      FLOOR,
      {
        name: "live --explain --format json, no config",
        argv: [...run, "--explain", "--format", "json"],
      },
      configCase(run, configJson),
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
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "40" },
      write: { type: "boolean", default: false },
      only: { type: "string" },
      against: { type: "string" },
    },
  });
  const runs = runsOption(values.runs);
  buildBundle();
  if (values.against !== undefined) buildBundle(values.against);
  using tmp = tempDir();
  const cases = sections(normalisedConfig(tmp.path), values.against);
  const only = values.only?.split(",") ?? Object.keys(cases);
  for (const name of only) {
    if (!(name in cases)) {
      throw new Error(`--only ${name}: expected one of ${Object.keys(cases).join(", ")}`);
    }
  }
  for (const name of only) {
    const table = await measure(cases[name]!, runs);
    const body = `${await machine()}, ${runs} runs per case, interleaved.\n\n${table}`;
    console.log(`## ${name}\n\n${body}\n`);
    if (values.write && values.against === undefined) writeSection(name, body);
  }
}
