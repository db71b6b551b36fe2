import { deepEqual, equal, ok } from "@std/assert";
import { detect } from "../contexts/mod.ts";
import { fixtures, worldOf } from "./helpers.ts";

const all = fixtures();

Deno.test("fixtures cover at least 30 platform × workload cases", () => {
  ok(all.length >= 30, `only ${all.length} fixtures`);
  ok(new Set(all.map((f) => f.contextId)).size >= 20);
});

for (const f of all) {
  Deno.test(`detect() gives ${f.contextId} for fixture ${f.contextId}/${f.name}`, () => {
    const world = worldOf(f.id);
    const d = detect(world);
    equal(d.context.id, f.contextId);
    equal(d.context.source === "forced", false);
    // Every platform is evaluated, in precedence order, for --explain.
    equal(d.detectors.length, 11);
    for (const r of d.detectors) equal(r.error, undefined);
  });
}

const variants: Record<string, string | null> = {
  "aws-batch-training/multi-node-main": "multi-node",
  "aws-batch-processing/array": "array",
  "aws-batch-unknown/on-ecs": "on-ecs",
  "aws-batch-unknown/on-eks": "on-eks",
  "vertex-ai-training/custom-job": "custom-job",
  "vertex-ai-serving/prediction": "prediction",
  "azure-ml-unknown/mpi-job": "mpi-job",
  "slurm-unknown/task": "task",
  "slurm-unknown/interactive": "interactive",
  "sagemaker-training/single-host": "training-job",
  "sagemaker-processing/processing-job": "processing-job",
  "sagemaker-serving/real-time": "real-time",
  "sagemaker-serving/batch-transform": "batch-transform",
  "sagemaker-serving/multi-model": "multi-model",
  "sagemaker-serving/pipeline-member": "pipeline-member",
  "sagemaker-notebook/kernel-gateway": "kernel-gateway",
  "sagemaker-notebook/jupyterlab": "jupyterlab",
  "sagemaker-notebook/code-editor": "code-editor",
  "kubernetes-serving/knative": "knative",
  "kubernetes-serving/kserve-serverless": "kserve-serverless",
  "kubernetes-serving/kserve-raw": "kserve-raw",
  "kubernetes-training/pytorchjob": "pytorchjob",
  "kubernetes-training/trainer-v2": "trainer-v2",
  "kubernetes-training/tfjob": "tfjob",
  "kubernetes-notebook/kubeflow-notebook": "kubeflow-notebook",
  "kubernetes-notebook/jupyterhub": "jupyterhub",
  "kubernetes-processing/indexed-job": "indexed-job",
  "kubernetes-unknown/pod": "pod",
  "ecs-unknown/fargate": "fargate",
  "ecs-unknown/ec2": "ec2",
  "local-unknown/docker": null,
};

Deno.test("detect() names the variant of each workload", () => {
  const got: Record<string, string | null> = {};
  for (const f of all) {
    const id = f.id;
    if (!(id in variants)) continue;
    got[id] = detect(worldOf(f.id)).context.variant;
  }
  deepEqual(got, variants);
});
