/**
 * Databricks (driver only). Source: reference/platforms.md section B.4
 * (databricks/cli libs/runtime/detect.go).
 *
 * @module
 */

import { env, path, type PlatformTable } from "./_signals.ts";

/** Signals of Databricks. */
export const databricks: PlatformTable = {
  platform: "databricks",
  source: "reference/platforms.md section B.4",
  match: [env("DATABRICKS_RUNTIME_VERSION")],
  workloads: [],
  evidence: [path("/databricks/environment.yml"), path("/Workspace")],
};
