/**
 * The adapters, in the order their fragments are merged. Order matters only
 * for readability of `--explain`: conflicts are errors, never resolved by order.
 *
 * @module
 */

import type { Adapter } from "./_adapter.ts";
import { command } from "./command.ts";
import { core } from "./core.ts";

export type { Adapter, CommandPart, Fragment, PlanInput } from "./_adapter.ts";

/** Every adapter. */
export const ADAPTERS: readonly Adapter[] = [core, command];
