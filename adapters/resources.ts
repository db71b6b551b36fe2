/**
 * CPU and GPU counts for the program and its thread pools (design section 6:
 * `ML_NUM_CPUS`, `ML_NUM_GPUS`, and `OMP_`/`MKL_`/`OPENBLAS_NUM_THREADS` when a
 * CPU quota exists). All fill. Source: reference/platforms.md sections B.13, B.14.
 *
 * @module
 */

import type { EnvOp, Facts } from "../types.ts";
import { type Adapter, configGives, fill, givenEnv, type PlanInput } from "./_adapter.ts";

/** `ML_NUM_CPUS`: the quota rounded down (at least 1), else the online CPUs. */
export function mlNumCpus(facts: Facts): number {
  return facts.cpus !== null ? Math.max(1, Math.floor(facts.cpus)) : facts.onlineCpus;
}

/**
 * A count the user or the image config gave, when it is a whole number (of CPUs: at least one; of
 * GPUs: none is a count too). `OMP_NUM_THREADS` may be a list of counts, one per nesting level
 * (`4,1`): OpenMP's own form of the variable (OpenMP 4.5 section 4.2, a comma-separated list of
 * positive integers), the config author's choice as a count is.
 */
function wholeGiven(input: PlanInput, name: string): string | undefined {
  const v = givenEnv(input, name);
  const whole = name === "ML_NUM_GPUS"
    ? /^(?:0|[1-9]\d*)$/
    : name === "OMP_NUM_THREADS"
    ? /^[1-9]\d*(?:,[1-9]\d*)*$/
    : /^[1-9]\d*$/;
  return v !== undefined && whole.test(v) ? v : undefined;
}

/**
 * The CPUs the program works with: the `ML_NUM_CPUS` it gets. A whole number
 * the user or the image config gave is kept, so what sizes itself from the
 * CPUs (thread pools, Spark's cores) follows that, else the computed count.
 */
export function effectiveCpus(input: PlanInput): string {
  // The digits as given: a count past 2^53 would come back from a number as 1e+21.
  return wholeGiven(input, "ML_NUM_CPUS") ?? String(mlNumCpus(input.detection.facts));
}

/** The GPUs the program works with: the `ML_NUM_GPUS` it gets (a whole number given, else the count). */
export function effectiveGpus(input: PlanInput): number {
  const given = wholeGiven(input, "ML_NUM_GPUS");
  // Past 2^53 a count is no count of devices: the devices are.
  return given !== undefined && Number.isSafeInteger(Number(given))
    ? Number(given)
    : input.detection.facts.gpus;
}

/** The resources adapter. */
export const resources: Adapter = {
  name: "resources",
  plan(input) {
    const { detection: { facts }, world } = input;
    const cpus = String(mlNumCpus(facts));
    const effective = effectiveCpus(input);
    const threads = facts.cpus === null
      ? []
      : ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"].map((n) =>
        fill(n, effective)
      );
    // A count the image config gives is its author's choice, not a disagreement; one that is no
    // whole number of CPUs still meets the computed one (exit 78, naming both).
    const own = (op: EnvOp) =>
      !configGives(input, op.name) || wholeGiven(input, op.name) === undefined;
    const visible = world.env("NVIDIA_VISIBLE_DEVICES");
    const warnings =
      facts.gpus === 0 && visible !== undefined && !["", "none", "void"].includes(visible)
        ? [
          `NVIDIA_VISIBLE_DEVICES=${visible} but no GPU device is visible: ML_NUM_GPUS is 0 (no NVIDIA runtime hook?)`,
        ]
        : [];
    return {
      env: [fill("ML_NUM_CPUS", cpus), fill("ML_NUM_GPUS", String(facts.gpus)), ...threads]
        .filter(own),
      warnings,
    };
  },
};
