/**
 * Shared test helpers: fixtures and running the entrypoint as a real process.
 *
 * @module
 */

import { parseSnapshot } from "../snapshot.ts";
import { PERMISSIONS } from "../sys/permissions.ts";

export { PERMISSIONS };
import { DEFAULT_CONFIG, type ImageConfig } from "../config.ts";
import { detect } from "../contexts/mod.ts";
import { plan } from "../plan.ts";
import type { Plan, Snapshot } from "../types.ts";
import { World } from "../world.ts";
import { procStatusField } from "../sys/fs.ts";

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
  /** `<context-id>/<name>`, as {@linkcode fixture} takes it. */
  readonly id: string;
  readonly path: string;
}

/** The file of a fixture given as `<context-id>/<name>`. */
export function fixturePath(id: string): string {
  return `${FIXTURES}/${id}.json`;
}

/** Every fixture, sorted. */
export function fixtures(): Fixture[] {
  const out: Fixture[] = [];
  for (const dir of [...Deno.readDirSync(FIXTURES)].filter((e) => e.isDirectory)) {
    for (const f of Deno.readDirSync(`${FIXTURES}/${dir.name}`)) {
      if (!f.name.endsWith(".json")) continue;
      const id = `${dir.name}/${f.name.slice(0, -5)}`;
      out.push({ contextId: dir.name, name: f.name.slice(0, -5), id, path: fixturePath(id) });
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Loads a fixture by `<context-id>/<name>`. */
export function fixture(id: string): Snapshot {
  const path = fixturePath(id);
  return parseSnapshot(Deno.readTextFileSync(path), path);
}

/**
 * The variables Kubernetes' service links give every pod of a namespace with `n` Services
 * (`svc<i>-app`, each at one port): `_SERVICE_HOST`, `_SERVICE_PORT` and docker's five link
 * variables, seven a Service.
 */
export function serviceLinkEnv(n: number, port = 80): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const name = `SVC${i}_APP`;
    const ip = `10.96.${(i >> 8) & 255}.${i & 255}`;
    Object.assign(env, {
      [`${name}_SERVICE_HOST`]: ip,
      [`${name}_SERVICE_PORT`]: `${port}`,
      [`${name}_PORT`]: `tcp://${ip}:${port}`,
      [`${name}_PORT_${port}_TCP`]: `tcp://${ip}:${port}`,
      [`${name}_PORT_${port}_TCP_PROTO`]: "tcp",
      [`${name}_PORT_${port}_TCP_PORT`]: `${port}`,
      [`${name}_PORT_${port}_TCP_ADDR`]: ip,
    });
  }
  return env;
}

/** A world over a fixture, with changes applied to its snapshot. */
export function worldOf(id: string, change: (s: Snapshot) => Snapshot = (s) => s): World {
  return new World(change(fixture(id)));
}

/** plan() over a world as a start runs it: detection with the config's default workloads. */
export function planOf(world: World, config: ImageConfig = DEFAULT_CONFIG): Plan {
  const d = detect(world, { defaultWorkload: (p) => config.defaultWorkload[p] });
  return plan(world, d, config);
}

/** plan() over a fixture, changed first. */
export function planFixture(
  id: string,
  change?: (s: Snapshot) => Snapshot,
  config: ImageConfig = DEFAULT_CONFIG,
): Plan {
  return planOf(worldOf(id, change), config);
}

/** A snapshot change that sets variables. */
export const withEnv = (env: Record<string, string>) => (s: Snapshot): Snapshot => ({
  ...s,
  env: { ...s.env, ...env },
});

/** A snapshot change without the fixture's NB_USER, NB_UID and NB_GID, with `env` added. */
export const ownNbEnv = (env: Record<string, string>) => (s: Snapshot): Snapshot => {
  const { NB_USER: _u, NB_UID: _i, NB_GID: _g, ...rest } = s.env;
  return { ...s, env: { ...rest, ...env } };
};

/** A snapshot change that adds `path` as an existing folder of the given owner and mode. */
export const withDir =
  (path: string, uid: number, gid: number, mode = "0755") => (s: Snapshot): Snapshot => ({
    ...s,
    dirs: [...s.dirs, path],
    stat: { ...s.stat, [path]: { uid, gid, mode } },
  });

/** A snapshot change that adds (or replaces) files. */
export const withFiles = (files: Record<string, string>) => (s: Snapshot): Snapshot => ({
  ...s,
  files: { ...s.files, ...files },
});

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

/** The command line that runs the entrypoint from source (or another main module, the bundle's), as the tests do. */
export function entrypointArgv(main = `${ROOT}/main.ts`): string[] {
  return [Deno.execPath(), "run", "--quiet", "--no-lock", ...PERMISSIONS, main];
}

/**
 * The words that run a command on one CPU only (the first this process may use),
 * as in a container with a cpuset of one: Deno's own threads then wait for the
 * main thread, which brings out races a second CPU hides.
 */
export function oneCpu(): string[] {
  const cpu = /^\d+/.exec(procStatusField("Cpus_allowed_list") ?? "")?.[0];
  return ["taskset", "-c", cpu ?? "0"];
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

/**
 * `--explain --format json` of the entrypoint with more arguments: the
 * parsed document, after checking the run exited 0.
 */
export async function explainJson(
  args: readonly string[],
  opts: { env?: Record<string, string> } = {},
  // deno-lint-ignore no-explicit-any -- the explain document is read field by field
): Promise<any> {
  const r = await runEntrypoint(["--explain", "--format", "json", ...args], opts);
  if (r.code !== 0) throw new Error(`--explain exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
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

/**
 * A fresh temporary folder, removed on dispose. `mode` opens it to other
 * users (0755 for an unprivileged test user, 0777 for a container's).
 */
export function tempDir(mode?: number): { path: string; [Symbol.dispose](): void } {
  const path = Deno.makeTempDirSync({ prefix: "chameleon-test-" });
  if (mode !== undefined) Deno.chmodSync(path, mode);
  return { path, [Symbol.dispose]: () => Deno.removeSync(path, { recursive: true }) };
}

/** A word quoted for /bin/sh (single quotes; a quote inside becomes '\\''). */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Shell steps that put a fresh tmpfs on /tmp, for a private mount namespace
 * (`unshare -m`). A checkout under /tmp (a worktree there) would vanish under
 * it: it is bound to /mnt first and back to its own path after.
 */
export function freshTmpSteps(mode = "1777"): string[] {
  const mount = `mount -t tmpfs -o mode=${mode} none /tmp`;
  if (!ROOT.startsWith("/tmp/")) return [mount];
  const root = shellQuote(ROOT);
  return [`mount --bind ${root} /mnt`, mount, `mkdir -p ${root}`, `mount --bind /mnt ${root}`];
}

/**
 * The pid of the thread that strace (`-f -o FILE`) traced making a statx and then saw stopped
 * by SIGSTOP (an `inject=statx:signal=STOP`), from its output; undefined until both are there.
 * strace pads the pid column: a pid of four digits is followed by two blanks, one of five by one.
 */
export function stoppedAfterStatx(trace: string): number | undefined {
  const m = /^(\d+)\s+statx\(/m.exec(trace);
  if (m === null) return undefined;
  return new RegExp(`^${m[1]}\\s+--- stopped by SIGSTOP`, "m").test(trace)
    ? Number(m[1])
    : undefined;
}

/** Polls `probe` until it gives a value (errors count as not yet); fails after `ms`. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 30_000,
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await Promise.resolve().then(probe).catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** What `fn` threw (node's assert.throws does not hand the error back); fails when it throws nothing. */
export function caught(fn: () => unknown, what = "an error"): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error(`expected ${what}, but nothing was thrown`);
}

/** The project modules main.ts can load (its graph from `deno info`, dynamic imports included), as paths. */
export async function entrypointModules(): Promise<string[]> {
  const info = await runProcess([Deno.execPath(), "info", "--json", "main.ts"], { cwd: ROOT });
  if (info.code !== 0) throw new Error(`deno info failed: ${info.stderr}`);
  return (JSON.parse(info.stdout).modules as { specifier: string }[])
    .map((m) => m.specifier)
    .filter((s) => s.startsWith("file://"))
    .map((s) => new URL(s).pathname);
}

/** Lines of `text` with a character beyond ASCII, as "line: text". */
export function nonAsciiLines(text: string): string[] {
  // deno-lint-ignore no-control-regex -- every character outside ASCII, so the range starts at NUL
  return text.split("\n").flatMap((l, i) => (/[^\x00-\x7f]/.test(l) ? [`${i + 1}: ${l}`] : []));
}

/** libc's pipe2, write, read and close, opened at first use: Deno hands out no raw descriptors. */
let rawLibc:
  | Deno.DynamicLibrary<{
    pipe2: { parameters: ["buffer", "i32"]; result: "i32" };
    write: { parameters: ["i32", "buffer", "usize"]; result: "isize" };
    read: { parameters: ["i32", "buffer", "usize"]; result: "isize" };
    close: { parameters: ["i32"]; result: "i32" };
  }>["symbols"]
  | undefined;

/** Raw descriptor calls for tests that hand a descriptor to the code under test. */
export function raw(): NonNullable<typeof rawLibc> {
  rawLibc ??= Deno.dlopen("libc.so.6", {
    pipe2: { parameters: ["buffer", "i32"], result: "i32" },
    write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    close: { parameters: ["i32"], result: "i32" },
  }).symbols;
  return rawLibc;
}

/**
 * A pipe whose both ends are non-blocking, as a parent process may hand one over: [read, write].
 * `asGiven` leaves close-on-exec clear, as on a descriptor a process was started with (a
 * start reads no other by its /dev/fd name).
 */
export function nonBlockingPipe({ asGiven = false } = {}): [number, number] {
  const O_NONBLOCK = 0o4000;
  const O_CLOEXEC = 0o2000000;
  const fds = new Int32Array(2);
  const flags = O_NONBLOCK | (asGiven ? 0 : O_CLOEXEC);
  if (raw().pipe2(new Uint8Array(fds.buffer), flags) !== 0) {
    throw new Error("pipe2");
  }
  return [fds[0]!, fds[1]!];
}
