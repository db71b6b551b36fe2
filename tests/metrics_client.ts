/**
 * A minimal metrics client for tests/metrics_test.ts: it reads nothing but
 * the environment the entrypoint's plan produced (STATSD_HOST, STATSD_PORT,
 * OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES)
 * and sends one counter over StatsD/UDP and one over OTLP/HTTP JSON.
 */
import dgram from "node:dgram";

const env = Deno.env.toObject();
const socket = dgram.createSocket("udp4");
await new Promise<void>((resolve, reject) =>
  socket.send(
    "chameleon.test:1|c",
    Number(env.STATSD_PORT),
    env.STATSD_HOST,
    (e) => (e ? reject(e) : resolve()),
  )
);
socket.close();

const attributes = [
  { key: "service.name", value: { stringValue: env.OTEL_SERVICE_NAME } },
  ...(env.OTEL_RESOURCE_ATTRIBUTES ?? "").split(",").filter(Boolean).map((kv) => {
    const [key, ...rest] = kv.split("=");
    return { key, value: { stringValue: decodeURIComponent(rest.join("=")) } };
  }),
];
const body = {
  resourceMetrics: [{
    resource: { attributes },
    scopeMetrics: [{
      scope: { name: "chameleon-test" },
      metrics: [{
        name: "chameleon.test",
        sum: {
          aggregationTemporality: 2,
          isMonotonic: true,
          dataPoints: [{ asInt: "1", timeUnixNano: String(Date.now() * 1e6) }],
        },
      }],
    }],
  }],
};
const r = await fetch(`${env.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/metrics`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});
Deno.exit(r.ok ? 0 : 1);
