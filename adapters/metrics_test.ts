import { deepEqual, equal, ok } from "@std/assert";
import { toImageConfig } from "../config.ts";
import { planFixture, withEnv } from "../tests/helpers.ts";
import type { Plan, Snapshot } from "../types.ts";

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
  // Outside ASCII, every UTF-8 byte (W3C Baggage's baggage-octet is ASCII only).
  const intl = planFixture(
    "kubernetes-unknown/pod",
    (s) => ({ ...s, env: { ...s.env, NODE_NAME: "gpu-nod\u00e9\u00a0%1\ud800" } }),
  );
  const value = intl.env["OTEL_RESOURCE_ATTRIBUTES"]!.split("k8s.node.name=")[1]!.split(",")[0]!;
  equal(value, "gpu-nod%C3%A9%C2%A0%251%EF%BF%BD");
  equal(decodeURIComponent(value), "gpu-nod\u00e9\u00a0%1\ufffd");
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

const AGENT = toImageConfig({ metrics: { nodeAgent: true } });

Deno.test("metrics: a user's OTLP endpoint or protocol keeps the node agent's pair out", () => {
  const endpoint = "http://otel-collector.observability:4317";
  const mine = planFixture(
    "kubernetes-unknown/pod",
    withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }),
    AGENT,
  );
  equal("OTEL_EXPORTER_OTLP_ENDPOINT" in mine.env, false, "the user's endpoint stays as it is");
  equal("OTEL_EXPORTER_OTLP_PROTOCOL" in mine.env, false, "no http/protobuf for a gRPC port");
  equal(mine.env["STATSD_HOST"], "192.168.49.2", "the other agent variables are still filled");
  const grpc = planFixture(
    "kubernetes-unknown/pod",
    withEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }),
    AGENT,
  );
  equal("OTEL_EXPORTER_OTLP_PROTOCOL" in grpc.env, false, "the user's protocol stays as it is");
  equal("OTEL_EXPORTER_OTLP_ENDPOINT" in grpc.env, false, "no gRPC to the agent's HTTP port");
  const config = toImageConfig({
    metrics: { nodeAgent: true },
    env: { fill: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } },
  });
  const image = planFixture("kubernetes-unknown/pod", undefined, config);
  equal(image.env["OTEL_EXPORTER_OTLP_ENDPOINT"], endpoint);
  equal("OTEL_EXPORTER_OTLP_PROTOCOL" in image.env, false, "the config's endpoint counts too");
  // A signal's own variable overrides the generic one for that signal only: our generic pair
  // would give traces sent to their gRPC collector our HTTP protocol (or the reverse).
  for (const signal of ["TRACES", "METRICS", "LOGS"]) {
    for (const [what, value] of [["ENDPOINT", endpoint], ["PROTOCOL", "grpc"]]) {
      const name = `OTEL_EXPORTER_OTLP_${signal}_${what}`;
      const p = planFixture("kubernetes-unknown/pod", withEnv({ [name]: value! }), AGENT);
      equal("OTEL_EXPORTER_OTLP_ENDPOINT" in p.env, false, `${name}: no generic endpoint`);
      equal("OTEL_EXPORTER_OTLP_PROTOCOL" in p.env, false, `${name}: no generic protocol`);
    }
  }
});

