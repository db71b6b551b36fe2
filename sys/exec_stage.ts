/**
 * The exec stage as its own process: a supervising entrypoint starts its own
 * binary with `--chameleon-exec-stage -- COMMAND...` and the stage's settings
 * in one variable; the stage restores the variables kept out of its own
 * environment, then runs the shared exec stage (`exec.ts`).
 *
 * @module
 */

import { PERMISSIONS } from "./permissions.ts";
import { type ExecSpec, execStage } from "./exec.ts";

/** The internal first argument that selects the exec stage. */
export const EXEC_STAGE_FLAG = "--chameleon-exec-stage";
/** The variable carrying {@linkcode ExecStageSpec}. */
export const EXEC_STAGE_SPEC = "CHAMELEON_EXEC_STAGE";

/** What the stage needs besides argv and the environment. */
export interface ExecStageSpec {
  readonly user?: {
    readonly uid: number;
    readonly gid: number;
    readonly groups: readonly number[];
  };
  readonly cwd: string | null;
  readonly umask: number | null;
  readonly setpgid: boolean;
  /** Variables to put back (a string) or remove (null) before execve. */
  readonly restore: Readonly<Record<string, string | null>>;
}

/** How to start our own binary in the exec stage: compiled, or from source with the same permissions. */
export function execStageArgv(): string[] {
  if (Deno.build.standalone) return [Deno.execPath()];
  const main = new URL("../main.ts", import.meta.url).pathname;
  const config = new URL("../deno.json", import.meta.url).pathname;
  // The parent loaded this same graph a moment ago: everything is cached.
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--cached-only",
    "--config",
    config,
    ...PERMISSIONS,
    main,
  ];
}

/** The stage's entry: `args` are what follows the flag (`--`, then the command). */
export function runExecStage(args: readonly string[]): never {
  const env = Deno.env.toObject();
  const raw = env[EXEC_STAGE_SPEC];
  if (raw === undefined) throw new Error(`${EXEC_STAGE_FLAG} without ${EXEC_STAGE_SPEC}`);
  const stage = JSON.parse(raw) as ExecStageSpec;
  delete env[EXEC_STAGE_SPEC];
  for (const [k, v] of Object.entries(stage.restore)) {
    if (v === null) delete env[k];
    else env[k] = v;
  }
  const argv = args[0] === "--" ? args.slice(1) : args;
  const spec: ExecSpec = {
    argv,
    env,
    ...(stage.user ? { user: stage.user } : {}),
    cwd: stage.cwd,
    umask: stage.umask,
    setpgid: stage.setpgid,
  };
  return execStage(spec);
}
