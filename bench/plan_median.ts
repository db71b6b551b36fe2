/**
 * plan() on 10,000 hyperparameters, timed in one process: the median, min and
 * p75 of many plans, which shift less with the garbage collector's pauses than
 * `deno bench`'s average. With `--against DIR` (a checkout of another commit,
 * e.g. from `git worktree add DIR <commit>`), that code's plan() runs
 * interleaved with this one's, on the same inputs, for a same-machine ratio.
 *
 *   deno run -A bench/plan_median.ts [--runs N] [--against DIR] [--write]
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "../tests/helpers.ts";
import type { Snapshot } from "../types.ts";
import { machine, median, percentile, runsOption, writeSection } from "./lib.ts";
import { isTooLarge, sagemakerSnapshot } from "./plan_inputs.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "200" },
    against: { type: "string" },
    write: { type: "boolean", default: false },
  },
});
const runs = runsOption(values.runs);
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
  const git = new Deno.Command("git", { args: ["-C", dir, "log", "-1", "--format=%h"] })
    .outputSync();
  const commit = new TextDecoder().decode(git.stdout).trim();
  return git.success && commit !== "" ? `commit ${commit}` : dir;
}

const ours = `this checkout (${labelOf(ROOT)})`;
const against = againstDir === undefined ? undefined : labelOf(againstDir);
const codes: [string, PlanOnce][] = [[ours, await planOf(ROOT)]];
if (againstDir !== undefined) codes.push([against!, await planOf(againstDir)]);

const times = new Map<string, number[]>();
for (let i = 0; i < WARMUP + runs; i++) {
  for (const [input, s] of inputs) {
    for (const [code, once] of codes) {
      const t0 = performance.now();
      once(s);
      const ms = performance.now() - t0;
      if (i < WARMUP) continue;
      const key = `${input}\t${code}`;
      if (!times.has(key)) times.set(key, []);
      times.get(key)!.push(ms);
    }
  }
}

const rows = [...times].map(([key, t]) => {
  const [input, code] = key.split("\t") as [string, string];
  const base = against ? median(times.get(`${input}\t${against}`)!) : NaN;
  const ratio = against ? ` ${(median(t) / base).toFixed(2)} |` : "";
  return `| ${input} | ${code} | ${median(t).toFixed(2)} | ${Math.min(...t).toFixed(2)} | ${
    percentile(t, 75).toFixed(2)
  } |${ratio}`;
});
const body = [
  `${await machine()}, ${runs} plans per row after ${WARMUP} warm-up, interleaved; command: ` +
  `\`deno run -A bench/plan_median.ts ${Deno.args.join(" ")}\``,
  "",
  `| input | code | median ms | min ms | p75 ms |${against ? " ratio |" : ""}`,
  `| --- | --- | ---: | ---: | ---: |${against ? " ---: |" : ""}`,
  ...rows,
].join("\n");
console.log(body);
if (values.write) writeSection("planmedian", body);
