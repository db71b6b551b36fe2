/**
 * SageMaker training parity with sagemaker-training-toolkit (filled in by the
 * planning work): script mode.
 *
 * @module
 */

import type { CommandPart, PlanInput } from "./_adapter.ts";

/** Script mode: `python3 <program> <SM_USER_ARGS...>` when a program is named. */
export function scriptModeCommand(
  _input: PlanInput,
  _extra: readonly string[],
): CommandPart | undefined {
  return undefined;
}
