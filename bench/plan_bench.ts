/**
 * plan() cost against cluster size and hyperparameter count: the same
 * SageMaker training snapshot with 128…1,024 hosts and 1,250…10,000
 * hyperparameters. Each iteration uses a fresh World (parsed files are cached
 * per World, so reusing one would measure the cache).
 */
import { DEFAULT_CONFIG } from "../config.ts";
import { detect } from "../contexts/mod.ts";
import { plan } from "../plan.ts";
import { World } from "../world.ts";
import { isTooLarge, sagemakerSnapshot as sagemaker } from "./plan_inputs.ts";

for (const n of [128, 256, 512, 1024]) {
  const s = sagemaker(n, 10);
  const d = detect(new World(s));
  Deno.bench({
    name: `plan() hosts n=${n}`,
    group: "hosts",
    fn: () => void plan(new World(s), d, DEFAULT_CONFIG),
  });
}
// 4,000 is about the most whose SM_USER_ARGS still fits execve: the largest plan that completes.
for (const n of [1250, 2500, 4000, 5000, 10000]) {
  const s = sagemaker(4, n);
  const d = detect(new World(s));
  Deno.bench({
    name: `plan() hyperparameters n=${n}`,
    group: "hps",
    fn: () => {
      // From about 4,500 hyperparameters SM_USER_ARGS outgrows what execve accepts
      // (128 KiB per variable): plan() derives everything, then stops with exit 78.
      try {
        plan(new World(s), d, DEFAULT_CONFIG);
      } catch (e) {
        if (!isTooLarge(e)) throw e;
      }
    },
  });
}
// Short names and values: every SM_* fits, so the whole plan, environment included, completes.
for (const n of [2500, 5000, 10000]) {
  const s = sagemaker(4, n, true);
  const d = detect(new World(s));
  Deno.bench({
    name: `plan() short hyperparameters n=${n}`,
    group: "hps-short",
    fn: () => void plan(new World(s), d, DEFAULT_CONFIG),
  });
}
