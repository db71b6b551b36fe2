/**
 * The SageMaker training snapshots plan() is measured on: the multi-host
 * fixture with `hosts` hosts and `hps` hyperparameters. Shared by the
 * `deno bench` file and the in-process median.
 */
import { InputError } from "../errors.ts";
import { MAX_VALUE_BYTES } from "../plan.ts";
import { fixture } from "../tests/helpers.ts";
import type { Snapshot } from "../types.ts";

/** Long hyperparameters (`p1234: "v1234"`), or short ones (`0a1: "v"`) whose SM_USER_ARGS fits execve at 10,000. */
export function sagemakerSnapshot(hosts: number, hps: number, short = false): Snapshot {
  const base = fixture("sagemaker-training/multi-host");
  const names = Array.from({ length: hosts }, (_, i) => `algo-${i + 1}`);
  const rc = {
    current_host: names[hosts - 1],
    current_instance_type: "ml.p4d.24xlarge",
    current_group_name: "homogeneousCluster",
    hosts: names,
    instance_groups: [{
      instance_group_name: "homogeneousCluster",
      instance_type: "ml.p4d.24xlarge",
      hosts: names,
    }],
    network_interface_name: "eth0",
  };
  const hp: Record<string, string> = { sagemaker_program: '"train.py"' };
  for (let i = 0; i < hps; i++) {
    if (short) {
      hp[i.toString(36).padStart(3, "0")] = i % 3 === 0 ? "1.5" : i % 3 === 1 ? '"v"' : "7";
    } else hp[`p${i}`] = i % 3 === 0 ? `${i}.5` : i % 3 === 1 ? `"v${i}"` : `${i}`;
  }
  return {
    ...base,
    files: {
      ...base.files,
      "/opt/ml/input/config/resourceconfig.json": JSON.stringify(rc),
      "/opt/ml/input/config/hyperparameters.json": JSON.stringify(hp),
    },
  };
}

/** What tells the exit 78 of an oversized variable apart: a checkout's own error class and limit. */
export interface TooLarge {
  readonly InputError: abstract new (...args: never[]) => Error;
  readonly MAX_VALUE_BYTES: number;
}

/**
 * Whether `e` is the exit 78 that ends a plan whose SM_USER_ARGS outgrows
 * execve. Another checkout's plan() throws its own InputError class, so
 * `--against` passes that checkout's modules.
 */
export function isTooLarge(e: unknown, of: TooLarge = { InputError, MAX_VALUE_BYTES }): boolean {
  return e instanceof of.InputError &&
    e.message.includes(`larger than the ${of.MAX_VALUE_BYTES} bytes`);
}
