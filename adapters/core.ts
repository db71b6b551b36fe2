/**
 * The decision itself, for the command and for nested starts: design section 6 rows
 * `CHAMELEON_CONTEXT`, `_PLATFORM`, `_WORKLOAD` (fill) and `CHAMELEON_STARTED`
 * (set).
 *
 * @module
 */

import { parseContextId } from "../contexts/mod.ts";
import type { Context } from "../types.ts";
import { type Adapter, fill, set } from "./_adapter.ts";

/**
 * Whether a value already in the environment says what the decision says: the
 * context as an id or its platform alone, the platform, the workload. One that
 * contradicts it was input that `--context` or `--workload` overrode.
 */
function agrees(name: string, given: string, c: Context): boolean {
  if (name === "CHAMELEON_PLATFORM") return given === c.platform;
  if (name === "CHAMELEON_WORKLOAD") return given === c.workload;
  try {
    const id = parseContextId(given, name);
    return id.platform === c.platform && (id.workload ?? c.workload) === c.workload;
  } catch {
    return false;
  }
}

/** The `CHAMELEON_*` variables. */
export const core: Adapter = {
  name: "core",
  plan({ world, detection: { context } }) {
    // Fill, so that a value the decision came from stays as it was given (a platform alone);
    // set where the value contradicts the decision, or the command and a nested start would
    // see a pair that disagrees (CHAMELEON_CONTEXT sagemaker-training, CHAMELEON_WORKLOAD serving).
    const decision = (name: string, value: string) => {
      const given = world.env(name);
      return given === undefined || given === "" || agrees(name, given, context)
        ? fill(name, value)
        : set(name, value);
    };
    return {
      env: [
        decision("CHAMELEON_CONTEXT", context.id),
        decision("CHAMELEON_PLATFORM", context.platform),
        decision("CHAMELEON_WORKLOAD", context.workload),
        set("CHAMELEON_STARTED", "1"),
      ],
    };
  },
};
