/**
 * The entrypoint: registers signal listeners before anything else (Deno as
 * PID 1 crashes on SIGTERM otherwise), runs one start, and maps errors to the
 * exit codes of design §7: one line, no stack trace unless debug.
 *
 * @module
 */

import "./sys/signals.ts";
import { ChameleonError, exitCodeOf } from "./errors.ts";
import { Logger } from "./log.ts";
import { start } from "./start.ts";

if (import.meta.main) {
  const log = new Logger(Deno.env.toObject());
  let code: number;
  try {
    code = await start(Deno.args, log);
  } catch (e) {
    code = exitCodeOf(e);
    if (e instanceof ChameleonError) log.error(e.message);
    else log.error(`Internal error (a bug): ${e instanceof Error ? e.message : String(e)}`);
    if (log.debugEnabled && e instanceof Error && e.stack) log.debug(e.stack);
  }
  Deno.exit(code);
}
