/**
 * Telemetry wiring per context (reference/platforms.md section C.9): the OpenTelemetry
 * service name (fill) and resource attributes (append, never a key the user
 * already gave), and, on Kubernetes with a node-local agent at `HOST_IP` (when
 * the config enables it), the OTLP, StatsD and Datadog endpoints (fill).
 *
 * @module
 */

import type { EnvOp, Platform } from "../types.ts";
import type { World } from "../world.ts";
import { type Adapter, append, fill, givenEnv, type PlanInput } from "./_adapter.ts";
import { isIpAddress, POD_NAMESPACE_FILE, podName, podNamespace, urlHost } from "./_files.ts";
import { platformPaths } from "./ml_paths.ts";

const CLOUD: Partial<Record<Platform, { provider: string; platform?: string }>> = {
  // cloud.platform values: semantic conventions where they exist (aws_ecs, aws_eks), else
  // the reference's custom names (aws_sagemaker, gcp_vertex_ai).
  sagemaker: { provider: "aws", platform: "aws_sagemaker" },
  "aws-batch": { provider: "aws", platform: "aws_ecs" },
  ecs: { provider: "aws", platform: "aws_ecs" },
  "vertex-ai": { provider: "gcp", platform: "gcp_vertex_ai" },
  colab: { provider: "gcp" },
  "azure-ml": { provider: "azure", platform: "azure_ml" },
};

/**
 * The cloud.platform value. AWS Batch runs on ECS or on EKS compute environments;
 * a job on EKS is a pod (reference/platforms.md section B.5:
 * `AWS_BATCH_JOB_KUBERNETES_NODE_UID`, and the pod's `KUBERNETES_SERVICE_HOST`).
 */
function cloudPlatform(world: World, platform: Platform): string | undefined {
  const onEks = world.envValue("AWS_BATCH_JOB_KUBERNETES_NODE_UID") !== undefined ||
    world.envValue("KUBERNETES_SERVICE_HOST") !== undefined;
  return platform === "aws-batch" && onEks ? "aws_eks" : CLOUD[platform]?.platform;
}

/**
 * The node's address from `HOST_IP`: one IPv4 or IPv6 address, or the first valid
 * one of a comma-separated list (the downward API's `status.hostIPs`, whose first
 * item is `status.hostIP`, the cluster's primary family; both families work below,
 * IPv6 in brackets in URLs). Undefined when no item is an address: the value must
 * not end up in a URL.
 */
function nodeAddress(value: string): string | undefined {
  return value.split(",").map((s) => s.trim()).find(isIpAddress);
}

/** What `HOST_IP` must hold, as a warning says it. */
const HOST_IP_FORM = "an IPv4 or IPv6 address, or a comma-separated list (status.hostIPs)";

/**
 * Bytes an OTEL_RESOURCE_ATTRIBUTES value keeps as they are: W3C Baggage's
 * baggage-octet (printable ASCII but space, `"`, `,`, `;` and `\`), less `%`
 * (it starts an escape) and `=` (some readers split a member at every one).
 */
const PLAIN_OCTETS = /^[\x21\x23\x24\x26-\x2b\x2d-\x3a\x3c\x3e-\x5b\x5d-\x7e]*$/;

/** An attribute value percent-encoded as the OTel resource SDK spec asks: every other UTF-8 byte. */
function encodeValue(v: string): string {
  if (PLAIN_OCTETS.test(v)) return v;
  let out = "";
  for (const c of v) {
    // A lone surrogate has no UTF-8 form: it goes as U+FFFD, as an encoder writes it.
    const lone = c.length === 1 && c.charCodeAt(0) >= 0xd800 && c.charCodeAt(0) <= 0xdfff;
    out += PLAIN_OCTETS.test(c) ? c : lone ? "%EF%BF%BD" : encodeURIComponent(c);
  }
  return out;
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
      attrs.push(
        ["cloud.provider", cloud.provider],
        ["cloud.platform", cloudPlatform(world, platform)],
        ["cloud.region", givenEnv(input, "AWS_REGION") ?? env("CLOUD_ML_REGION")],
      );
    }
    if (platform === "kubernetes" || env("KUBERNETES_SERVICE_HOST") !== undefined) {
      attrs.push(
        ["k8s.namespace.name", podNamespace(world)],
        ["k8s.pod.name", podName(world, platform)],
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

    // The user's attributes, or the image config's (its env.set/fill): both are given.
    const existing = new Set(
      (givenEnv(input, "OTEL_RESOURCE_ATTRIBUTES") ?? "").split(",")
        .map((kv) => kv.split("=")[0]!.trim())
        .filter(Boolean),
    );
    const items = attrs.filter((a): a is [string, string] =>
      a[1] !== undefined && a[1] !== "" && !existing.has(a[0])
    )
      .map(([k, v]) => `${k}=${encodeValue(v)}`);
    const service = settings.metrics.serviceName ?? env("K_SERVICE") ?? job ?? detection.context.id;
    // OTEL_SERVICE_NAME wins over service.name in the attributes: filling it would override the
    // user's. One the config gives is kept like the user's (a fill next to it would conflict).
    const ops = existing.has("service.name") || givenEnv(input, "OTEL_SERVICE_NAME") !== undefined
      ? []
      : [fill("OTEL_SERVICE_NAME", service)];
    if (items.length > 0) ops.push(append("OTEL_RESOURCE_ATTRIBUTES", items));

    const warnings: string[] = [];
    const hostIp = env("HOST_IP");
    if (settings.metrics.nodeAgent && platform === "kubernetes" && hostIp !== undefined) {
      const address = nodeAddress(hostIp);
      if (address === undefined) {
        const what = `Variable HOST_IP ${JSON.stringify(hostIp)}`;
        warnings.push(`${what}: expected ${HOST_IP_FORM}; no node agent endpoint filled`);
      } else {
        ops.push(
          ...otlpPair(input, address),
          ...statsdPair(input, address),
          ...datadogAgent(input, address),
        );
      }
    }
    return { env: ops, warnings };
  },
};

