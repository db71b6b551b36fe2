/**
 * What the benchmark scripts share: the entrypoint's command lines, the
 * floor, the bundle build, whole-process timing and RESULTS.md sections.
 * Importing it reads deno.json (the compile task's options) and does nothing else.
 *
 * @module
 */
import { fixturePath, PERMISSIONS, ROOT } from "../tests/helpers.ts";

/** One whole-process case. */
export interface Case {
  readonly name: string;
  readonly argv: readonly string[];
  readonly env?: Record<string, string>;
  /** Ratio targets from the issues, shown beside the measurement. */
  readonly target?: string;
  /** The entrypoint ends in execve: the process image it started with is gone. */
  readonly execs?: boolean;
}

const deno = Deno.execPath();
/** `deno run` of the sources. */
export const RUN = [deno, "run", "--quiet", ...PERMISSIONS, `${ROOT}/main.ts`];
/** The folder `deno task bundle` writes the bundle's chunks to. */
export const BUNDLE_DIR = `${ROOT}/dist/bundle`;
/** `deno run` of what `deno task compile` compiles into the image (see {@linkcode buildBundle}). */
export const BUNDLE = [deno, "run", "--quiet", ...PERMISSIONS, `${BUNDLE_DIR}/main.js`];
/**
 * The options of `deno task compile` that the compiled binary runs with and `deno run`
 * takes as well: `--no-code-cache` (README, "No V8 code cache"), so V8 compiles
 * everything on every start, and the V8 flags (README, "One V8 flag").
 */
export const COMPILED_OPTIONS: readonly string[] = (JSON.parse(
  Deno.readTextFileSync(`${ROOT}/deno.json`),
).tasks.compile as string).split(/\s+/).filter((w) =>
  w === "--no-code-cache" || w.startsWith("--v8-flags=")
);
/** The bundle as the compiled entrypoint starts it (see {@linkcode COMPILED_OPTIONS}). */
export const BUNDLE_UNCACHED = [deno, "run", "--quiet", ...COMPILED_OPTIONS, ...BUNDLE.slice(2)];
/** The Deno start-up floor. */
export const FLOOR: Case = {
  name: "deno hello-world (floor)",
  argv: [deno, "run", "--quiet", `${ROOT}/bench/hello.ts`],
};

/** The cases the core issue states targets for, run through `entry` (the sources or the bundle). */
export function targetCases(label: string, entry: readonly string[]): Case[] {
  const explain = [...entry, "--explain", "--format", "json"];
  return [
    {
      name: `${label}replay 4-host SageMaker training (--explain --format json --snapshot)`,
      argv: [...explain, "--snapshot", fixturePath("sagemaker-training/multi-host")],
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
      execs: true,
    },
  ];
}

/** A live `--explain` through `entry` with the normalised config at `configJson` (the config target). */
export function configCase(entry: readonly string[], configJson: string): Case {
  return {
    name: "live --explain --format json, normalised config.json",
    argv: [...entry, "--explain", "--format", "json"],
    env: { CHAMELEON_CONFIG: configJson },
    target: "≤ 3 ms over no config",
  };
}

/** Writes the ml example's normalised JSON (`--check-config --write-json`) into `dir`; its path. */
export function normalisedConfig(dir: string): string {
  const out = `${dir}/config.json`;
  const prepared = new Deno.Command(RUN[0]!, {
    args: [
      ...RUN.slice(1),
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

/** Rebuilds dist/bundle with `deno task bundle`. */
export function buildBundle(dir: string = ROOT): void {
  const out = new Deno.Command(deno, { args: ["task", "--quiet", "bundle"], cwd: dir })
    .outputSync();
  if (!out.success) throw new Error(`deno task bundle failed in ${dir}`);
}

/** A count option's value (`--runs` unless `flag` names another), or an error naming it. */
export function runsOption(text: string, flag = "--runs"): number {
  const runs = Number(text);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(`${flag} ${text}: expected a positive integer`);
  }
  return runs;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
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

export async function machine(): Promise<string> {
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
