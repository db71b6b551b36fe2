/**
 * chameleon as a library: take or load a snapshot, detect the context, build
 * the plan and render `--explain`, without running anything. No side effects
 * at import.
 *
 * @example
 * ```ts
 * import { detect, parseSnapshot, plan, DEFAULT_CONFIG, World } from "./mod.ts";
 * const world = new World(parseSnapshot(Deno.readTextFileSync("snap.json"), "snap.json"));
 * const detection = detect(world);
 * console.log(detection.context.id, plan(world, detection, DEFAULT_CONFIG).command);
 * ```
 *
 * @module
 */

export {
  detect,
  type DetectInputs,
  DETECTORS,
  parseContextId,
  WORKLOAD_WORDS,
} from "./contexts/mod.ts";
export { computeFacts } from "./contexts/facts.ts";
export { type Adapter, ADAPTERS, type Fragment, type PlanInput } from "./adapters/mod.ts";
export { type AdapterEnv, mergeEnv, plan, runtimeDirOf } from "./plan.ts";
export { type ConfigInfo, explainJson, explainText, type Explanation } from "./explain.ts";
export { DEFAULT_CONFIG, type ImageConfig, settingsFor } from "./config.ts";
export { type Options, parseArgs } from "./cli.ts";
export { parseSnapshot } from "./snapshot.ts";
export { isSecretName, REDACTED } from "./secrets.ts";
export { World } from "./world.ts";
export * from "./errors.ts";
export type * from "./types.ts";
