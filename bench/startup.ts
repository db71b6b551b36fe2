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
import { fixturePath, PERMISSIONS, ROOT } from "../tests/helpers.ts";

export interface Case {
  readonly name: string;
  readonly argv: readonly string[];
  readonly env?: Record<string, string>;
  /** Ratio targets from the issues, shown beside the measurement. */
  readonly target?: string;
}

const deno = Deno.execPath();
const run = [deno, "run", "--quiet", ...PERMISSIONS, `${ROOT}/main.ts`];
const bundle = [deno, "run", "--quiet", ...PERMISSIONS, `${ROOT}/dist/bundle/main.js`];
const fx = fixturePath;

const bundled = new Deno.Command(deno, { args: ["task", "--quiet", "bundle"], cwd: ROOT })
  .outputSync();
if (!bundled.success) throw new Error("deno task bundle failed");

/** Normalised JSON of the ml example, written once by --check-config for the config cases. */
const configJson = `${Deno.makeTempDirSync({ prefix: "chameleon-bench-" })}/config.json`;
const mlYaml = `${ROOT}/examples/config/ml.yaml`;
const prepared = new Deno.Command(run[0]!, {
  args: [...run.slice(1), "--check-config", mlYaml, "--write-json", configJson],
  stderr: "null",
}).outputSync();
if (!prepared.success) {
  throw new Error("could not write the normalised config for the config cases");
}

/** The cases the core issue states targets for, run through `entry` (the sources or the bundle). */
function targetCases(label: string, entry: readonly string[]): Case[] {
  const explain = [...entry, "--explain", "--format", "json"];
  return [
    {
      name: `${label}replay 4-host SageMaker training (--explain --format json --snapshot)`,
      argv: [...explain, "--snapshot", fx("sagemaker-training/multi-host")],
      target: "≤ 2.5x floor",
    },
    {
      name: `${label}live --explain --format json, no config`,
      argv: explain,
      target: "≤ 2x floor",
    },
    {
      name: `${label}live start, exec true, no config`,
      argv: [...entry, "true"],
      target: "≤ 2x floor",
    },
  ];
}

/** The cases, grouped by the section of RESULTS.md they belong to. */
export const SECTIONS: Record<string, Case[]> = {
  startup: [
    { name: "bash -c 'exec true'", argv: ["bash", "-c", "exec true"] },
    { name: "deno hello-world (floor)", argv: [deno, "run", "--quiet", `${ROOT}/bench/hello.ts`] },
    {
      name: "replay local docker (--explain --format json --snapshot)",
      argv: [...run, "--explain", "--format", "json", "--snapshot", fx("local-unknown/docker")],
    },
    ...targetCases("", run),
    ...targetCases("bundle: ", bundle),
  ],
  config: [
    { name: "deno hello-world (floor)", argv: [deno, "run", "--quiet", `${ROOT}/bench/hello.ts`] },
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
      env: { CHAMELEON_CONFIG: mlYaml },
    },
  ],
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function once(c: Case): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(c.argv[0]!, {
    args: c.argv.slice(1),
    env: c.env ?? {},
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  if (!out.success) {
    throw new Error(`${c.name} failed (${out.code}): ${new TextDecoder().decode(out.stderr)}`);
  }
  return ms;
}

/** Measures the cases interleaved; returns a markdown table. */
export async function measure(
  cases: readonly Case[],
  runs: number,
  floorName = "deno hello-world (floor)",
): Promise<string> {
  const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (const c of cases) for (let i = 0; i < 3; i++) await once(c); // warm the caches
  for (let i = 0; i < runs; i++) for (const c of cases) times.get(c.name)!.push(await once(c));
  const floor = median(times.get(floorName) ?? [NaN]);
  const rows = cases.map((c) => {
    const t = times.get(c.name)!;
    const m = median(t);
    return `| ${c.name} | ${m.toFixed(1)} | ${percentile(t, 90).toFixed(1)} | ${
      (m / floor).toFixed(2)
    }x | ${c.target ?? ""} |`;
  });
  return [
    `| case | median ms | p90 ms | ratio to floor | target |`,
    `| --- | ---: | ---: | ---: | --- |`,
    ...rows,
  ].join("\n");
}

async function machine(): Promise<string> {
  const cpus = (await new Deno.Command("nproc").output()).stdout;
  return `Deno ${Deno.version.deno}, ${new TextDecoder().decode(cpus).trim()} CPUs, ${
    new Date().toISOString().slice(0, 10)
  }`;
}

/** Replaces the text between `<!-- name:begin -->` and `<!-- name:end -->` in RESULTS.md. */
export function writeSection(name: string, body: string): void {
  const file = `${ROOT}/bench/RESULTS.md`;
  const text = Deno.readTextFileSync(file);
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${file} has no section ${name}`);
  Deno.writeTextFileSync(
    file,
    text.slice(0, i + begin.length) + "\n" + body + "\n" + text.slice(j),
  );
}

if (import.meta.main) {
  const args = Deno.args;
  const runs = Number(args[args.indexOf("--runs") + 1] ?? 40) || 40;
  const only = args.includes("--only")
    ? args[args.indexOf("--only") + 1]!.split(",")
    : Object.keys(SECTIONS);
  for (const name of only) {
    const table = await measure(SECTIONS[name]!, runs);
    const body = `${await machine()}, ${runs} runs per case, interleaved.\n\n${table}`;
    console.log(`## ${name}\n\n${body}\n`);
    if (args.includes("--write")) writeSection(name, body);
  }
}
