/**
 * Where plan()'s time goes besides computing, on 10,000 short hyperparameters:
 * the memory one plan allocates per V8 heap space, the page faults a plan
 * takes (from /proc/self/stat), and what one page fault costs on this machine
 * (64 MB of fresh memory touched a page at a time). The allocation is
 * measured in a child process whose young generation is large enough that no
 * collection falls inside the measured plan; the faults and times in this one,
 * with V8's defaults as in a start.
 *
 * With `--sites`, it prints instead where the allocation happens: V8's
 * sampling heap profiler over 50 plans, bytes per plan by the JavaScript
 * function that was running (after inlining; a built-in such as `join` or a
 * map's `set` is named on its own).
 *
 *   deno run -A bench/plan_memory.ts [--sites]
 */
import { Session } from "node:inspector";
import { getHeapSpaceStatistics } from "node:v8";
import { hyperparameters } from "../adapters/_files.ts";
import { DEFAULT_CONFIG } from "../config.ts";
import { detect } from "../contexts/mod.ts";
import { plan } from "../plan.ts";
import { World } from "../world.ts";
import { sagemakerSnapshot } from "./plan_inputs.ts";

/** Minor page faults of this process so far (field 10 of /proc/self/stat). */
function minorFaults(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  // Fields after the command name, which is in parentheses and may hold spaces.
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[7]);
}

function usedBySpace(): Map<string, number> {
  return new Map(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
}

const s = sagemakerSnapshot(4, 10_000, true);
const d = detect(new World(s));
const once = () => plan(new World(s), d, DEFAULT_CONFIG);
for (let i = 0; i < 30; i++) once();

/** Prints what `work` allocates, in KB per heap space. */
function allocation(what: string, work: () => unknown): void {
  const before = usedBySpace();
  work();
  const after = usedBySpace();
  console.log(`${what} allocates (KB per heap space):`);
  for (const [space, used] of after) {
    const kb = (used - before.get(space)!) / 1024;
    if (Math.abs(kb) >= 1) console.log(`  ${space}: ${kb.toFixed(0)}`);
  }
}

/** The checkout's folder as a URL: stripped from the functions' files. */
const ROOT_URL = new URL("../", import.meta.url).href;

/** A sampling heap profile's node: the function running and what it allocated itself. */
interface SampledNode {
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly selfSize: number;
  readonly children: readonly SampledNode[];
}

/** Prints the functions that allocate the most per plan, from V8's sampling heap profiler. */
async function allocationSites(plans: number): Promise<void> {
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) =>
      session.post(method, params, (e, r) => e ? reject(e) : resolve(r as Record<string, unknown>))
    );
  await post("HeapProfiler.enable");
  // Short-lived objects too: a plan's garbage is what costs here.
  await post("HeapProfiler.startSampling", {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  for (let i = 0; i < plans; i++) once();
  const { profile } = await post("HeapProfiler.stopSampling") as {
    profile: { head: SampledNode };
  };
  session.disconnect();
  const bytes = new Map<string, number>();
  const walk = (n: SampledNode) => {
    const file = n.callFrame.url.replace(ROOT_URL, "");
    const name = `${n.callFrame.functionName || "(anonymous)"}${file ? ` (${file})` : ""}`;
    bytes.set(name, (bytes.get(name) ?? 0) + n.selfSize);
    n.children.forEach(walk);
  };
  walk(profile.head);
  const total = [...bytes.values()].reduce((a, b) => a + b, 0);
  console.log(
    `One plan on 10,000 short hyperparameters allocates about ${
      (total / plans / 1024).toFixed(0)
    } KB (sampled over ${plans} plans); the functions allocating the most (KB per plan):`,
  );
  for (const [name, b] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`  ${(b / plans / 1024).toFixed(0).padStart(5)}  ${name}`);
  }
}

if (Deno.args[0] === "--sites") {
  await allocationSites(50);
  Deno.exit(0);
}
if (Deno.args[0] === "--allocation") {
  allocation("One plan on 10,000 short hyperparameters", once);
  allocation("Within it, reading hyperparameters.json into the toolkit's dicts", () => {
    hyperparameters(new World(s));
  });
  const { env } = once();
  allocation(`An object of plan.env's ${Object.keys(env).length} names (its dictionary)`, () => {
    const copy: Record<string, string> = {};
    for (const name in env) copy[name] = env[name]!;
    return copy;
  });
  Deno.exit(0);
}
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    "--v8-flags=--min-semi-space-size=64,--max-semi-space-size=64",
    import.meta.filename!,
    "--allocation",
  ],
  stdout: "inherit",
}).outputSync();
if (!child.success) throw new Error("the allocation run failed");

const PLANS = 100;
const f0 = minorFaults();
const t0 = performance.now();
for (let i = 0; i < PLANS; i++) once();
const planMs = (performance.now() - t0) / PLANS;
const faultsPerPlan = (minorFaults() - f0) / PLANS;

const PAGE = 4096;
const fresh = new Uint8Array(64 * 1024 * 1024);
const f1 = minorFaults();
const t1 = performance.now();
for (let i = 0; i < fresh.length; i += PAGE) fresh[i] = 1;
const touchMs = performance.now() - t1;
const usPerFault = (1000 * touchMs) / (minorFaults() - f1);

console.log(`plan(): ${planMs.toFixed(2)} ms on average over ${PLANS} plans`);
console.log(`page faults per plan: ${faultsPerPlan.toFixed(0)}`);
console.log(`one page fault: ${usPerFault.toFixed(1)} µs (64 MB touched a page at a time)`);
console.log(
  `page faults' share of a plan: about ${(faultsPerPlan * usPerFault / 1000).toFixed(1)} ms`,
);
