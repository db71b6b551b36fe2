import { equal, ok } from "@std/assert";
import { toImageConfig } from "../config.ts";
import { planFixture, withEnv } from "../tests/helpers.ts";

Deno.test("metrics: SageMaker training gets cloud and job attributes and a service name", () => {
  const p = planFixture("sagemaker-training/multi-host");
  equal(
    p.env["OTEL_RESOURCE_ATTRIBUTES"],
    "cloud.provider=aws,cloud.platform=aws_sagemaker,cloud.region=us-east-1,aws.sagemaker.job.name=pytorch-train-2025-11-20-10-00-00-123",
  );
  equal(p.env["OTEL_SERVICE_NAME"], "pytorch-train-2025-11-20-10-00-00-123");
});

Deno.test("metrics: appends only keys the user did not give, after theirs; keeps their service name", () => {
  const p = planFixture("kubernetes-unknown/pod", (s) => ({
    ...s,
    env: { ...s.env, OTEL_RESOURCE_ATTRIBUTES: "k8s.pod.name=mine,team=ml" },
  }));
  equal(
    p.env["OTEL_RESOURCE_ATTRIBUTES"],
    "k8s.pod.name=mine,team=ml,k8s.namespace.name=ml-serving,k8s.node.name=worker-3",
  );
  equal("OTEL_SERVICE_NAME" in p.env, false, "the fixture sets OTEL_SERVICE_NAME itself");
});

Deno.test("metrics: attribute values with separators are percent-encoded", () => {
  const p = planFixture(
    "kubernetes-unknown/pod",
    (s) => ({ ...s, env: { ...s.env, NODE_NAME: "a,b=c d" } }),
  );
  equal(p.env["OTEL_RESOURCE_ATTRIBUTES"]?.endsWith("k8s.node.name=a%2Cb%3Dc%20d"), true);
});

Deno.test("metrics: no OTEL_SERVICE_NAME over a service.name the user gave in the attributes", () => {
  const p = planFixture(
    "sagemaker-training/multi-host",
    withEnv({ OTEL_RESOURCE_ATTRIBUTES: "service.name=trainer" }),
  );
  equal("OTEL_SERVICE_NAME" in p.env, false);
  ok(p.env["OTEL_RESOURCE_ATTRIBUTES"]?.startsWith("service.name=trainer,"));
});

Deno.test("metrics: a node agent's OTLP endpoint says its protocol, and brackets an IPv6 host", () => {
  const agent = toImageConfig({ metrics: { nodeAgent: true } });
  const p = planFixture("kubernetes-unknown/pod", withEnv({ HOST_IP: "fd00::5" }), agent);
  equal(p.env["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://[fd00::5]:4318");
  equal(p.env["OTEL_EXPORTER_OTLP_PROTOCOL"], "http/protobuf");
  const grpc = toImageConfig({ metrics: { nodeAgent: true, otlpPort: 4317 } });
  equal(
    planFixture("kubernetes-unknown/pod", undefined, grpc).env["OTEL_EXPORTER_OTLP_PROTOCOL"],
    "grpc",
  );
});
