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

Deno.test("kubernetes: a signal of a rule that a higher rule outranked is still shown as evidence", () => {
  const d = detect(
    new World(snap({
      env: { KUBERNETES_SERVICE_HOST: "10.96.0.1", K_SERVICE: "iris", TF_CONFIG: "{}" },
    })),
  );
  deepEqual([d.context.id, d.context.variant], ["kubernetes-serving", "knative"]);
  const k8s = d.detectors.find((r) => r.platform === "kubernetes")!;
  deepEqual(
    k8s.evidence.filter((e) => e.signal === "env TF_CONFIG" || e.signal === "env NB_PREFIX")
      .map((e) => [e.signal, e.found]),
    [["env TF_CONFIG", true], ["env NB_PREFIX", false]],
  );
});
