/**
 * Hook folders (docker-stacks' start-notebook.d, done as plan steps): every
 * executable in `<hooksDir>/<phase>/` (default `/etc/chameleon/hooks.d`) runs
 * in lexical order with the planned environment; `before-apply` runs before
 * anything is written, `before-run` just before the command. Listed in the
 * plan, so `--explain` shows what will run.
 *
 * @module
 */

import { type ImageConfig, settingsVariants } from "../config.ts";
import type { PathDecl } from "../paths.ts";
import type { HookPhase, Step } from "../types.ts";
import type { World } from "../world.ts";
import { type Adapter } from "./_adapter.ts";

const PHASES: readonly HookPhase[] = ["before-apply", "before-run"];

/** The hooks adapter. */
export const hooks: Adapter = {
  name: "hooks",
  dynamicPaths(_world: World, config: ImageConfig): PathDecl[] {
    const dirs = new Set(settingsVariants(config).map((s) => s.hooksDir));
    return [...dirs].flatMap((d) =>
      PHASES.map((phase) => ({
        kind: "list" as const,
        path: `${d}/${phase}`,
        each: "stat" as const,
      }))
    );
  },
  plan({ world, settings }) {
    const steps: Step[] = [];
    const warnings: string[] = [];
    for (const phase of PHASES) {
      const dir = `${settings.hooksDir}/${phase}`;
      // No dotfiles (as a shell's `*` leaves them out), nor an editor's backup (`10-setup.sh~`).
      const names = world.children(dir).filter((n) =>
        !n.startsWith(".") && !n.endsWith("~") && !world.isDir(`${dir}/${n}`)
      );
      // Executable for the start's own ids (hooks run before any user switch).
      const { uid, gid, groups } = world.snapshot;
      const runnable = names.filter((n) => world.canExecute(`${dir}/${n}`, uid, gid, groups));
      for (const n of names.filter((x) => !runnable.includes(x))) {
        warnings.push(`hook ${dir}/${n} is not executable (for uid ${uid}): skipped`);
      }
      if (runnable.length > 0) steps.push({ step: "hooks", phase, dir, hooks: runnable });
    }
    return { steps, warnings };
  },
};
