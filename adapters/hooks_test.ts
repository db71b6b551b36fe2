import { deepEqual, equal } from "@std/assert";
import { DEFAULT_CONFIG } from "../config.ts";
import { InputError } from "../errors.ts";
import { caught, planOf, snap } from "../tests/helpers.ts";
import type { Plan } from "../types.ts";
import { World } from "../world.ts";
import { hooks } from "./hooks.ts";

const DIR = "/etc/chameleon/hooks.d/before-run";

/** The hooks each phase of a plan runs. */
const hooksOf = (p: Plan) =>
  p.steps.flatMap((s) => s.step === "hooks" ? [[s.phase, s.hooks] as const] : []);

Deno.test("hooks: a folder inside a hook folder is no hook, even with its execute bits", () => {
  const p = planOf(
    new World(snap({
      dirs: [`${DIR}/lib`, `${DIR}/20-folder.d`],
      files: { [`${DIR}/10-setup`]: "#!/bin/sh\n", [`${DIR}/lib/helper.sh`]: "" },
      stat: {
        [`${DIR}/10-setup`]: { uid: 0, gid: 0, mode: "0755" },
        [`${DIR}/lib`]: { uid: 0, gid: 0, mode: "0755" },
        [`${DIR}/20-folder.d`]: { uid: 0, gid: 0, mode: "0755" },
      },
    })),
  );
  deepEqual(hooksOf(p), [["before-run", ["10-setup"]]]);
  equal(p.warnings.some((w) => w.includes("/lib") || w.includes("20-folder.d")), false);
});

Deno.test("hooks: a notebook start says that docker-stacks' hook folders are not run", () => {
  const withHook = (workload: string) =>
    planOf(
      new World(snap({
        env: { CHAMELEON_WORKLOAD: workload },
        dirs: ["/usr/local/bin/before-notebook.d", "/usr/local/bin/start-notebook.d"],
        files: { "/usr/local/bin/before-notebook.d/10-env.sh": "export A=1\n" },
      })),
    ).warnings.filter((w) => w.includes("docker-stacks hooks"));
  deepEqual(withHook("notebook"), [
    "/usr/local/bin/before-notebook.d holds docker-stacks hooks, which chameleon does not run: move them to /etc/chameleon/hooks.d/before-run",
  ]);
  deepEqual(withHook("training"), []);
});

Deno.test("hooks: docker-stacks' start-notebook.d with a file is said too, to move to before-apply: it ran before anything", () => {
  const p = planOf(
    new World(snap({
      env: { CHAMELEON_WORKLOAD: "notebook" },
      files: { "/usr/local/bin/start-notebook.d/10-env.sh": "export A=1\n" },
    })),
  );
  deepEqual(p.warnings.filter((w) => w.includes("docker-stacks hooks")), [
    "/usr/local/bin/start-notebook.d holds docker-stacks hooks, which chameleon does not run: move them to /etc/chameleon/hooks.d/before-apply",
  ]);
});

Deno.test("hooks: a before-apply hook runs in its own phase, before the before-run ones", () => {
  const APPLY = "/etc/chameleon/hooks.d/before-apply";
  const p = planOf(
    new World(snap({
      files: { [`${APPLY}/10-fetch`]: "#!/bin/sh\n", [`${DIR}/20-run`]: "#!/bin/sh\n" },
      stat: {
        [`${APPLY}/10-fetch`]: { uid: 0, gid: 0, mode: "0755" },
        [`${DIR}/20-run`]: { uid: 0, gid: 0, mode: "0755" },
      },
    })),
  );
  deepEqual(hooksOf(p), [["before-apply", ["10-fetch"]], ["before-run", ["20-run"]]]);
});

Deno.test("hooks.dynamicPaths() stats the hook folders and each phase folder's entries, and lists docker-stacks' folders", () => {
  deepEqual(hooks.dynamicPaths!(new World(snap({})), DEFAULT_CONFIG), [
    { kind: "stat", path: "/etc" },
    { kind: "stat", path: "/etc/chameleon" },
    { kind: "stat", path: "/etc/chameleon/hooks.d" },
    { kind: "stat", path: "/etc/chameleon/hooks.d/before-apply" },
    { kind: "list", path: "/etc/chameleon/hooks.d/before-apply", each: "stat" },
    { kind: "stat", path: "/etc/chameleon/hooks.d/before-run" },
    { kind: "list", path: "/etc/chameleon/hooks.d/before-run", each: "stat" },
    { kind: "list", path: "/usr/local/bin/start-notebook.d", each: "exists" },
    { kind: "list", path: "/usr/local/bin/before-notebook.d", each: "exists" },
  ]);
});

