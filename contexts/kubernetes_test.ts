import { deepEqual, equal } from "@std/assert";
import { planOf, snap } from "../tests/helpers.ts";
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

Deno.test("kubernetes: KServe serverless is Knative with either the storage URI or the model mount", () => {
  const knative = { K_SERVICE: "iris-predictor" };
  deepEqual(
    [pod({ ...knative, STORAGE_URI: "s3://m" }).variant, pod(knative).variant],
    ["kserve-serverless", "knative"],
  );
  const mounted = detect(
    new World(snap({ env: { KUBERNETES_SERVICE_HOST: "h", ...knative }, dirs: ["/mnt/models"] })),
  ).context;
  deepEqual([mounted.id, mounted.variant], ["kubernetes-serving", "kserve-serverless"]);
});

Deno.test("kubernetes: RANK without MASTER_ADDR is no PyTorchJob", () => {
  equal(pod({ RANK: "0" }).id, "kubernetes-unknown");
});

Deno.test("kubernetes: PET_NNODES alone is training; its form and the rendezvous tell PyTorchJob from Trainer v2", () => {
  const cases: [Record<string, string>, string][] = [
    // Trainer v2 gives a node count; design section 2: PET_NNODES says training.
    [{ PET_NNODES: "2" }, "trainer-v2"],
    // An elastic PyTorchJob's min:max, without rendezvous variables or a rank.
    [{ PET_NNODES: "1:3" }, "pytorchjob"],
    [{ PET_NNODES: "1:3", PET_NODE_RANK: "0" }, "pytorchjob"],
    // A replica count beside either rendezvous variable.
    [{ PET_NNODES: "3", PET_RDZV_BACKEND: "c10d" }, "pytorchjob"],
    // A TrainJob's pods are an Indexed Job's: the completion index outranks the rendezvous.
    [{ PET_NNODES: "2", JOB_COMPLETION_INDEX: "1", PET_RDZV_ENDPOINT: "t-0:29400" }, "trainer-v2"],
  ];
  for (const [env, variant] of cases) {
    const c = pod(env);
    deepEqual([c.id, c.variant], ["kubernetes-training", variant], JSON.stringify(env));
  }
});

Deno.test("kubernetes: JOB_COMPLETION_INDEX is processing only alone, not beside another workload's signal", () => {
  const index = { JOB_COMPLETION_INDEX: "3" };
  deepEqual(
    [pod(index).id, pod({ ...index, TF_CONFIG: "{}" }).id, pod({ ...index, NB_PREFIX: "/n" }).id],
    ["kubernetes-processing", "kubernetes-training", "kubernetes-notebook"],
  );
});

Deno.test("kubernetes: a JupyterHub pod stays one when its image bakes Kubeflow's NB_PREFIX=/", () => {
  // Kubeflow's guide for custom notebook images has them set `ENV NB_PREFIX /`; its controller
  // writes /notebook/<namespace>/<name> over it, JupyterHub does not touch it. JUPYTERHUB_API_URL
  // is set by the hub at each spawn, never by an image.
  const hub = {
    NB_PREFIX: "/",
    JUPYTERHUB_API_URL: "http://hub:8081/hub/api",
    JUPYTERHUB_SERVICE_PREFIX: "/user/alice/",
  };
  deepEqual([pod(hub).id, pod(hub).variant], ["kubernetes-notebook", "jupyterhub"]);
  // The notebook is served under the hub's prefix, not under the image's "/".
  const plan = planOf(
    new World(snap({ env: { KUBERNETES_SERVICE_HOST: "10.96.0.1", ...hub }, argv: ["notebook"] })),
  );
  equal(plan.env.ML_BASE_URL, "/user/alice/");
  // A Kubeflow notebook (the controller's NB_PREFIX, no hub variables) is still Kubeflow's.
  deepEqual(
    [
      pod({ NB_PREFIX: "/notebook/ns/nb" }).variant,
      pod({ JUPYTERHUB_API_URL: "http://h" }).variant,
    ],
    ["kubeflow-notebook", "jupyterhub"],
  );
});
