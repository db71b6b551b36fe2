/**
 * Any machine or container with no platform signal: a laptop `docker run`,
 * podman, bare metal, or a container started on a SageMaker notebook instance
 * (whose metadata file has no AppType). Source: design section 2.
 *
 * @module
 */

import { always, path, type PlatformTable } from "./_signals.ts";

/** The fallback platform. */
export const local: PlatformTable = {
  platform: "local",
  source: "design section 2",
  match: [always],
  workloads: [],
  evidence: [path("/.dockerenv"), path("/run/.containerenv")],
};
