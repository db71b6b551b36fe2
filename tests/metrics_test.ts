import { deepEqual, equal, ok } from "@std/assert";
import dgram from "node:dgram";
import { explainJson, ROOT, runEntrypoint, tempDir, waitFor } from "./helpers.ts";

Deno.test("a StatsD and an OTLP/HTTP receiver on loopback get metrics from a client that reads only the planned env", async () => {
  using tmp = tempDir();
  const statsd = dgram.createSocket("udp4");
  const datagrams: string[] = [];
  statsd.on("message", (m) => datagrams.push(new TextDecoder().decode(m)));
  await new Promise<void>((r) => statsd.bind(0, "127.0.0.1", () => r()));
  const statsdPort = statsd.address().port;
  const requests: { path: string; body: unknown }[] = [];
  const otlp = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    requests.push({ path: new URL(req.url).pathname, body: await req.json() });
    return new Response("{}", { headers: { "content-type": "application/json" } });
  });
  try {
    const cfg = `${tmp.path}/c.yaml`;
    Deno.writeTextFileSync(
      cfg,
      `metrics:\n  nodeAgent: true\n  otlpPort: ${otlp.addr.port}\n  statsdPort: ${statsdPort}\n`,
    );
    const r = await runEntrypoint(
      [
        Deno.execPath(),
        "run",
        "--quiet",
        "--allow-env",
        "--allow-net",
        `${ROOT}/tests/metrics_client.ts`,
      ],
      {
        clearEnv: true,
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          HOME: Deno.env.get("HOME") ?? "/root",
          KUBERNETES_SERVICE_HOST: "10.96.0.1",
          HOST_IP: "127.0.0.1",
          POD_NAME: "scorer-7d9f8-x2x9z",
          POD_NAMESPACE: "ml-serving",
          K_SERVICE: "scorer",
          CHAMELEON_CONFIG: cfg,
          CHAMELEON_LOG_LEVEL: "error",
        },
      },
    );
    equal(r.code, 0, r.stderr);
    await waitFor("the StatsD datagram", () => datagrams.length > 0 || undefined, 1000, 20);
    deepEqual(datagrams, ["chameleon.test:1|c"]);
    equal(requests.length, 1);
    equal(requests[0]!.path, "/v1/metrics");
    type Attribute = { key: string; value: { stringValue: string } };
    type Export = { resourceMetrics: { resource: { attributes: Attribute[] } }[] };
    const attrs = Object.fromEntries(
      (requests[0]!.body as Export).resourceMetrics[0]!.resource.attributes.map((
        a,
      ) => [a.key, a.value.stringValue]),
    );
    deepEqual(
      [attrs["service.name"], attrs["k8s.pod.name"], attrs["k8s.namespace.name"]],
      ["scorer", "scorer-7d9f8-x2x9z", "ml-serving"],
    );
    ok(!("cloud.provider" in attrs), "no cloud on a plain cluster");
  } finally {
    statsd.close();
    await otlp.shutdown();
  }
});

Deno.test("without nodeAgent in the config, no endpoint is filled", async () => {
  const env = (await explainJson([], {
    env: { KUBERNETES_SERVICE_HOST: "10.96.0.1", HOST_IP: "10.0.0.9" },
  })).plan.env;
  equal("STATSD_HOST" in env, false);
  equal("OTEL_EXPORTER_OTLP_ENDPOINT" in env, false);
  equal(env.OTEL_SERVICE_NAME, "kubernetes-unknown");
});
