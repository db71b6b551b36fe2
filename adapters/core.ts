/**
 * The decision itself, for the command and for nested starts: design section 6 rows
 * `CHAMELEON_CONTEXT`, `_PLATFORM`, `_WORKLOAD` (fill) and `CHAMELEON_STARTED`
 * (set).
 *
 * @module
 */

import { type Adapter, fill, set } from "./_adapter.ts";

/** The `CHAMELEON_*` variables. */
export const core: Adapter = {
  name: "core",
  plan({ detection: { context } }) {
    return {
      env: [
        fill("CHAMELEON_CONTEXT", context.id),
        fill("CHAMELEON_PLATFORM", context.platform),
        fill("CHAMELEON_WORKLOAD", context.workload),
        set("CHAMELEON_STARTED", "1"),
      ],
    };
  },
};
