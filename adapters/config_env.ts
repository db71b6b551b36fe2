/**
 * Static environment from the image config, per context (`env.set` always
 * written, `env.fill` only when unset). A value another adapter also sets
 * differently is a conflict (exit 78), never a silent overwrite; a list another
 * adapter appends to gets its items after the config's value. A value holding
 * JSON with secret-named keys (`APP_CONFIG='{"password": ...}'`) is shown with
 * those values replaced, as a capture hides them, and a JSON list of arguments
 * with a secret-named flag's value replaced (a secret-named variable is
 * hidden whole: the plan's merge decides that by name).
 *
 * @module
 */

import { redactArgsText, redactJsonText, secretsInJson } from "../secrets.ts";
import type { EnvOp } from "../types.ts";
import { type Adapter, fill, set } from "./_adapter.ts";

/** The config env adapter. */
export const configEnv: Adapter = {
  name: "config-env",
  plan({ settings }) {
    const env: EnvOp[] = [];
    const secrets = new Set<string>();
    const add = (make: typeof set, entries: Record<string, string>) => {
      for (const [name, value] of Object.entries(entries)) {
        // A list of arguments (`SM_USER_ARGS`) shows a secret flag's value hidden in its word,
        // as the command line does and a capture keeps it; the display is what a conflict quotes.
        env.push(make(name, value, redactJsonText(value) ?? redactArgsText(value)));
        secretsInJson(value, secrets, { flags: false });
      }
    };
    add(set, settings.env.set);
    add(fill, settings.env.fill);
    return { env, ...(secrets.size > 0 ? { secrets: [...secrets] } : {}) };
  },
};
