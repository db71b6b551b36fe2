/**
 * Running benchmarks, side by side in one run:
 * - start to exec of `true` in three contexts, next to `bash -c 'exec true'`,
 *   `tini -- true` and the Deno hello-world floor;
 * - signal forwarding latency (SIGUSR1 to the supervisor until the child's
 *   handler has written a byte back), median and p99 over 100 trials, next to
 *   tini forwarding the same signal;
 * - resident memory (VmRSS) of a supervising entrypoint.
 *
 *   deno run -A bench/running.ts [--runs 40] [--write]
 */
import { readBounded } from "../sys/fs.ts";
import { ROOT } from "../tests/helpers.ts";
import {
  buildBundle,
  BUNDLE,
  type Case,
  FLOOR,
  measure,
  percentile,
  RUN as run,
  writeSection,
} from "./lib.ts";
const quiet = { CHAMELEON_LOG_LEVEL: "error" };

const START: Case[] = [
  { name: "bash -c 'exec true'", argv: ["bash", "-c", "exec true"] },
  { name: "tini -- true", argv: ["tini", "-s", "--", "true"] },
  FLOOR,
  { name: "entrypoint true, local", argv: [...run, "true"], env: quiet },
  // What the image compiles (rebuilt first with `deno task bundle`).
  { name: "entrypoint true, local, bundle", argv: [...BUNDLE, "true"], env: quiet },
  {
    name: "entrypoint true, kubernetes-serving (KServe env)",
    argv: [...run, "true"],
    env: {
      ...quiet,
      KUBERNETES_SERVICE_HOST: "10.96.0.1",
      K_SERVICE: "iris-predictor",
      PORT: "8080",
      POD_IP: "10.1.2.3",
    },
  },
  {
    name: "entrypoint true, aws-batch-training (multi-node env)",
    argv: [...run, "true"],
    env: {
      ...quiet,
      AWS_BATCH_JOB_ID: "j#1",
      AWS_BATCH_JOB_NUM_NODES: "4",
      AWS_BATCH_JOB_NODE_INDEX: "1",
      AWS_BATCH_JOB_MAIN_NODE_INDEX: "0",
      AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS: "10.0.0.5",
    },
  },
];

const CHILD = [
  "python3",
  "-c",
  "import os,signal\nsignal.signal(signal.SIGUSR1, lambda *a: os.write(1, b'x'))\nos.write(1, b'r')\nwhile True: signal.pause()",
];

/** Sends SIGUSR1 to `target` `trials` times; returns the round-trip latencies in ms and the target's RSS. */
async function signalLatency(argv: string[], env: Record<string, string>, trials: number) {
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  const next = async () => {
    const r = await reader.read();
    if (r.done) throw new Error("child ended");
    return r.value;
  };
  await next(); // ready
  await new Promise((r) => setTimeout(r, 300));
  const times: number[] = [];
  for (let i = 0; i < trials; i++) {
    const t0 = performance.now();
    Deno.kill(child.pid, "SIGUSR1");
    await next();
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 5));
  }
  const status = readBounded(`/proc/${child.pid}/status`, 64 * 1024);
  const rss = status.kind === "ok" ? /VmRSS:\s+(\d+) kB/.exec(status.text)?.[1] : undefined;
  child.kill("SIGKILL");
  await child.status;
  return { times, rssKb: rss === undefined ? NaN : Number(rss) };
}

function stats(xs: number[]) {
  return { median: percentile(xs, 50), p99: percentile(xs, 99) };
}

if (import.meta.main) {
  const args = Deno.args;
  const runs = Number(args[args.indexOf("--runs") + 1] ?? 40) || 40;
  buildBundle();
  const table = await measure(START, runs);
  const supervisor = await signalLatency(
    [...run, ...CHILD],
    { ...quiet, CHAMELEON_CONFIG: `${ROOT}/bench/supervise.yaml` },
    100,
  );
  const tini = await signalLatency(["tini", "-s", "--", ...CHILD], {}, 100);
  const sv = stats(supervisor.times);
  const tn = stats(tini.times);
  const body = [
    `Deno ${Deno.version.deno}, ${
      new Date().toISOString().slice(0, 10)
    }, ${runs} runs per start case, interleaved;`,
    "command: `deno run -A bench/running.ts --write`",
    "",
    "Start to exec of `true` (exec mode; the contexts are given by their environment variables):",
    "",
    table,
    "",
    "Signal forwarding: SIGUSR1 sent to the process, until the command's handler has written a byte back",
    "(100 trials; the command is a Python loop in signal.pause()):",
    "",
    "| forwarder | median ms | p99 ms | resident memory |",
    "| --- | ---: | ---: | ---: |",
    `| chameleon supervising | ${sv.median.toFixed(3)} | ${sv.p99.toFixed(3)} | ${
      (supervisor.rssKb / 1024).toFixed(1)
    } MiB |`,
    `| tini -s | ${tn.median.toFixed(3)} | ${tn.p99.toFixed(3)} | ${
      (tini.rssKb / 1024).toFixed(1)
    } MiB |`,
  ].join("\n");
  console.log(body);
  if (args.includes("--write")) writeSection("running", body);
}