Deno.test("hooks: a hook folder the start's uid cannot list is said, not skipped in silence", () => {
  const HOOKS = "/etc/chameleon/hooks.d";
  const user = { uid: 1000, gid: 1000, groups: [1000] };
  const warningsOf = (stat: Record<string, { uid: number; gid: number; mode: string }>) =>
    planOf(new World(snap({ ...user, dirs: Object.keys(stat), stat }))).warnings
      .filter((w) => w.includes("hook"));
  // A snapshot finds a folder it cannot list to exist (its stat), but none of its entries.
  deepEqual(warningsOf({ [DIR]: { uid: 0, gid: 0, mode: "0700" } }), [
    `hook folder ${DIR} cannot be listed by uid 1000 (0700, owner 0:0): its hooks are not run`,
  ]);
  deepEqual(warningsOf({ [HOOKS]: { uid: 0, gid: 0, mode: "0750" } }), [
    `hook folder ${HOOKS} cannot be searched by uid 1000 (0750, owner 0:0): its hooks are not run`,
  ]);
  // A folder above that it cannot search hides the hooks dir itself from the snapshot.
  deepEqual(warningsOf({ "/etc/chameleon": { uid: 0, gid: 0, mode: "0750" } }), [
    `hook folder ${HOOKS} cannot be reached by uid 1000 (/etc/chameleon is 0750, owner 0:0): any hooks in it are not run`,
  ]);
  // Readable for the start's group, or for root: nothing to say.
  deepEqual(warningsOf({ [DIR]: { uid: 0, gid: 1000, mode: "0750" } }), []);
  equal(
    planOf(new World(snap({ dirs: [DIR], stat: { [DIR]: { uid: 0, gid: 0, mode: "0700" } } })))
      .warnings.some((w) => w.includes("hook folder")),
    false,
  );
});

Deno.test("hooks: a hook that is a link to nothing is said and skipped, not skipped in silence", () => {
  const p = planOf(
    new World(snap({
      files: { [`${DIR}/10-setup`]: "" },
      unreadable: { [`${DIR}/20-gone`]: "a symbolic link whose target does not exist" },
      stat: { [`${DIR}/10-setup`]: { uid: 0, gid: 0, mode: "0755" } },
    })),
  );
  deepEqual(hooksOf(p), [["before-run", ["10-setup"]]]);
  deepEqual(p.warnings.filter((w) => w.includes("hook")), [
    `hook ${DIR}/20-gone is a symbolic link whose target does not exist: skipped`,
  ]);
});

Deno.test("hooks: a root plan refuses a hook another user could change (exit 78), as apply would: --explain says so too", () => {
  const planWith = (stat: Record<string, { uid: number; gid: number; mode: string }>, uid = 0) =>
    caught(() =>
      planOf(
        new World(snap({
          uid,
          gid: uid,
          groups: [uid],
          files: { [`${DIR}/10-setup`]: "#!/bin/sh\n" },
          stat: { [`${DIR}/10-setup`]: { uid: 0, gid: 0, mode: "0755" }, ...stat },
        })),
      ), "a refusal");
  const open = planWith({ [`${DIR}/10-setup`]: { uid: 0, gid: 0, mode: "0777" } });
  if (!(open instanceof InputError)) throw open;
  equal(open.exitCode, 78);
  equal(
    open.message,
    `Hook ${DIR}/10-setup: ${DIR}/10-setup is writable by its group or others (777): a root start does not run it`,
  );
  const theirs = planWith({ [DIR]: { uid: 1000, gid: 100, mode: "0755" } });
  if (!(theirs instanceof InputError)) throw theirs;
  equal(
    theirs.message,
    `Hook ${DIR}/10-setup: ${DIR} belongs to uid 1000: a root start does not run it`,
  );
  // A start that is not root runs its hooks as itself: nothing to refuse.
  const p = planOf(
    new World(snap({
      uid: 1000,
      gid: 100,
      groups: [100],
      files: { [`${DIR}/10-setup`]: "#!/bin/sh\n" },
      stat: { [`${DIR}/10-setup`]: { uid: 1000, gid: 100, mode: "0777" } },
    })),
  );
  deepEqual(hooksOf(p), [["before-run", ["10-setup"]]]);
});
