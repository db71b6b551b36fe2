/**
 * Google Colab custom runtimes. No official contract; community signals.
 * Source: reference/platforms.md section B.9.
 *
 * @module
 */

import { always, env, path, type PlatformTable } from "./_signals.ts";

/** Signals of Colab. */
export const colab: PlatformTable = {
  platform: "colab",
  source: "reference/platforms.md section B.9",
  match: [env("COLAB_RELEASE_TAG"), env("COLAB_GPU")],
  workloads: [{ workload: "notebook", variant: "colab", when: always }],
  evidence: [env("COLAB_BACKEND_VERSION"), path("/content")],
};
