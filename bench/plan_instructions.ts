/**
 * plan() on 10,000 short hyperparameters in instructions: a loop of plans
 * runs under `valgrind --tool=callgrind` twice, with few and with more plans,
 * and the difference over the extra plans is one plan's count. Before each
 * plan a full collection (`gc()`) empties the heap of the previous plan's
 * garbage, so every plan meets the collector at the same points: without it
 * the count of one code moved by 3 million between runs (where the young
 * generation's collections fell), with it by 0.2 million. The count
 * therefore includes one full collection per plan, the same for each code.
 * Wall time on these machines moves by a third with the hour; this does
 * not, so it shows a change of 1 % in plan().
 *
 * With `--against DIR` (a checkout of another commit, e.g. from `git worktree
 * add DIR <commit>`), that code is counted too, on the same input.
 *
 *   deno run -A bench/plan_instructions.ts [--against DIR] [--write]
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ROOT, runProcess } from "../tests/helpers.ts";
import { machine, writeSection } from "./lib.ts";

/** Plans in the shorter and the longer run: the first few include compiling the code. */
const FEW = 10;
const MORE = 40;
/** The counted process (its header says why a file of its own). */
const LOOP = `${import.meta.dirname}/plan_loop.ts`;

const { values } = parseArgs({
  options: {
    against: { type: "string" },
    write: { type: "boolean", default: false },
  },
});

/** Instructions of a process running `plans` plans of the checkout at `root`. */
async function count(root: string, plans: number): Promise<number> {
  const out = await runProcess([
    "valgrind",
    "--tool=callgrind",
    "--callgrind-out-file=/dev/null",
    Deno.execPath(),
    "run",
    "-A",
    "--v8-flags=--single-threaded,--expose-gc",
    LOOP,
    String(plans),
    root,
  ]);
  const m = /Collected : (\d+)/.exec(out.stderr);
  if (out.code !== 0 || m === null) throw new Error(`counting ${root} failed: ${out.stderr}`);
  return Number(m[1]);
}

/** Millions of instructions per plan for the checkout at `root`. */
async function perPlan(root: string): Promise<number> {
  // A first run outside valgrind transpiles the checkout's modules into Deno's cache: the
  // shorter run would count that work where the longer does not.
  const warm = await runProcess([
    Deno.execPath(),
    "run",
    "-A",
    "--v8-flags=--expose-gc",
    LOOP,
    "1",
    root,
  ]);
  if (warm.code !== 0) throw new Error(`planning with ${root} failed: ${warm.stderr}`);
  const few = await count(root, FEW);
  const more = await count(root, MORE);
  return (more - few) / (MORE - FEW) / 1e6;
}

/** The commit checked out at `dir`, marked when it has uncommitted changes. */
function labelOf(dir: string): string {
  const git = (...args: string[]) =>
    new TextDecoder().decode(
      new Deno.Command("git", { args: ["-C", dir, ...args] }).outputSync().stdout,
    ).trim();
  const changed = git("status", "--porcelain", "--untracked-files=no") !== "";
  return `commit ${git("log", "-1", "--format=%h")}${changed ? " with uncommitted changes" : ""}`;
}

const againstDir = values.against === undefined ? undefined : resolve(values.against);
if (againstDir !== undefined && !existsSync(`${againstDir}/plan.ts`)) {
  throw new Error(`--against ${values.against}: expected a checkout of this project (no plan.ts)`);
}
const rows: [string, number][] = [[`this checkout (${labelOf(ROOT)})`, await perPlan(ROOT)]];
if (againstDir !== undefined) rows.push([labelOf(againstDir), await perPlan(againstDir)]);

const command = `deno run -A bench/plan_instructions.ts${
  values.against === undefined ? "" : " --against DIR"
}${values.write ? " --write" : ""}`;
const lines = [
  `${await machine()}, 10,000 short hyperparameters, a full collection before each plan, ` +
  `${MORE} plans less ${FEW} under callgrind, V8 single-threaded; command: \`${command}\``,
  "",
  "| code | million instructions per plan | ratio to the first row |",
  "| --- | ---: | ---: |",
  ...rows.map(([code, n]) => `| ${code} | ${n.toFixed(1)} | ${(n / rows[0]![1]).toFixed(3)} |`),
];
console.log(lines.join("\n"));
if (values.write) writeSection("planinstructions", lines.join("\n"));
