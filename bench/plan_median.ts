/**
 * plan() on 10,000 hyperparameters, timed plan by plan: the median, min and
 * p75 of many plans, which shift less with the garbage collector's pauses than
 * `deno bench`'s average. With `--against DIR` (a checkout of another commit,
 * e.g. from `git worktree add DIR <commit>`), that code's plan() is timed too,
 * on the same inputs, for a same-machine ratio: each code in processes of its
 * own, taking turns (`--rounds`), since codes sharing one heap share its
 * garbage collections and so each other's cost of what they leave alive.
 * Each process's own median is listed too: on these virtual machines a whole
 * process sometimes runs at about half speed (the same code, the same count
 * of instructions), and the list shows which processes did.
 *
 *   deno run -A bench/plan_median.ts [--runs N] [--rounds K] [--against DIR] [--write]
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ROOT, runProcess } from "../tests/helpers.ts";
import type { Snapshot } from "../types.ts";
import { machine, median, percentile, runsOption, writeSection } from "./lib.ts";
import { isTooLarge, sagemakerSnapshot } from "./plan_inputs.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "200" },
    rounds: { type: "string", default: "5" },
    against: { type: "string" },
    /** Internal: time the checkout at this folder in this process and print the times as JSON. */
    child: { type: "string" },
    write: { type: "boolean", default: false },
  },
});
const runs = runsOption(values.runs);
const rounds = runsOption(values.rounds, "--rounds");
// An absolute folder: import() would resolve a relative one from this file, not from the working directory.
const againstDir = values.against ? resolve(values.against) : undefined;
const WARMUP = 20;

type PlanOnce = (s: Snapshot) => void;

/**
 * plan() of the checkout at `root`, with a fresh World per call and the
 * detection made once per input, as the deno bench does (detect() parses the
 * file too, and is measured by its own bench).
 */
async function planOf(root: string): Promise<PlanOnce> {
  const { DEFAULT_CONFIG } = await import(`${root}/config.ts`);
  const { detect } = await import(`${root}/contexts/mod.ts`);
  const { plan, MAX_VALUE_BYTES } = await import(`${root}/plan.ts`);
  const { InputError } = await import(`${root}/errors.ts`);
  const { World } = await import(`${root}/world.ts`);
  const detections = new Map<Snapshot, unknown>();
  return (s) => {
    if (!detections.has(s)) detections.set(s, detect(new World(s)));
    try {
      plan(new World(s), detections.get(s), DEFAULT_CONFIG);
    } catch (e) {
      if (!isTooLarge(e, { InputError, MAX_VALUE_BYTES })) throw e;
    }
  };
}

const inputs: [string, Snapshot][] = [
  ["10,000 long hyperparameters (ends in exit 78)", sagemakerSnapshot(4, 10_000)],
  ["10,000 short hyperparameters (the plan completes)", sagemakerSnapshot(4, 10_000, true)],
];
/** The commit checked out at `dir` ("this checkout" for ours), else the folder. */
function labelOf(dir: string): string {
  const git = (...args: string[]) => {
    const out = new Deno.Command("git", { args: ["-C", dir, ...args] }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  };
  const commit = git("log", "-1", "--format=%h");
  if (commit === undefined || commit === "") return dir;
  const changed = git("status", "--porcelain", "--untracked-files=no") !== "";
  return `commit ${commit}${changed ? " with uncommitted changes" : ""}`;
}

/** Times of `runs` plans per input, by input label, for the checkout at `root`. */
async function timesOf(root: string, runs: number): Promise<Record<string, number[]>> {
  const once = await planOf(root);
  const out: Record<string, number[]> = {};
  for (let i = 0; i < WARMUP + runs; i++) {
    for (const [input, s] of inputs) {
      const t0 = performance.now();
      once(s);
      const ms = performance.now() - t0;
      if (i >= WARMUP) (out[input] ??= []).push(ms);
    }
  }
  return out;
}

if (values.child !== undefined) {
  console.log(JSON.stringify(await timesOf(values.child, runs)));
  Deno.exit(0);
}

/** One turn of a code: a fresh process timing `perTurn` plans per input. */
async function turn(root: string, perTurn: number): Promise<Record<string, number[]>> {
  const child = ["run", "-A", import.meta.filename!, "--child", root, "--runs", String(perTurn)];
  const out = await runProcess([Deno.execPath(), ...child]);
  if (out.code !== 0) throw new Error(`timing ${root} failed: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

if (againstDir !== undefined && !existsSync(`${againstDir}/plan.ts`)) {
  throw new Error(`--against ${values.against}: expected a checkout of this project (no plan.ts)`);
}
const ours = `this checkout (${labelOf(ROOT)})`;
const against = againstDir === undefined ? undefined : labelOf(againstDir);
const codes: [string, string][] = [[ours, ROOT]];
if (againstDir !== undefined) codes.push([against!, againstDir]);

const perTurn = Math.ceil(runs / rounds);
/** Plan times by code, then by input. */
const times = new Map<string, Record<string, number[]>>(codes.map(([code]) => [code, {}]));
/** Each process's median by code, then by input, in the order the processes ran. */
const processMedians = new Map<string, Record<string, number[]>>(
  codes.map(([code]) => [code, {}]),
);
for (let r = 0; r < rounds; r++) {
  // Each code goes first every other round, so neither always runs on the warmer machine.
  for (const [code, root] of r % 2 === 0 ? codes : [...codes].reverse()) {
    const byInput = times.get(code)!;
    for (const [input, t] of Object.entries(await turn(root, perTurn))) {
      (byInput[input] ??= []).push(...t);
      (processMedians.get(code)![input] ??= []).push(median(t));
    }
  }
}

const rows = inputs.flatMap(([input]) => codes.map(([code]) => [input, code] as const)).map(
  ([input, code]) => {
    const t = times.get(code)![input]!;
    const base = against ? median(times.get(against)![input]!) : NaN;
    const ratio = against ? ` ${(median(t) / base).toFixed(2)} |` : "";
    const each = processMedians.get(code)![input]!.map((m) => m.toFixed(1)).join(", ");
    return `| ${input} | ${code} | ${median(t).toFixed(2)} | ${Math.min(...t).toFixed(2)} | ${
      percentile(t, 75).toFixed(2)
    } | ${each} |${ratio}`;
  },
);
const body = [
  `${await machine()}, ${perTurn * rounds} plans per row: ${rounds} processes per code taking ` +
  `turns, ${perTurn} plans each after ${WARMUP} warm-up; command: ` +
  `\`deno run -A bench/plan_median.ts ${Deno.args.join(" ")}\``,
  "",
  `| input | code | median ms | min ms | p75 ms | each process's median, ms |${
    against ? " ratio |" : ""
  }`,
  `| --- | --- | ---: | ---: | ---: | --- |${against ? " ---: |" : ""}`,
  ...rows,
].join("\n");
console.log(body);
if (values.write) writeSection("planmedian", body);
