/**
 * Telemetry wiring per context (reference/platforms.md section C.9): the OpenTelemetry
 * service name (fill) and resource attributes (append, never a key the user
 * already gave), and, on Kubernetes with a node-local agent at `HOST_IP` (when
 * the config enables it), the OTLP, StatsD and Datadog endpoints (fill).
 *
 * @module
 */

import type { Platform } from "../types.ts";
import { type Adapter, append, fill } from "./_adapter.ts";
import { POD_NAMESPACE_FILE, podName, podNamespace, urlHost } from "./_files.ts";
import { platformPaths } from "./ml_paths.ts";

const CLOUD: Partial<Record<Platform, { provider: string; platform?: string }>> = {
  // cloud.platform values: semantic conventions where they exist (aws_ecs), else
  // the reference's custom names (aws_sagemaker, gcp_vertex_ai).
  sagemaker: { provider: "aws", platform: "aws_sagemaker" },
  "aws-batch": { provider: "aws", platform: "aws_ecs" },
  ecs: { provider: "aws", platform: "aws_ecs" },
  "vertex-ai": { provider: "gcp", platform: "gcp_vertex_ai" },
  colab: { provider: "gcp" },
  "azure-ml": { provider: "azure", platform: "azure_ml" },
};

/** OTEL_RESOURCE_ATTRIBUTES values are percent-encoded where they would break the list. */
function encodeValue(v: string): string {
  return v.replace(
    /[%,=\s"\\;]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
}

/** The metrics adapter. */
export const metrics: Adapter = {
  name: "metrics",
  paths: [{ kind: "read", path: POD_NAMESPACE_FILE }],
  plan(input) {
    const { world, detection, settings } = input;
    const { platform, workload } = detection.context;
    const env = (n: string) => world.envValue(n);
    const attrs: [string, string | undefined][] = [];
    const cloud = CLOUD[platform];
    if (cloud) {
      attrs.push(["cloud.provider", cloud.provider], ["cloud.platform", cloud.platform]);
      attrs.push(["cloud.region", env("AWS_REGION") ?? env("CLOUD_ML_REGION")]);
    }
    if (platform === "kubernetes" || env("KUBERNETES_SERVICE_HOST") !== undefined) {
      attrs.push(
        ["k8s.namespace.name", podNamespace(world)],
        ["k8s.pod.name", podName(world)],
        ["k8s.node.name", env("NODE_NAME")],
      );
      attrs.push(["service.version", env("K_REVISION")]);
    }
    // The job's name or id, as the paths adapter found it for this platform.
    const job = platformPaths(input).jobName;
    const jobAttr = platform === "sagemaker"
      ? workload === "notebook" ? "aws.sagemaker.app.name" : "aws.sagemaker.job.name"
      : platform === "aws-batch"
      ? "aws.batch.job.id"
      : platform === "vertex-ai"
      ? "gcp.vertex_ai.job.id"
      : undefined;
    if (jobAttr !== undefined) attrs.push([jobAttr, job]);

    const existing = new Set(
      (world.env("OTEL_RESOURCE_ATTRIBUTES") ?? "").split(",").map((kv) => kv.split("=")[0]!.trim())
        .filter(Boolean),
    );
    const items = attrs.filter((a): a is [string, string] =>
      a[1] !== undefined && a[1] !== "" && !existing.has(a[0])
    )
      .map(([k, v]) => `${k}=${encodeValue(v)}`);
    const service = settings.metrics.serviceName ?? env("K_SERVICE") ?? job ?? detection.context.id;
    // OTEL_SERVICE_NAME wins over service.name in the attributes: filling it would override the user's.
    const ops = existing.has("service.name") ? [] : [fill("OTEL_SERVICE_NAME", service)];
    if (items.length > 0) ops.push(append("OTEL_RESOURCE_ATTRIBUTES", items));

    const hostIp = env("HOST_IP");
    if (settings.metrics.nodeAgent && platform === "kubernetes" && hostIp !== undefined) {
      const port = settings.metrics.otlpPort;
      ops.push(
        fill("OTEL_EXPORTER_OTLP_ENDPOINT", `http://${urlHost(hostIp)}:${port}`),
        // SDKs differ in their default protocol (Python's is gRPC): say which one the port speaks.
        fill("OTEL_EXPORTER_OTLP_PROTOCOL", port === 4317 ? "grpc" : "http/protobuf"),
        fill("STATSD_HOST", hostIp),
        fill("STATSD_PORT", String(settings.metrics.statsdPort)),
        fill("DD_AGENT_HOST", hostIp),
      );
    }
    return { env: ops };
  },
};