/** The OTLP exporter variables that say where and how telemetry goes, generic and per signal. */
const OTLP_GIVEN = ["", "TRACES_", "METRICS_", "LOGS_"].flatMap((signal) =>
  ["ENDPOINT", "PROTOCOL"].map((what) => `OTEL_EXPORTER_OTLP_${signal}${what}`)
);

/**
 * The node agent's OTLP endpoint and protocol, filled as a pair or not at all.
 * The protocol describes the endpoint: SDKs differ in their default (Python's is
 * gRPC), so the agent's port says which one it speaks. When the user, the platform
 * or the image config already gives either one, they chose the collector and how
 * to talk to it: an endpoint of theirs with our protocol (or the reverse) would send
 * HTTP to a gRPC port or gRPC to an HTTP one and export nothing. Then neither is
 * filled, and the SDK's own default or their other variable decides, as without us.
 * A signal's own variable (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) counts too: it
 * overrides the generic one for that signal only, and the generic one fills in
 * its other half.
 */
function otlpPair(input: PlanInput, address: string): EnvOp[] {
  if (anyGiven(input, OTLP_GIVEN)) return [];
  const port = input.settings.metrics.otlpPort;
  return [
    fill("OTEL_EXPORTER_OTLP_ENDPOINT", `http://${urlHost(address)}:${port}`),
    fill("OTEL_EXPORTER_OTLP_PROTOCOL", port === 4317 ? "grpc" : "http/protobuf"),
  ];
}

/**
 * The node agent's StatsD host and port, filled as a pair or not at all: a client
 * takes them as one setting (pystatsd's port defaults to 8125), so the user's
 * server with the agent's port, or the agent with their port, would send nowhere.
 * One the image config's env gives counts as given, as the user's.
 */
function statsdPair(input: PlanInput, address: string): EnvOp[] {
  if (anyGiven(input, ["STATSD_HOST", "STATSD_PORT"])) return [];
  return [
    fill("STATSD_HOST", address),
    fill("STATSD_PORT", String(input.settings.metrics.statsdPort)),
  ];
}

/**
 * The node agent for Datadog's clients: its host (traces and DogStatsD), and
 * DogStatsD's port on it, which datadogpy and ddtrace read as `DD_DOGSTATSD_PORT`
 * (default 8125), so that a `metrics.statsdPort` of another port reaches them
 * too. A given `DD_AGENT_HOST` (the image config's env too) is another agent:
 * neither is filled. A given port, `DD_DOGSTATSD_URL` or ddtrace's
 * `DD_DOGSTATSD_HOST` says how to reach DogStatsD: kept, and only the host is filled.
 */
function datadogAgent(input: PlanInput, address: string): EnvOp[] {
  if (anyGiven(input, ["DD_AGENT_HOST"])) return [];
  const host = fill("DD_AGENT_HOST", address);
  if (anyGiven(input, ["DD_DOGSTATSD_PORT", "DD_DOGSTATSD_URL", "DD_DOGSTATSD_HOST"])) {
    return [host];
  }
  return [host, fill("DD_DOGSTATSD_PORT", String(input.settings.metrics.statsdPort))];
}

/** Whether the user, the platform or the image config's env gives any of these variables. */
function anyGiven(input: PlanInput, names: readonly string[]): boolean {
  return names.some((n) => givenEnv(input, n) !== undefined);
}
