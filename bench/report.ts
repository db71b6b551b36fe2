/**
 * Runs `deno bench --json` on one bench file and writes a summary table (per
 * benchmark: average and p99 per iteration) into its section of RESULTS.md.
 *
 *   deno run -A bench/report.ts <section> bench/<file>_bench.ts [--write]
 */
import { ROOT } from "../tests/helpers.ts";
import { median, writeSection } from "./lib.ts";

interface BenchResult {
  name: string;
  group?: string;
  results: { ok?: { avg: number; min: number; p75: number; p99: number; n: number } }[];
}

const [section, file] = Deno.args;
if (section === undefined || file === undefined) {
  throw new Error("usage: report.ts <section> <file> [--write]");
}
const out = await new Deno.Command(Deno.execPath(), {
  args: ["bench", "--json", "-A", file],
  cwd: ROOT,
  stdout: "piped",
  stderr: "inherit",
}).output();
const benches: BenchResult[] = JSON.parse(new TextDecoder().decode(out.stdout)).benches;
const fmt = (ns: number) =>
  ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(1)} µs`;
// Benchmarks named "... n=<size>" get a cost-per-item column, to show how cost grows.
const sized = benches.some((b) => /n=\d+/.test(b.name));
const rows = benches.map((b) => {
  const r = b.results[0]?.ok;
  const n = Number(/n=(\d+)/.exec(b.name)?.[1] ?? NaN);
  const per = sized && r ? ` ${fmt(r.avg / n)} |` : "";
  return r
    ? `| ${b.name} | ${fmt(r.avg)} | ${fmt(r.min)} | ${fmt(r.p75)} | ${fmt(r.p99)} |${per}`
    : `| ${b.name} | failed | | | |`;
});
const avgs = benches.map((b) => b.results[0]?.ok?.avg ?? NaN);
const body = [
  `Deno ${Deno.version.deno}, ${
    new Date().toISOString().slice(0, 10)
  }; command: \`deno run -A bench/report.ts ${section} ${file} --write\``,
  "",
  `${benches.length} benchmarks; slowest average ${fmt(Math.max(...avgs))}, median ${
    fmt(median(avgs))
  }.`,
  "",
  // deno bench reports no median: min and p75 bracket it, and the average carries the GC pauses.
  `| benchmark | avg/iter | min | p75 | p99 |${sized ? " avg per item |" : ""}`,
  `| --- | ---: | ---: | ---: | ---: |${sized ? " ---: |" : ""}`,
  ...rows,
].join("\n");
console.log(body);
if (Deno.args.includes("--write")) writeSection(section, body);
