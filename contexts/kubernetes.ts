/**
 * Kubernetes pods: Knative/KServe serving, Kubeflow training (PyTorchJob v1,
 * Trainer v2, TFJob), Kubeflow and JupyterHub notebooks, Indexed Jobs, plain
 * pods. Source: reference/platforms.md sections A.1 to A.5 and design section 2 row 8.
 *
 * @module
 */

import { all, always, any, env, path, type PlatformTable, type Signal } from "./_signals.ts";

/** The service-account folder mounted into pods. */
export const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

const knative = any(env("K_SERVICE"), env("K_REVISION"), env("K_CONFIGURATION"));
const kserveModel = any(env("STORAGE_URI"), path("/mnt/models"));

/** PET_NNODES of an elastic PyTorchJob: `min:max` (Trainer v2 gives a count). */
const elasticNnodes = env("PET_NNODES", {
  form: { pattern: /^\d+:\d+$/, label: "min:max (elastic)" },
});

/**
 * A replica count beside the rendezvous an elastic PyTorchJob's pods meet at:
 * only an elastic policy gives PET_RDZV_* (training-operator's elastic.go).
 */
const countAtRendezvous = all(
  env("PET_NNODES"),
  any(env("PET_RDZV_ENDPOINT"), env("PET_RDZV_BACKEND")),
);

/**
 * An elastic PyTorchJob, whose node count and ranks the rendezvous decides:
 * the two rules below that detect one. The distributed adapter asks the same.
 */
export const ELASTIC_PYTORCHJOB: Signal = any(elasticNnodes, countAtRendezvous);

/** Signals of Kubernetes. */
export const kubernetes: PlatformTable = {
  platform: "kubernetes",
  source: "reference/platforms.md section A, design section 2",
  match: [env("KUBERNETES_SERVICE_HOST")],
  workloads: [
    // KServe in serverless mode runs on Knative and mounts the model.
    { workload: "serving", variant: "kserve-serverless", when: all(knative, kserveModel) },
    { workload: "serving", variant: "knative", when: knative },
    // KServe raw deployments have no K_* variables: the storage URI plus the mount tell.
    {
      workload: "serving",
      variant: "kserve-raw",
      when: all(env("STORAGE_URI"), path("/mnt/models")),
    },
    // PyTorchJob v1 sets MASTER_ADDR and RANK; Trainer v2 only PET_* (with the
    // node rank from JOB_COMPLETION_INDEX), so v1 is checked first.
    { workload: "training", variant: "pytorchjob", when: all(env("MASTER_ADDR"), env("RANK")) },
    // An elastic PyTorchJob of workers only has no MASTER_ADDR or RANK (the
    // operator sets them with a Master replica); its PET_NNODES is min:max,
    // where Trainer v2 gives a count.
    { workload: "training", variant: "pytorchjob", when: elasticNnodes },
    // A TrainJob's pods are an Indexed Job's: the node rank comes from the completion index.
    {
      workload: "training",
      variant: "trainer-v2",
      when: all(env("PET_NNODES"), any(env("JOB_COMPLETION_INDEX"), env("PET_NODE_RANK"))),
    },
    // Without min and max replicas the operator writes the replica count, but an elastic job
    // still meets at a rendezvous, and its workers have no rank before it.
    { workload: "training", variant: "pytorchjob", when: countAtRendezvous },
    { workload: "training", variant: "trainer-v2", when: env("PET_NNODES") },
    { workload: "training", variant: "tfjob", when: env("TF_CONFIG") },
    // JupyterHub before Kubeflow: the hub sets JUPYTERHUB_API_URL at each spawn, while
    // NB_PREFIX may be an image's own (Kubeflow's custom-image guide has images set
    // `ENV NB_PREFIX /`; its controller writes /notebook/<ns>/<name> over it). A hub pod of
    // such an image is served under JUPYTERHUB_SERVICE_PREFIX (design section 2).
    { workload: "notebook", variant: "jupyterhub", when: env("JUPYTERHUB_API_URL") },
    { workload: "notebook", variant: "kubeflow-notebook", when: env("NB_PREFIX") },
    // Any of the above also may carry JOB_COMPLETION_INDEX; alone it is an Indexed Job.
    { workload: "processing", variant: "indexed-job", when: env("JOB_COMPLETION_INDEX") },
    { workload: "unknown", variant: "pod", when: always },
  ],
  evidence: [
    path(`${SA_DIR}/namespace`),
    path(`${SA_DIR}/token`),
    path(`${SA_DIR}/service-ca.crt`),
    env("POD_NAME"),
    env("POD_NAMESPACE"),
    env("POD_IP"),
    env("HOST_IP"),
    env("PORT"),
    env("WORLD_SIZE"),
    env("PET_NODE_RANK"),
  ],
};
