/**
 * The adapters, in the order their fragments are merged. Order matters only
 * for readability of `--explain`: conflicts are errors, never resolved by order.
 *
 * @module
 */

import type { Adapter } from "./_adapter.ts";
import { command } from "./command.ts";
import { compatSagemaker } from "./compat.ts";
import { configEnv } from "./config_env.ts";
import { core } from "./core.ts";
import { credentials } from "./credentials.ts";
import { distributed } from "./distributed.ts";
import { hooks } from "./hooks.ts";
import { metrics } from "./metrics.ts";
import { mlPaths } from "./ml_paths.ts";
import { network } from "./network.ts";
import { resources } from "./resources.ts";
import { sagemaker } from "./sagemaker.ts";
import { serving } from "./serving.ts";
import { spark } from "./spark.ts";
import { user } from "./user.ts";

export type { Adapter, CommandPart, Fragment, PlanInput } from "./_adapter.ts";

/** Every adapter. */
export const ADAPTERS: readonly Adapter[] = [
  core,
  command,
  mlPaths,
  resources,
  distributed,
  serving,
  sagemaker,
  credentials,
  network,
  user,
  configEnv,
  compatSagemaker,
  hooks,
  metrics,
  spark,
];