Deno.test("metrics: StatsD's host and port are filled as a pair; the image config's StatsD or Datadog variables are kept", () => {
  const statsd = (p: Plan) => [p.env["STATSD_HOST"], p.env["STATSD_PORT"], p.env["DD_AGENT_HOST"]];
  deepEqual(statsd(planFixture("kubernetes-unknown/pod", undefined, AGENT)), [
    "192.168.49.2",
    "8125",
    "192.168.49.2",
  ]);
  // The user's StatsD server: the agent's port would send its metrics nowhere.
  for (const given of [{ STATSD_HOST: "statsd.monitoring" }, { STATSD_PORT: "9125" }]) {
    const p = planFixture("kubernetes-unknown/pod", withEnv(given), AGENT);
    deepEqual(statsd(p), [undefined, undefined, "192.168.49.2"], JSON.stringify(given));
  }
  // The image config's env gives them: kept, not a conflict between two adapters (exit 78).
  const config = toImageConfig({
    metrics: { nodeAgent: true },
    env: { set: { DD_AGENT_HOST: "datadog.svc" }, fill: { STATSD_PORT: "9125" } },
  });
  deepEqual(statsd(planFixture("kubernetes-unknown/pod", undefined, config)), [
    undefined,
    "9125",
    "datadog.svc",
  ]);
});

Deno.test("metrics: Datadog's clients get the node agent's host and its DogStatsD port, unless they are told another", () => {
  const dd = (p: Plan) => [p.env["DD_AGENT_HOST"], p.env["DD_DOGSTATSD_PORT"]];
  deepEqual(dd(planFixture("kubernetes-unknown/pod", undefined, AGENT)), ["192.168.49.2", "8125"]);
  const port = toImageConfig({ metrics: { nodeAgent: true, statsdPort: 9125 } });
  deepEqual(dd(planFixture("kubernetes-unknown/pod", undefined, port)), ["192.168.49.2", "9125"]);
  // Another agent: its port is not ours to say.
  const agent = planFixture("kubernetes-unknown/pod", withEnv({ DD_AGENT_HOST: "dd.svc" }), port);
  deepEqual(dd(agent), [undefined, undefined]);
  // DogStatsD's own port or URL is kept; the agent's host is still the node's.
  for (
    const given of [
      { DD_DOGSTATSD_PORT: "8135" },
      { DD_DOGSTATSD_URL: "udp://dd:8125" },
      { DD_DOGSTATSD_HOST: "dogstatsd.monitoring" },
    ]
  ) {
    const p = planFixture("kubernetes-unknown/pod", withEnv(given), port);
    deepEqual(dd(p), ["192.168.49.2", undefined], JSON.stringify(given));
  }
});

