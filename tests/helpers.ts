/**
 * Shared test helpers: fixtures and running the entrypoint as a real process.
 *
 * @module
 */

import { parseSnapshot } from "../snapshot.ts";
import { PERMISSIONS } from "../sys/permissions.ts";

export { PERMISSIONS };
import type { Snapshot } from "../types.ts";
import { World } from "../world.ts";

/** The project root. */
export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** The fixtures folder. */
export const FIXTURES = `${ROOT}/tests/fixtures`;

/** One fixture file. */
export interface Fixture {
  /** The folder name: the context id the fixture must detect as. */
  readonly contextId: string;
  /** The file name without `.json`. */
  readonly name: string;
  readonly path: string;
}

/** Every fixture, sorted. */
export function fixtures(): Fixture[] {
  const out: Fixture[] = [];
  for (const dir of [...Deno.readDirSync(FIXTURES)].filter((e) => e.isDirectory)) {
    for (const f of Deno.readDirSync(`${FIXTURES}/${dir.name}`)) {
      if (!f.name.endsWith(".json")) continue;
      out.push({
        contextId: dir.name,
        name: f.name.slice(0, -5),
        path: `${FIXTURES}/${dir.name}/${f.name}`,
      });
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Loads a fixture by `<context-id>/<name>`. */
export function fixture(id: string): Snapshot {
  const path = `${FIXTURES}/${id}.json`;
  return parseSnapshot(Deno.readTextFileSync(path), path);
}

/** A world over a fixture, with changes applied to its snapshot. */
export function worldOf(id: string, change: (s: Snapshot) => Snapshot = (s) => s): World {
  return new World(change(fixture(id)));
}

/** A snapshot with the given fields over an empty default. */
export function snap(fields: Partial<Snapshot> = {}): Snapshot {
  return {
    schema: "chameleon.snapshot/v1",
    argv: [],
    env: {},
    files: {},
    dirs: [],
    stat: {},
    uid: 0,
    gid: 0,
    groups: [0],
    hostname: "localhost",
    addresses: [],
    pid: 7,
    ...fields,
  };
}

/** The command line that runs the entrypoint from source, as the tests do. */
export function entrypointArgv(): string[] {
  return [Deno.execPath(), "run", "--quiet", "--no-lock", ...PERMISSIONS, `${ROOT}/main.ts`];
}

/** The outcome of running the entrypoint. */
export interface RunResult {
  readonly code: number;
  readonly signal: Deno.Signal | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the entrypoint from source as a real process. */
export async function runEntrypoint(
  args: readonly string[],
  opts: { env?: Record<string, string>; clearEnv?: boolean; cwd?: string; stdin?: string } = {},
): Promise<RunResult> {
  const [cmd, ...rest] = entrypointArgv();
  return await runProcess([cmd!, ...rest, ...args], opts);
}

/** Runs any process and collects its output. */
export async function runProcess(
  argv: readonly string[],
  opts: { env?: Record<string, string>; clearEnv?: boolean; cwd?: string; stdin?: string } = {},
): Promise<RunResult> {
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env: opts.env ?? {},
    clearEnv: opts.clearEnv ?? false,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    signal: out.signal,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** A fresh temporary folder, removed by the returned function. */
export function tempDir(): { path: string; [Symbol.dispose](): void } {
  const path = Deno.makeTempDirSync({ prefix: "chameleon-test-" });
  return { path, [Symbol.dispose]: () => Deno.removeSync(path, { recursive: true }) };
}
