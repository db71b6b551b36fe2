/**
 * Slurm tasks. `SLURM_NTASKS` marks a task started by srun/sbatch; an
 * interactive allocation names its job `bash` or `interactive`. Source:
 * reference/platforms.md section B.8 (Lightning's SLURMEnvironment).
 *
 * @module
 */

import { all, always, env, type PlatformTable } from "./_signals.ts";

/** Signals of Slurm. */
export const slurm: PlatformTable = {
  platform: "slurm",
  source: "reference/platforms.md section B.8",
  match: [all(env("SLURM_JOB_ID"), env("SLURM_NTASKS"))],
  workloads: [
    {
      workload: "unknown",
      variant: "interactive",
      when: env("SLURM_JOB_NAME", { equals: ["bash", "interactive"] }),
    },
    { workload: "unknown", variant: "task", when: always },
  ],
  evidence: [env("SLURM_PROCID"), env("SLURM_NODEID"), env("SLURM_NNODES"), env("SLURM_NODELIST")],
};
