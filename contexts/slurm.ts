/**
 * Slurm tasks. `SLURM_NTASKS` marks a task started by srun/sbatch; an
 * interactive allocation names its job `bash` or `interactive`. Source:
 * reference/platforms.md section B.8 (Lightning's SLURMEnvironment). Slurm sets
 * `SLURM_NTASKS` in a batch script or an salloc shell only when the job asked for
 * a task count (`-n`, `--ntasks-per-node`): `sbatch -N2` alone gives none, but
 * every job has `SLURM_JOB_NUM_NODES` (Slurm's src/common/env.c,
 * env_array_for_batch_job and env_array_for_job), so that marks the job too.
 *
 * @module
 */

import { all, always, env, type PlatformTable } from "./_signals.ts";

/** Signals of Slurm. */
export const slurm: PlatformTable = {
  platform: "slurm",
  source: "reference/platforms.md section B.8",
  match: [
    all(env("SLURM_JOB_ID"), env("SLURM_NTASKS")),
    all(env("SLURM_JOB_ID"), env("SLURM_JOB_NUM_NODES")),
  ],
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
