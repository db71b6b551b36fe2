import { deepEqual, equal } from "@std/assert";
import { planOf, snap } from "../tests/helpers.ts";
import type { Plan } from "../types.ts";
import { World } from "../world.ts";

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
