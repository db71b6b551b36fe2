/**
 * Modal. The `MODAL_*` keys are reserved. Source: reference/platforms.md section B.10
 * (modal.com/docs/guide/environment_variables).
 *
 * @module
 */

import { env, type PlatformTable } from "./_signals.ts";

/** Signals of Modal. */
export const modal: PlatformTable = {
  platform: "modal",
  source: "reference/platforms.md section B.10",
  match: [env("MODAL_TASK_ID")],
  workloads: [{ workload: "unknown", variant: "function", when: env("MODAL_IS_REMOTE") }],
  evidence: [env("MODAL_REGION"), env("MODAL_CLOUD_PROVIDER")],
};
