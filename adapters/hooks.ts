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
import { InputError } from "../errors.ts";
import type { PathDecl } from "../paths.ts";
import type { HookPhase, Step } from "../types.ts";
import {
  changeableByOthers,
  foldersAbove,
  hookRefusal,
  modeAndOwner,
  parentOf,
  type World,
} from "../world.ts";
import { type Adapter } from "./_adapter.ts";

const PHASES: readonly HookPhase[] = ["before-apply", "before-run"];

/**
 * docker-stacks' hook folders, which a start does not run (README, "Hooks"), with the phase that
 * runs where each did (reference/platforms.md C.1): start-notebook.d as the starting user before
 * anything else, before-notebook.d just before the command.
 */
const DOCKER_STACKS_HOOKS: readonly [string, HookPhase][] = [
  ["/usr/local/bin/start-notebook.d", "before-apply"],
  ["/usr/local/bin/before-notebook.d", "before-run"],
];

/** The hooks adapter. */
export const hooks: Adapter = {
  name: "hooks",
  dynamicPaths(_world: World, config: ImageConfig): PathDecl[] {
    const dirs = new Set(settingsVariants(config).map((s) => s.hooksDir));
    return [
      ...[...dirs].flatMap((d) => [
        // The folders above ("/" aside: every start searches it), and themselves too: one the
        // start's uid cannot search or list is said.
        ...foldersAbove(d).filter((up) => up !== "/").reverse()
          .map((path) => ({ kind: "stat" as const, path })),
        { kind: "stat" as const, path: d },
        ...PHASES.flatMap((phase) => [
          { kind: "stat" as const, path: `${d}/${phase}` },
          { kind: "list" as const, path: `${d}/${phase}`, each: "stat" as const },
        ]),
      ]),
      ...DOCKER_STACKS_HOOKS.map(([path]) => ({
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
      for (const [dir, phase] of DOCKER_STACKS_HOOKS) {
        if (world.children(dir).length === 0) continue;
        warnings.push(
          `${dir} holds docker-stacks hooks, which chameleon does not run: move them to ${settings.hooksDir}/${phase}`,
        );
      }
    }
    // Hooks run before any user switch: what the start's own ids may list, stat and execute.
    const { uid, gid, groups } = world.snapshot;
    const closed = (dir: string, what: string) => {
      const st = world.stat(dir);
      warnings.push(
        `hook folder ${dir} cannot be ${what} by uid ${uid} (${
          modeAndOwner(st)
        }): its hooks are not run`,
      );
    };
    const top = settings.hooksDir;
    // A folder above that the uid cannot search hides the hooks dir itself: the snapshot cannot
    // tell whether it is there, let alone what it holds.
    const up = parentOf(top);
    const above = up === null ? undefined : world.closedOnTheWay(up, uid, gid, groups);
    if (above !== undefined) {
      warnings.push(
        `hook folder ${top} cannot be reached by uid ${uid} (${above} is ${
          modeAndOwner(world.stat(above))
        }): any hooks in it are not run`,
      );
      return { steps, warnings };
    }
    // A hooks dir the uid cannot search hides its phase folders from the snapshot.
    if (world.isDir(top) && !world.canReach(`${top}/x`, uid, gid, groups)) {
      closed(top, "searched");
      return { steps, warnings };
    }
    for (const phase of PHASES) {
      const dir = `${settings.hooksDir}/${phase}`;
      // A folder it cannot list shows no entries: not the same as none.
      if (world.isDir(dir) && !world.canList(dir, uid, gid, groups)) {
        closed(dir, "listed");
        continue;
      }
      // No dotfiles (as a shell's `*` leaves them out), nor an editor's backup (`10-setup.sh~`).
      const names = world.children(dir).filter((n) =>
        !n.startsWith(".") && !n.endsWith("~") && !world.isDir(`${dir}/${n}`)
      );
      const runnable: string[] = [];
      for (const n of names) {
        const path = `${dir}/${n}`;
        const f = world.file(path);
        if (f.kind === "ok" && world.canExecute(path, uid, gid, groups)) {
          runnable.push(n);
          continue;
        }
        // A link to nothing, say (the snapshot's reason).
        const why = f.kind === "unreadable" ? f.reason : `not executable (for uid ${uid})`;
        warnings.push(`hook ${path} is ${why}: skipped`);
      }
      if (uid === 0) { for (const n of runnable) refuseChangeable(world, top, dir, `${dir}/${n}`); }
      if (runnable.length > 0) steps.push({ step: "hooks", phase, dir, hooks: runnable });
    }
    return { steps, warnings };
  },
};

/**
 * Refuses (exit 78), as apply does before any hook runs, a hook root would run
 * that another user could have changed: the hook, its phase folder or the
 * hooks dir is another uid's or writable by its group or others. Said here
 * too, so that `--explain` of a root start fails as the start would.
 */
function refuseChangeable(world: World, top: string, dir: string, hook: string): void {
  for (const p of [top, dir, hook]) {
    const { uid, gid } = world.snapshot;
    const why = changeableByOthers(world.stat(p), uid, gid, false);
    if (why !== undefined) throw new InputError(hookRefusal(hook, p, why));
  }
}
