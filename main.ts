/**
 * The entrypoint: registers signal listeners before anything else (Deno as
 * PID 1 crashes on SIGTERM otherwise), runs one start (or, started by a
 * supervising entrypoint, the exec stage), and maps errors to the exit codes
 * of design section 7: one line, no stack trace unless debug.
 *
 * @module
 */

import "./sys/signals.ts";
import { errorLine, exitCodeOf } from "./errors.ts";
import { Logger } from "./log.ts";
import { EXEC_STAGE_FLAG, EXEC_STAGE_SPEC, runExecStage } from "./sys/exec_stage.ts";
// The modules the imports above import in turn, imported here first, so Deno parses this file's
// small source map and not theirs to load them (see start_modules.ts).
import "./json.ts";
import "./secrets.ts";
import "./sys/exec.ts";
import "./sys/fs.ts";
import "./sys/libc.ts";
import "./sys/permissions.ts";
import "./types.ts";
import "./world.ts";

if (import.meta.main) {
  // The process environment, read once: the logger, the options, the bypass and the snapshot use it.
  const env = Deno.env.toObject();
  // Both the flag and its spec: a user's own first word that happens to be the flag is a start.
  const execStage = Deno.args[0] === EXEC_STAGE_FLAG && env[EXEC_STAGE_SPEC] !== undefined;
  // The exec stage's logger says nothing of the log settings: the start already did.
  const log = new Logger(env, undefined, execStage);
  let code: number;
  try {
    if (execStage) {
      await runExecStage(Deno.args.slice(1), env, log);
    }
    // The rest of the program loads only for a start, not for the exec stage.
    const { start } = await import("./start_modules.ts");
    code = await start(Deno.args, env, log);
  } catch (e) {
    code = exitCodeOf(e);
    // The reader of stdout went away (`--explain | head -1`; Deno ignores SIGPIPE): end as a
    // program that SIGPIPE killed, quietly, since that reader chose to stop.
    if (e instanceof Deno.errors.BrokenPipe) code = 128 + 13;
    else log.error(errorLine(e)); // cut by the logger, after its scrubbing
    // A line a call: the logger escapes a newline inside one (it may be a value's).
    if (log.debugEnabled && e instanceof Error && e.stack) {
      e.stack.split("\n").forEach((l) => log.debug(l));
    }
  }
  Deno.exit(code);
}
