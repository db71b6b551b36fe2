/**
 * Stand-in for a Spark standalone master (tests only): accepts connections on
 * the master port and serves the web UI's JSON status page, listing as ALIVE
 * every worker the stand-in start-worker.sh registered.
 *
 *   deno run --allow-net --allow-read fake_master.ts HOST PORT WEBUI_PORT REGISTRY
 */
const [host, port, webui, registry] = Deno.args;
const rpc = Deno.listen({ hostname: host!, port: Number(port) });
(async () => {
  for await (const conn of rpc) conn.close();
})();
Deno.serve({ hostname: host!, port: Number(webui), onListen: () => {} }, (req) => {
  if (!new URL(req.url).pathname.startsWith("/json")) {
    return new Response("not found", { status: 404 });
  }
  let hosts: string[] = [];
  try {
    hosts = Deno.readTextFileSync(registry!).split("\n").filter(Boolean);
  } catch { /* no worker yet */ }
  const workers = hosts.map((h, i) => ({
    id: `worker-${i}`,
    host: h,
    port: 40000 + i,
    state: "ALIVE",
    cores: 1,
  }));
  return Response.json({
    url: `spark://${host}:${port}`,
    workers,
    aliveworkers: workers.length,
    status: "ALIVE",
  });
});
