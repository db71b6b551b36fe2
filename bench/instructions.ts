/**
 * Start-up cost in instructions: each case runs under `valgrind --tool=callgrind`,
 * which counts the instructions the process executes (all threads, user space).
 * Unlike wall time this does not move with the machine's load or with how
 * expensive its page faults are, so it compares starts across machines and
 * days. It leaves out what the kernel does (page faults, file reads), which
 * wall time includes, so it is a second measure beside bench/startup.ts, not
 * its replacement. Cases that end in `execve` are left out: the count stops
 * with the process image. The normalised-config case counts what the config
 * target's wall-time delta is too noisy to show on these machines.
 *
 * With `--isolated`, each case runs with a `DENO_DIR` of its own, warmed by two
 * runs first, and V8 single-threaded: runs of one code then agree within about
 * 0.1 million instructions instead of 2 (Deno's shared caches grow between
 * runs, and V8's background threads vary), so a 1 % change shows. The counts
 * are not comparable with the default mode's: its section is its own.
 *
 *   deno run -A bench/instructions.ts [--runs 3] [--isolated] [--write]
 */
import { parseArgs } from "node:util";
import { tempDir } from "../tests/helpers.ts";
import {
  buildBundle,
  BUNDLE,
  BUNDLE_UNCACHED,
  type Case,
  configCase,
  FLOOR,
  machine,
  median,
  normalisedConfig,
  RUN,
  runsOption,
  targetCases,
  writeSection,
} from "./lib.ts";

/**
 * The floor, the target cases that do not exec (from the sources, the bundle, and the bundle as
 * the compiled entrypoint runs it), and the sources' start with a normalised config. Deno applies
 * every `--v8-flags` it is given, so `--isolated`'s joins the compile task's.
 */
function cases(configJson: string): Case[] {
  return [
    FLOOR,
    ...[
      ...targetCases("", RUN),
      ...targetCases("bundle: ", BUNDLE),
      ...targetCases("bundle as compiled (no code cache): ", BUNDLE_UNCACHED),
    ].filter((c) => !c.execs),
    configCase(RUN, configJson),
  ];
}

/** A case run with a cache folder of its own and V8 on one thread (see `--isolated`). */
export function isolated(c: Case, denoDir: string): Case {
  const [deno, run, ...rest] = c.argv;
  return {
    ...c,
    argv: [deno!, run!, "--v8-flags=--single-threaded", ...rest],
    env: { ...c.env, DENO_DIR: denoDir },
  };
}

/** Runs the case once outside valgrind (filling its code cache). */
export async function warm(c: Case): Promise<void> {
  const [cmd, ...args] = c.argv;
  const out = await new Deno.Command(cmd!, {
    args,
    env: c.env ?? {},
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`${c.name} failed (${out.code}): ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Instructions one run of the case executes. */
export async function count(c: Case): Promise<number> {
  const out = await new Deno.Command("valgrind", {
    args: [
      "--tool=callgrind",
      "--callgrind-out-file=/dev/null",
      // V8 writes the code it runs: have valgrind notice code written outside files.
      "--smc-check=all-non-file",
      ...c.argv,
    ],
    env: c.env ?? {},
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr);
  const m = /Collected : (\d+)/.exec(text);
  if (!out.success || m === null) throw new Error(`${c.name} failed (${out.code}): ${text}`);
  return Number(m[1]);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "3" },
      isolated: { type: "boolean", default: false },
      write: { type: "boolean", default: false },
    },
  });
  const runs = runsOption(values.runs);
  buildBundle();
  using tmp = tempDir();
  const CASES = cases(normalisedConfig(tmp.path));
  const counts = new Map<string, number>();
  for (const [n, plain] of CASES.entries()) {
    let c = plain;
    if (values.isolated) {
      c = isolated(plain, `${tmp.path}/deno-dir-${n}`);
      for (let i = 0; i < 2; i++) await warm(c);
    }
    const each: number[] = [];
    for (let i = 0; i < runs; i++) each.push(await count(c));
    counts.set(c.name, median(each));
  }
  const floor = counts.get(FLOOR.name)!;
  const rows = CASES.map((c) => {
    const n = counts.get(c.name)!;
    return `| ${c.name} | ${(n / 1e6).toFixed(1)} | ${(n / floor).toFixed(2)}x | ${
      c.target ?? ""
    } |`;
  });
  const body = [
    `${await machine()}, median of ${runs} runs per case; command: \`${
      values.isolated
        ? "deno run -A bench/instructions.ts --isolated --write"
        : "deno task bench:instructions"
    }\``,
    "",
    "| case | million instructions | ratio to floor | target (stated for wall time) |",
    "| --- | ---: | ---: | --- |",
    ...rows,
  ].join("\n");
  console.log(body);
  if (values.write) writeSection(values.isolated ? "instructions-isolated" : "instructions", body);
}
