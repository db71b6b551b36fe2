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

/** docker-stacks' hook folders, which a start does not run (README, "Hooks"). */
const DOCKER_STACKS_HOOKS = ["/usr/local/bin/start-notebook.d", "/usr/local/bin/before-notebook.d"];

/** The hooks adapter. */
export const hooks: Adapter = {
  name: "hooks",
  dynamicPaths(_world: World, config: ImageConfig): PathDecl[] {
    const dirs = new Set(settingsVariants(config).map((s) => s.hooksDir));
    return [
      ...[...dirs].flatMap((d) =>
        PHASES.map((phase) => ({
          kind: "list" as const,
          path: `${d}/${phase}`,
          each: "stat" as const,
        }))
      ),
      ...DOCKER_STACKS_HOOKS.map((path) => ({
        kind: "list" as const,
        path,
        each: "exists" as const,
      })),
    ];
  },
  plan({ world, settings, detection }) {
    const steps: Step[] = [];
    const warnings: string[] = [];
    // A notebook image carried over from docker-stacks may still hold hooks where its start.sh
    // ran them: said, since nothing runs them here.
    if (detection.context.workload === "notebook") {
      for (const dir of DOCKER_STACKS_HOOKS) {
        if (world.children(dir).length === 0) continue;
        warnings.push(
          `${dir} holds docker-stacks hooks, which chameleon does not run: move them to ${settings.hooksDir}/before-run`,
        );
      }
    }
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
