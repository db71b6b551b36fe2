import { deepEqual } from "@std/assert";
import { snap } from "../tests/helpers.ts";
import { World } from "../world.ts";
import { detect } from "./mod.ts";

const pod = (env: Record<string, string>) =>
  detect(new World(snap({ env: { KUBERNETES_SERVICE_HOST: "10.96.0.1", ...env } }))).context;

Deno.test("kubernetes: each Knative variable alone says serving (K_SERVICE is set only for a Service's revisions)", () => {
  for (const name of ["K_SERVICE", "K_REVISION", "K_CONFIGURATION"]) {
    const c = pod({ [name]: "iris-predictor" });
    deepEqual([c.id, c.variant], ["kubernetes-serving", "knative"], name);
  }
});