Deno.test("metrics: a HOST_IP that is no address fills no endpoint and warns; a list gives its first address", () => {
  const bad6 = ["1:2:3:4:5:6:7", "1::2::3", "12345::1", ":1", "1:2:3:4:5:6:7:8:9", "::1.2.3.256"];
  for (const bad of ["not an ip", "10.0.0.256", "fd00::5%eth0", "node-1", ...bad6]) {
    const p = planFixture("kubernetes-unknown/pod", withEnv({ HOST_IP: bad }), AGENT);
    for (const n of ["OTEL_EXPORTER_OTLP_ENDPOINT", "STATSD_HOST", "DD_AGENT_HOST"]) {
      equal(n in p.env, false, `${n} with HOST_IP ${bad}`);
    }
    ok(
      p.warnings.some((w) => w.startsWith(`Variable HOST_IP ${JSON.stringify(bad)}: expected`)),
      p.warnings.join("\n"),
    );
  }
  const dual = planFixture(
    "kubernetes-unknown/pod",
    withEnv({ HOST_IP: "192.168.49.2,fd00::5" }),
    AGENT,
  );
  equal(dual.env["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://192.168.49.2:4318");
  for (
    const good of [
      "::",
      "::1",
      "fd00::5",
      "1:2:3:4:5:6:7:8",
      "::ffff:10.0.0.1",
      "1:2:3:4:5:6:1.2.3.4",
    ]
  ) {
    const p = planFixture("kubernetes-unknown/pod", withEnv({ HOST_IP: good }), AGENT);
    equal(p.env["OTEL_EXPORTER_OTLP_ENDPOINT"], `http://[${good}]:4318`, good);
  }
  equal(dual.env["STATSD_HOST"], "192.168.49.2");
  equal(dual.env["DD_AGENT_HOST"], "192.168.49.2");
  const six = planFixture(
    "kubernetes-unknown/pod",
    withEnv({ HOST_IP: "fd00::5,10.0.0.9" }),
    AGENT,
  );
  equal(six.env["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://[fd00::5]:4318");
  equal(six.env["STATSD_HOST"], "fd00::5");
  equal(six.warnings.length, 0);
});

Deno.test("metrics: a service name the config env gives is not overridden by a filled OTEL_SERVICE_NAME", () => {
  const attrs = toImageConfig({
    env: { set: { OTEL_RESOURCE_ATTRIBUTES: "service.name=trainer" } },
  });
  const p = planFixture("local-unknown/docker", undefined, attrs);
  equal(p.env["OTEL_RESOURCE_ATTRIBUTES"], "service.name=trainer");
  equal("OTEL_SERVICE_NAME" in p.env, false);
  const name = toImageConfig({ env: { fill: { OTEL_SERVICE_NAME: "trainer" } } });
  equal(
    planFixture("sagemaker-training/multi-host", undefined, name).env["OTEL_SERVICE_NAME"],
    "trainer",
  );
});

Deno.test("metrics: AWS Batch on EKS reports cloud.platform aws_eks, on ECS aws_ecs", () => {
  ok(
    planFixture("aws-batch-unknown/on-eks").env["OTEL_RESOURCE_ATTRIBUTES"]?.includes(
      "cloud.platform=aws_eks,",
    ),
  );
  ok(
    planFixture("aws-batch-unknown/on-ecs").env["OTEL_RESOURCE_ATTRIBUTES"]?.includes(
      "cloud.platform=aws_ecs,",
    ),
  );
});

Deno.test("metrics: k8s.pod.name is never a host name that is not the pod's", () => {
  const attrs = (id: string, change?: Parameters<typeof planFixture>[1]) =>
    planFixture(id, change).env["OTEL_RESOURCE_ATTRIBUTES"] ?? "";
  // An Indexed Job pod's host name is <job>-<index>, not its name.
  const indexed = (env: Record<string, string>) => (s: Snapshot): Snapshot => {
    const { POD_NAME: _, ...rest } = s.env;
    return { ...s, hostname: "shard-3", env: { ...rest, ...env } };
  };
  equal(attrs("kubernetes-processing/indexed-job", indexed({})).includes("k8s.pod.name"), false);
  ok(
    attrs("kubernetes-processing/indexed-job", indexed({ POD_NAME: "shard-3-x8k2l" }))
      .includes("k8s.pod.name=shard-3-x8k2l"),
  );
  equal(attrs("kubernetes-training/trainer-v2").includes("k8s.pod.name"), false, "JobSet pod");
  // Batch on EKS runs pods on the node's network: the host name is the node's.
  equal(attrs("aws-batch-unknown/on-eks").includes("k8s.pod.name"), false);
  // Elsewhere Kubernetes names the host after the pod.
  ok(attrs("kubernetes-training/pytorchjob").includes("k8s.pod.name=bert-ft-master-0"));
});

Deno.test("metrics: AWS Batch on EKS is told by the pod's KUBERNETES_SERVICE_HOST too, and gets the pod's attributes", () => {
  const attrs = (change?: Parameters<typeof planFixture>[1]) =>
    planFixture("aws-batch-unknown/on-eks", change).env["OTEL_RESOURCE_ATTRIBUTES"] ?? "";
  const noNodeUid = (s: Snapshot): Snapshot => {
    const { AWS_BATCH_JOB_KUBERNETES_NODE_UID: _, ...env } = s.env;
    return { ...s, env };
  };
  ok(attrs(noNodeUid).includes("cloud.platform=aws_eks,"), attrs(noNodeUid));
  // Not the kubernetes platform, but a pod all the same: its namespace is reported.
  ok(attrs().includes("k8s.namespace.name=batch-jobs"), attrs());
});

Deno.test("metrics: Vertex AI's region comes from CLOUD_ML_REGION", () => {
  const p = planFixture(
    "vertex-ai-training/custom-job",
    withEnv({ CLOUD_ML_REGION: "us-central1" }),
  );
  ok(p.env["OTEL_RESOURCE_ATTRIBUTES"]?.includes("cloud.region=us-central1"));
});

Deno.test("metrics: a SageMaker Studio space is an app, not a job", () => {
  const attrs = planFixture("sagemaker-notebook/jupyterlab").env["OTEL_RESOURCE_ATTRIBUTES"] ?? "";
  ok(attrs.includes("aws.sagemaker.app.name=my-space"), attrs);
  equal(attrs.includes("aws.sagemaker.job.name"), false, attrs);
});

Deno.test("metrics: a key the user gave with blanks around it is still theirs", () => {
  const p = planFixture(
    "kubernetes-unknown/pod",
    withEnv({ OTEL_RESOURCE_ATTRIBUTES: "team=ml, k8s.pod.name = mine" }),
  );
  equal(
    p.env["OTEL_RESOURCE_ATTRIBUTES"],
    "team=ml, k8s.pod.name = mine,k8s.namespace.name=ml-serving,k8s.node.name=worker-3",
  );
});

Deno.test("metrics: an empty namespace file gives no empty attribute", () => {
  const p = planFixture("kubernetes-unknown/pod", (s) => {
    const { POD_NAMESPACE: _, ...env } = s.env;
    return {
      ...s,
      env,
      files: { ...s.files, "/var/run/secrets/kubernetes.io/serviceaccount/namespace": "\n" },
    };
  });
  const attrs = p.env["OTEL_RESOURCE_ATTRIBUTES"] ?? "";
  equal(attrs.includes("k8s.namespace.name"), false, attrs);
  ok(attrs.includes("k8s.node.name=worker-3"), attrs);
});

Deno.test("metrics: the node agent is a Kubernetes node's: a HOST_IP elsewhere fills no endpoint", () => {
  const p = planFixture("local-unknown/docker", withEnv({ HOST_IP: "10.0.0.9" }), AGENT);
  for (const n of ["OTEL_EXPORTER_OTLP_ENDPOINT", "STATSD_HOST", "DD_AGENT_HOST"]) {
    equal(n in p.env, false, n);
  }
});

Deno.test("metrics: an IPv6 HOST_IP with eight groups and `::` is no address", () => {
  for (const bad of ["1:2:3:4:5:6:7::8", "::1:2:3:4:5:6:7:8"]) {
    const p = planFixture("kubernetes-unknown/pod", withEnv({ HOST_IP: bad }), AGENT);
    equal("STATSD_HOST" in p.env, false, bad);
    ok(p.warnings.some((w) => w.startsWith(`Variable HOST_IP ${JSON.stringify(bad)}`)), bad);
  }
});

Deno.test("metrics: the items of a HOST_IP list are read without the blanks around them", () => {
  const p = planFixture(
    "kubernetes-unknown/pod",
    withEnv({ HOST_IP: "10.1.2.3 ,fd00::1" }),
    AGENT,
  );
  equal(p.env["STATSD_HOST"], "10.1.2.3");
  equal(p.env["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://10.1.2.3:4318");
});

Deno.test("metrics: each cloud platform's provider, platform and job attributes", () => {
  const attrs = (id: string) => planFixture(id).env["OTEL_RESOURCE_ATTRIBUTES"];
  equal(
    attrs("ecs-unknown/fargate"),
    "cloud.provider=aws,cloud.platform=aws_ecs,cloud.region=eu-west-1",
  );
  equal(
    attrs("aws-batch-unknown/on-ecs"),
    "cloud.provider=aws,cloud.platform=aws_ecs,cloud.region=us-west-2," +
      "aws.batch.job.id=8d4b6c5e-0f5a-4c36-9f7e-2f1d1b7c9a10",
  );
  equal(
    attrs("vertex-ai-training/custom-job"),
    "cloud.provider=gcp,cloud.platform=gcp_vertex_ai," +
      "k8s.pod.name=cmle-training-workerpool0-ab12cd34ef-0,gcp.vertex_ai.job.id=1234567890123456789",
  );
  equal(attrs("azure-ml-unknown/command-job"), "cloud.provider=azure,cloud.platform=azure_ml");
  // Colab has no cloud.platform value: its one attribute is appended all the same.
  equal(attrs("colab-notebook/colab"), "cloud.provider=gcp");
});

Deno.test("metrics: a Knative revision is the service.version", () => {
  const attrs = planFixture("kubernetes-serving/knative").env["OTEL_RESOURCE_ATTRIBUTES"] ?? "";
  ok(attrs.endsWith(",service.version=scorer-00003"), attrs);
});

Deno.test("metrics: AWS Batch on EKS is told by the node UID alone too", () => {
  const p = planFixture("aws-batch-unknown/on-eks", (s) => {
    const { KUBERNETES_SERVICE_HOST: _, ...env } = s.env;
    return { ...s, env };
  });
  ok(p.env["OTEL_RESOURCE_ATTRIBUTES"]?.includes("cloud.platform=aws_eks,"));
});

Deno.test("metrics: a context forced to Kubernetes gets the pod's attributes without KUBERNETES_SERVICE_HOST", () => {
  const p = planFixture(
    "local-unknown/docker",
    withEnv({ CHAMELEON_CONTEXT: "kubernetes-unknown", NODE_NAME: "worker-7" }),
  );
  ok(p.env["OTEL_RESOURCE_ATTRIBUTES"]?.endsWith(",k8s.node.name=worker-7"));
});

Deno.test("metrics: the HOST_IP warning says what the value must be", () => {
  const p = planFixture("kubernetes-unknown/pod", withEnv({ HOST_IP: "node-1" }), AGENT);
  deepEqual(p.warnings, [
    'Variable HOST_IP "node-1": expected an IPv4 or IPv6 address, or a comma-separated list ' +
    "(status.hostIPs); no node agent endpoint filled",
  ]);
});

Deno.test("metrics: every lone surrogate, the last one included, is percent-encoded as U+FFFD", () => {
  const p = planFixture("kubernetes-unknown/pod", withEnv({ NODE_NAME: "n\udfffx" }));
  ok(p.env["OTEL_RESOURCE_ATTRIBUTES"]?.endsWith(",k8s.node.name=n%EF%BF%BDx"));
});

Deno.test("metrics: a STATSD_PORT that is a Service's link variable is no StatsD the user chose", () => {
  // A namespace with a Service named statsd (a StatsD exporter at 10.96.7.1): the kubelet gives
  // the pod its link variables. The node agent's pair is filled over them.
  const links = withEnv({
    STATSD_SERVICE_HOST: "10.96.7.1",
    STATSD_SERVICE_PORT: "9125",
    STATSD_SERVICE_PORT_STATSD_UDP: "9125",
    STATSD_PORT: "udp://10.96.7.1:9125",
    STATSD_PORT_9125_UDP: "udp://10.96.7.1:9125",
    STATSD_PORT_9125_UDP_PROTO: "udp",
    STATSD_PORT_9125_UDP_PORT: "9125",
    STATSD_PORT_9125_UDP_ADDR: "10.96.7.1",
  });
  const p = planFixture("kubernetes-unknown/pod", links, AGENT);
  deepEqual([p.env["STATSD_HOST"], p.env["STATSD_PORT"]], ["192.168.49.2", "8125"]);
  ok(
    p.warnings.some((w) => w.startsWith('STATSD_PORT "udp://10.96.7.1:9125" is the link variable')),
    p.warnings.join("\n"),
  );
  // Without the node agent nothing is filled, and the link variable is left to the program.
  equal("STATSD_PORT" in planFixture("kubernetes-unknown/pod", links).env, false);
});
