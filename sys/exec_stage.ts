/**
 * The exec stage as its own process: a supervising entrypoint starts its own
 * binary with `--chameleon-exec-stage -- COMMAND...` and the stage's settings
 * in one variable; the stage restores the variables kept out of its own
 * environment, then runs the shared exec stage (`exec.ts`).
 *
 * @module
 */

import { PERMISSIONS } from "./permissions.ts";
import { type ExecSpec, execStage, givenBytes } from "./exec.ts";
import { pathKind } from "./fs.ts";
import { parentOf } from "../world.ts";
import { execveBytes, MAX_VALUE_BYTES } from "../types.ts";
import type { Logger } from "../log.ts";

/** The internal first argument that selects the exec stage. */
export const EXEC_STAGE_FLAG = "--chameleon-exec-stage";
/** The variable carrying the stage's settings. */
export const EXEC_STAGE_SPEC = "CHAMELEON_EXEC_STAGE";

/** Where a variable kept out of the stage's environment waits: `CHAMELEON_RESTORE_<name>`. */
const RESTORE_PREFIX = "CHAMELEON_RESTORE_";

/** What the stage needs besides argv and the environment (it always starts its own process group). */
type ExecStageSpec = Omit<ExecSpec, "argv" | "env" | "setpgid"> & {
  /**
   * Variables to put back before execve, each from its own `CHAMELEON_RESTORE_`
   * variable (one variable per value: execve limits each to 128 KiB, not the
   * whole environment).
   */
  readonly restore: readonly string[];
  /** Variables to remove before execve (the stage's own, which the command did not have). */
  readonly remove: readonly string[];
  /**
   * What the stage's lines must not quote, because a secret of the plan is in
   * it: the command's name, its working folder, PATH (a failing execve names
   * them). Named, not given: secrets of any size keep the spec small.
   */
  readonly hide: readonly Quoted[];
};

/** What a line of the stage may quote. */
type Quoted = "name" | "cwd" | "path";

function quotedBy(
  spec: {
    readonly argv: readonly string[];
    readonly cwd?: string | null | undefined;
    readonly env: Readonly<Record<string, string>>;
  },
): Record<Quoted, string> {
  return { name: spec.argv[0] ?? "", cwd: spec.cwd ?? "", path: spec.env["PATH"] ?? "" };
}

/**
 * How to start our own binary in the exec stage: compiled, or the same main
 * module (main.ts, or the bundle of `deno task bundle`) with the same
 * permissions and, for the sources, the project's deno.json.
 */
function ownArgv(): string[] {
  if (Deno.build.standalone) return [Deno.execPath()];
  const main = decodeURIComponent(new URL(Deno.mainModule).pathname);
  const config = `${parentOf(main)}/deno.json`;
  // A bundle has no deno.json beside it, and needs none.
  const hasConfig = pathKind(config) === "file";
  // The parent loaded this same graph a moment ago: everything is cached.
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--cached-only",
    ...(hasConfig ? ["--config", config] : ["--no-config"]),
    ...PERMISSIONS,
    main,
  ];
}

/** Where Deno keeps its cache for this process (running from source, the stage needs the same one). */
function denoDir(): string {
  const env = Deno.env.toObject();
  return env["DENO_DIR"] || `${env["XDG_CACHE_HOME"] || `${env["HOME"] || "/root"}/.cache`}/deno`;
}

/**
 * Whether the dynamic loader or Deno itself reads `name` when the stage's own
 * process starts, before any of its code runs: LD_PRELOAD of nss_wrapper;
 * running from source, NODE_OPTIONS' --require, DENO_V8_FLAGS and the DENO_*
 * files and sockets; even compiled, NODE_CHANNEL_FD with
 * DENO_INTERNAL_CHILD_ENTRYPOINT; TMPDIR for a compiled binary's code cache.
 * The stage is root, and the command's environment may come from the image
 * config: these stay out of the stage's environment and come back at execve.
 */
function readAtStageStart(name: string): boolean {
  return name.startsWith("LD_") || name.startsWith("DENO_") || name.startsWith("NODE_") ||
    name === "GLIBC_TUNABLES" || name === "TMPDIR" || name === "OTEL_DENO";
}

/**
 * The argv and environment of a supervised child that runs `spec` through the
 * exec stage. Its environment is the command's, minus the variables read as
 * the stage starts ({@linkcode readAtStageStart}), which the stage restores
 * before execve.
 */
export function stageChild(
  spec: ExecSpec,
  secrets: readonly string[],
): { argv: string[]; env: Record<string, string> } {
  const env: Record<string, string> = {};
  const restore: string[] = [];
  const remove: string[] = [];
  for (const [k, v] of Object.entries(spec.env)) {
    const kept = `${RESTORE_PREFIX}${k}`;
    if (readAtStageStart(k) && execveBytes(kept, v) <= MAX_VALUE_BYTES) {
      // A value that would not fit under the longer name stays as it is, rather than fail the start.
      restore.push(k);
      env[kept] = v;
    } else env[k] = v;
  }
  if (!Deno.build.standalone) {
    env["DENO_DIR"] = denoDir();
    if (spec.env["DENO_DIR"] === undefined) remove.push("DENO_DIR");
  }
  // The names the plan unsets matter only to the given bytes, which are read here.
  const { argv, env: _env, setpgid: _setpgid, unset: _unset, ...settings } = spec;
  const quoted = Object.entries(quotedBy(spec)) as [Quoted, string][];
  const hide = quoted.filter(([, q]) => secrets.some((v) => v !== "" && q.includes(v)))
    .map(([k]) => k);
  // The stage's own /proc files hold what this process passed it, already decoded.
  const given = givenBytes(spec);
  const stage: ExecStageSpec = { ...settings, restore, remove, hide, ...(given && { given }) };
  env[EXEC_STAGE_SPEC] = JSON.stringify(stage);
  return { argv: [...ownArgv(), EXEC_STAGE_FLAG, "--", ...argv], env };
}

/**
 * The stage's entry: `args` are what follows the flag (`--`, then the command).
 * `log` is the logger its failure is reported with: it learns the secrets first.
 */
export async function runExecStage(
  args: readonly string[],
  processEnv: Record<string, string>,
  log: Logger,
): Promise<never> {
  const env = { ...processEnv };
  const raw = env[EXEC_STAGE_SPEC];
  if (raw === undefined) throw new Error(`${EXEC_STAGE_FLAG} without ${EXEC_STAGE_SPEC}`);
  const { restore, remove, hide, ...settings } = JSON.parse(raw) as ExecStageSpec;
  delete env[EXEC_STAGE_SPEC];
  for (const name of remove) delete env[name];
  for (const name of restore) {
    const kept = `${RESTORE_PREFIX}${name}`;
    env[name] = env[kept] ?? "";
    delete env[kept];
  }
  const argv = args[0] === "--" ? args.slice(1) : args;
  const quoted = quotedBy({ argv, cwd: settings.cwd, env });
  log.addSecrets(hide.map((k) => quoted[k]));
  return await execStage({ ...settings, argv, env, setpgid: true });
}
