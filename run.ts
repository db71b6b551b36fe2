/**
 * Run: exec the command (it keeps the PID, nothing stays resident) or
 * supervise it (`supervise.ts`, loaded only then). Both go through the one
 * exec stage (`sys/exec.ts`): in this process for exec, in a child started
 * from our own binary for supervise.
 *
 * @module
 */

import type { Logger } from "./log.ts";
import { type ExecSpec, execStage } from "./sys/exec.ts";
import type { Plan, Step } from "./types.ts";

/** The exec spec of a plan: argv, environment, identity, cwd, umask. */
function execSpecOf(plan: Plan, env: Readonly<Record<string, string>>): ExecSpec {
  return {
    argv: plan.command ?? [],
    env,
    ...(plan.user === null
      ? {}
      : { user: { uid: plan.user.uid, gid: plan.user.gid, groups: plan.user.groups } }),
    cwd: plan.cwd,
    umask: plan.umask,
    ...(plan.unset.length === 0 ? {} : { unset: plan.unset }),
  };
}

/** Runs the plan's command; resolves to its exit code when supervising (exec never returns). */
export async function run(
  plan: Plan,
  env: Readonly<Record<string, string>>,
  log: Logger,
): Promise<number> {
  const spec = execSpecOf(plan, env);
  const spark = plan.steps.find((s): s is Extract<Step, { step: "spark-cluster" }> =>
    s.step === "spark-cluster"
  );
  const who = plan.user ? ` as ${plan.user.name} (${plan.user.uid}:${plan.user.gid})` : "";
  if (spark === undefined) {
    log.info(
      `${plan.mode === "exec" ? "exec" : "supervising"} ${
        (plan.commandDisplay ?? spec.argv).join(" ")
      }${who}`,
    );
    // A failure before execve goes to SageMaker's failure file, which only root can write.
    if (plan.mode === "exec") await execStage({ ...spec, checkFirst: plan.failureReport !== null });
  }
  // The supervisor, its process calls and the Spark cluster load only when they run.
  const { sparkCluster, supervise } = await import("./supervise.ts");
  return spark ? await sparkCluster(spark, plan, spec, log) : await supervise(plan, spec, log);
}
