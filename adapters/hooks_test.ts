import { deepEqual, equal } from "@std/assert";
import { DEFAULT_CONFIG } from "../config.ts";
import { planOf, snap } from "../tests/helpers.ts";
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

Deno.test("hooks: docker-stacks' start-notebook.d with a file is said too", () => {
  const p = planOf(
    new World(snap({
      env: { CHAMELEON_WORKLOAD: "notebook" },
      files: { "/usr/local/bin/start-notebook.d/10-env.sh": "export A=1\n" },
    })),
  );
  deepEqual(p.warnings.filter((w) => w.includes("docker-stacks hooks")), [
    "/usr/local/bin/start-notebook.d holds docker-stacks hooks, which chameleon does not run: move them to /etc/chameleon/hooks.d/before-run",
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

Deno.test("hooks.dynamicPaths() stats each phase folder's entries and lists docker-stacks' folders", () => {
  deepEqual(hooks.dynamicPaths!(new World(snap({})), DEFAULT_CONFIG), [
    { kind: "list", path: "/etc/chameleon/hooks.d/before-apply", each: "stat" },
    { kind: "list", path: "/etc/chameleon/hooks.d/before-run", each: "stat" },
    { kind: "list", path: "/usr/local/bin/start-notebook.d", each: "exists" },
    { kind: "list", path: "/usr/local/bin/before-notebook.d", each: "exists" },
  ]);
});
