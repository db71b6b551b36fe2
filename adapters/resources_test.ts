import { deepEqual, equal } from "@std/assert";
import { planFixture, withEnv, withFiles } from "../tests/helpers.ts";
import type { Plan } from "../types.ts";

const threads = (p: Plan) =>
  ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"].map((n) => p.env[n]);

Deno.test("resources: a CPU quota under one CPU is still ML_NUM_CPUS 1", () => {
  const p = planFixture(
    "local-unknown/cgroup-v2",
    withFiles({ "/sys/fs/cgroup/cpu.max": "50000 100000\n" }),
  );
  equal(p.env["ML_NUM_CPUS"], "1");
  deepEqual(threads(p), ["1", "1", "1"]);
});

Deno.test("resources: a user's ML_NUM_CPUS of 0 is no CPU count: the thread pools follow the quota", () => {
  const quota4 = withFiles({ "/sys/fs/cgroup/cpu.max": "400000 100000\n" });
  const p = planFixture("local-unknown/cgroup-v2", (s) => withEnv({ ML_NUM_CPUS: "0" })(quota4(s)));
  deepEqual(threads(p), ["4", "4", "4"]);
});
