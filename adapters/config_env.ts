/**
 * Static environment from the image config, per context (`env.set` always
 * written, `env.fill` only when unset). A value another adapter also sets
 * differently is a conflict (exit 78), never a silent overwrite.
 *
 * @module
 */

import { type Adapter, fill, set } from "./_adapter.ts";

/** The config env adapter. */
export const configEnv: Adapter = {
  name: "config-env",
  plan({ settings }) {
    return {
      env: [
        ...Object.entries(settings.env.set).map(([k, v]) => set(k, v)),
        ...Object.entries(settings.env.fill).map(([k, v]) => fill(k, v)),
      ],
    };
  },
};
