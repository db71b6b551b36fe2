/**
 * Where the bundle's start-up instructions go, phase by phase: for each
 * phase, a copy of the bundle whose start ends right after it (`Deno.exit(0)`
 * inserted after an anchor line of `start()` in the start chunk), counted
 * under callgrind as `bench/instructions.ts --isolated` counts (a cache folder
 * per copy, warmed twice, V8 on one thread). A phase's cost is its count less
 * the one before; the last row is the whole start. Ending early skips only
 * what comes after, so the differences add up to the whole.
 *
 * The anchors are lines of esbuild's output of start.ts: a change there may
 * need them changed, and the script stops naming the anchor it cannot find.
 *
 *   deno run -A bench/phases.ts [--runs 2] [--write]
 */
import { parseArgs } from "node:util";
import { fixturePath, tempDir } from "../tests/helpers.ts";
import { count, isolated, warm } from "./instructions.ts";
import {
  buildBundle,
  BUNDLE,
  BUNDLE_DIR,
  type Case,
  FLOOR,
  machine,
  median,
  runsOption,
  writeSection,
} from "./lib.ts";

/** A phase: the line of `start()` it ends with (the exit goes `after` lines below it). */
interface Phase {
  readonly name: string;
  readonly anchor?: RegExp;
  readonly after?: number;
}

const PHASES: readonly Phase[] = [
  { name: "load the code, up to start()", anchor: /^async function start\(/ },
  { name: "parse the arguments", anchor: /^ {2}const options = await reportingUsage\(/ },
  { name: "take or load the snapshot", anchor: /^ {2}const snapshot = replay \?/ },
  { name: "load the config", anchor: /^ {2}const \{ config, file, validated \} = await/ },
  { name: "detect", anchor: /^ {4}defaultWorkload: \(p\) =>/, after: 1 },
  { name: "plan", anchor: /^ {2}log\.addSecrets\(u\.plan\.secrets\);$/ },
  { name: "load explain.ts, render and print the JSON" },
];

const CASES = [
  {
    name: "replay 4-host SageMaker training",
    args: ["--snapshot", fixturePath("sagemaker-training/multi-host")],
  },
  { name: "live, no config", args: [] },
];

/** A copy of dist/bundle in `dir` whose start ends after `phase`. */
function bundleEndingAfter(phase: Phase, dir: string): string {
  Deno.mkdirSync(dir, { recursive: true });
  for (const e of Deno.readDirSync(BUNDLE_DIR)) {
    Deno.copyFileSync(`${BUNDLE_DIR}/${e.name}`, `${dir}/${e.name}`);
  }
  if (phase.anchor !== undefined) {
    const chunk = [...Deno.readDirSync(dir)].find((e) => e.name.startsWith("start_modules-"));
    if (chunk === undefined) throw new Error(`${dir}: no start_modules chunk`);
    const file = `${dir}/${chunk.name}`;
    const lines = Deno.readTextFileSync(file).split("\n");
    const at = lines.flatMap((l, i) => phase.anchor!.test(l) ? [i] : []);
    if (at.length !== 1) {
      throw new Error(
        `${chunk.name}: anchor ${phase.anchor} of "${phase.name}" found ${at.length} times, expected once`,
      );
    }
    lines.splice(at[0]! + (phase.after ?? 0) + 1, 0, "  Deno.exit(0);");
    Deno.writeTextFileSync(file, lines.join("\n"));
  }
  return `${dir}/main.js`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { runs: { type: "string", default: "2" }, write: { type: "boolean", default: false } },
  });
  const runs = runsOption(values.runs);
  buildBundle();
  using tmp = tempDir();
  const counted = async (c: Case, dir: string) => {
    const one = isolated(c, `${dir}/deno-dir`);
    for (let i = 0; i < 2; i++) await warm(one);
    const each: number[] = [];
    for (let i = 0; i < runs; i++) each.push(await count(one));
    return median(each);
  };
  const floor = await counted(FLOOR, `${tmp.path}/floor`);
  // Each case's count up to the phase before (before the first phase, the floor's).
  const previous = CASES.map(() => floor);
  const rows: string[] = [];
  for (const [p, phase] of PHASES.entries()) {
    const main = bundleEndingAfter(phase, `${tmp.path}/phase-${p}`);
    const cells: string[] = [];
    for (const [k, c] of CASES.entries()) {
      const argv = [...BUNDLE.slice(0, -1), main, "--explain", "--format", "json", ...c.args];
      const n = await counted({ name: c.name, argv }, `${tmp.path}/phase-${p}/case-${k}`);
      cells.push(`${((n - previous[k]!) / 1e6).toFixed(1)} | ${(n / 1e6).toFixed(1)}`);
      previous[k] = n;
    }
    rows.push(`| ${phase.name} | ${cells.join(" | ")} |`);
  }
  const body = [
    `${await machine()}, the bundle, median of ${runs} runs per point; floor (deno hello-world) ${
      (floor / 1e6).toFixed(1)
    } million; command: \`deno run -A bench/phases.ts --write\``,
    "",
    `| phase | ${CASES.map((c) => `${c.name}: million | up to here`).join(" | ")} |`,
    `| --- | ${CASES.map(() => "---: | ---:").join(" | ")} |`,
    ...rows,
  ].join("\n");
  console.log(body);
  if (values.write) writeSection("phases", body);
}
