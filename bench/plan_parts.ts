/**
 * Where plan()'s time goes on 10,000 short hyperparameters: each adapter's
 * own plan() timed inside the real plan() (wrapped through the `adapters`
 * option), and the rest (merging the fragments, the env checks) as the whole
 * less the adapters. Medians over many plans, in this process.
 *
 *   deno run -A bench/plan_parts.ts [--runs N] [--write]
 */
import { parseArgs } from "node:util";
import { ADAPTERS } from "../adapters/mod.ts";
import { DEFAULT_CONFIG } from "../config.ts";
import { detect } from "../contexts/mod.ts";
import { plan } from "../plan.ts";
import { World } from "../world.ts";
import { machine, median, percentile, runsOption, writeSection } from "./lib.ts";
import { sagemakerSnapshot } from "./plan_inputs.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "400" },
    write: { type: "boolean", default: false },
  },
});
const runs = runsOption(values.runs);
const WARMUP = 50;

const snapshot = sagemakerSnapshot(4, 10_000, true);
const detection = detect(new World(snapshot));
/** This plan's time per adapter, refilled by the wrapped adapters on each plan. */
let current: Record<string, number> = {};
const timed = ADAPTERS.map((a) => ({
  ...a,
  plan: (input: Parameters<typeof a.plan>[0]) => {
    const t0 = performance.now();
    const fragment = a.plan(input);
    current[a.name] = performance.now() - t0;
    return fragment;
  },
}));

const REST = "merging the fragments (mergeEnv and the other checks)";
const WHOLE = "the whole plan()";
const times: Record<string, number[]> = {};
for (let i = 0; i < WARMUP + runs; i++) {
  current = {};
  const t0 = performance.now();
  plan(new World(snapshot), detection, DEFAULT_CONFIG, { adapters: timed });
  const whole = performance.now() - t0;
  if (i < WARMUP) continue;
  let adapters = 0;
  for (const [name, ms] of Object.entries(current)) {
    (times[`adapter ${name}`] ??= []).push(ms);
    adapters += ms;
  }
  (times[REST] ??= []).push(whole - adapters);
  (times[WHOLE] ??= []).push(whole);
}

// Parts under 0.05 ms are left out; the rows that remain are sorted by median.
const rows = Object.entries(times)
  .filter(([part, t]) => part === WHOLE || median(t) >= 0.05)
  .sort(([a, x], [b, y]) => (a === WHOLE ? 1 : b === WHOLE ? -1 : median(y) - median(x)))
  .map(([part, t]) =>
    `| ${part} | ${median(t).toFixed(2)} | ${percentile(t, 75).toFixed(2)} | ${
      (100 * median(t) / median(times[WHOLE]!)).toFixed(0)
    } % |`
  );
const body = [
  `${await machine()}, ${runs} plans after ${WARMUP} warm-up, 10,000 short hyperparameters ` +
  `(the plan completes); command: \`deno run -A bench/plan_parts.ts ${Deno.args.join(" ")}\``,
  "",
  "| part | median ms | p75 ms | share of the whole's median |",
  "| --- | ---: | ---: | ---: |",
  ...rows,
].join("\n");
console.log(body);
if (values.write) writeSection("planparts", body);
