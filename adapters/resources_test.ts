import { deepEqual, equal, ok } from "@std/assert";
import { toImageConfig } from "../config.ts";
import { InputError } from "../errors.ts";
import { caught, planFixture, withEnv, withFiles } from "../tests/helpers.ts";
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

Deno.test("resources: NVIDIA_VISIBLE_DEVICES without a GPU device is warned about; with a device, or none asked for, it is not", () => {
  const warned = (p: Plan) => p.warnings.filter((w) => w.startsWith("NVIDIA_VISIBLE_DEVICES="));
  const none = planFixture("local-unknown/docker", withEnv({ NVIDIA_VISIBLE_DEVICES: "all" }));
  deepEqual(warned(none), [
    "NVIDIA_VISIBLE_DEVICES=all but no GPU device is visible: ML_NUM_GPUS is 0 (no NVIDIA runtime hook?)",
  ]);
  const gpus = planFixture(
    "local-unknown/gpu-workstation",
    withEnv({ NVIDIA_VISIBLE_DEVICES: "all" }),
  );
  deepEqual(warned(gpus), []);
  for (const value of ["none", "void", ""]) {
    const p = planFixture("local-unknown/docker", withEnv({ NVIDIA_VISIBLE_DEVICES: value }));
    deepEqual(warned(p), [], value);
  }
});

Deno.test("resources: an ML_NUM_GPUS past 2^53 is no count: torch's processes per node follow the devices", () => {
  const p = planFixture(
    "aws-batch-training/multi-node-main",
    withEnv({ ML_NUM_GPUS: "99999999999999999999" }),
  );
  equal(
    p.env["PET_NPROC_PER_NODE"],
    planFixture("aws-batch-training/multi-node-main").env["PET_NPROC_PER_NODE"],
  );
});

Deno.test("resources: an ML_NUM_GPUS written other than in plain decimal digits is no count: torch's processes per node follow the devices", () => {
  const devices = planFixture("sagemaker-training/multi-host").env["PET_NPROC_PER_NODE"];
  equal(devices, "4");
  for (const given of ["1e1", "0x2", "2 "]) {
    const p = planFixture("sagemaker-training/multi-host", withEnv({ ML_NUM_GPUS: given }));
    equal(p.env["PET_NPROC_PER_NODE"], devices, JSON.stringify(given));
  }
});

Deno.test("resources: an OMP_NUM_THREADS list the image config gives (threads per nesting level) is kept, as a count is", () => {
  // OpenMP reads OMP_NUM_THREADS as a list of positive integers, one per nesting level.
  const quota4 = withFiles({ "/sys/fs/cgroup/cpu.max": "400000 100000\n" });
  for (const kind of ["set", "fill"] as const) {
    const config = toImageConfig({ env: { [kind]: { OMP_NUM_THREADS: "4,1" } } });
    const p = planFixture("local-unknown/cgroup-v2", quota4, config);
    deepEqual(threads(p), ["4,1", "4", "4"], kind);
  }
  // A list is OpenMP's only: MKL and OpenBLAS read one count, so theirs still meets the computed one.
  const mkl = toImageConfig({ env: { fill: { MKL_NUM_THREADS: "4,1" } } });
  const e = caught(() => planFixture("local-unknown/cgroup-v2", quota4, mkl));
  ok(e instanceof InputError && /disagree on MKL_NUM_THREADS/.test(e.message), String(e));
});
