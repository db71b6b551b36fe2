/**
 * How a start's in-process phases grow with the size of what a platform hands
 * it, the size doubled row by row: a pod in a namespace of many Services (seven
 * link variables each) beside secret-named variables, a long argument list
 * holding secrets, and LDAP-sized /etc/passwd and /etc/group. Each phase's
 * cost should about double with the input ("per doubling" near 2.0x); 4x is a
 * quadratic path. In-process timings: a row's median over `--runs` repetitions
 * after warm-up, so the machine's load moves the times, much less the ratios.
 *
 *   deno run -A bench/scale.ts [--runs 9] [--write]
 */
import { parseArgs } from "node:util";
import { DEFAULT_CONFIG } from "../config.ts";
import { detect } from "../contexts/mod.ts";
import { explainJson, explainText, type Explanation } from "../explain.ts";
import { plan } from "../plan.ts";
import { parseSnapshot, redactSnapshot } from "../snapshot.ts";
import { fixture, serviceLinkEnv } from "../tests/helpers.ts";
import type { Snapshot } from "../types.ts";
import { World } from "../world.ts";
import { machine, median, runsOption, writeSection } from "./lib.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "9" },
    write: { type: "boolean", default: false },
  },
});
const runs = runsOption(values.runs);

/** A token-like value, the same on every run. */
function token(length: number, seed: number): string {
  let x = (seed * 2654435761) >>> 0;
  let s = "";
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += "abcdefghijklmnopqrstuvwxyz0123456789"[(x >>> 8) % 36];
  }
  return s;
}

interface Input {
  readonly name: string;
  readonly size: (n: number) => string;
  readonly sizes: readonly number[];
  readonly make: (n: number) => Snapshot;
}

const INPUTS: readonly Input[] = [
  {
    name: "Services (7 link variables each) and half as many secret-named variables",
    size: (n) => `${n.toLocaleString("en")} Services`,
    sizes: [1000, 2000, 4000],
    make: (n) => {
      const s = fixture("kubernetes-unknown/pod");
      const env: Record<string, string> = { ...s.env, ...serviceLinkEnv(n) };
      for (let i = 0; i < n; i += 2) env[`API${i}_TOKEN`] = token(40, i + 1);
      return { ...s, env };
    },
  },
  {
    name: "an argument list, with a secret-named variable for every tenth word",
    size: (n) => `${n.toLocaleString("en")} words`,
    sizes: [2500, 5000, 10000],
    make: (n) => {
      const s = fixture("kubernetes-unknown/pod");
      const env: Record<string, string> = { ...s.env, HF_TOKEN: token(40, 99) };
      for (let i = 0; i < n / 10; i++) env[`API${i}_TOKEN`] = token(40, i + 1);
      const argv = ["python", ...Array.from({ length: n }, (_, i) => `--opt${i}=value${i}`)];
      return { ...s, env, argv };
    },
  },
  {
    name: "/etc/passwd and /etc/group (a non-root uid)",
    size: (n) => `${n.toLocaleString("en")} users`,
    sizes: [12500, 25000, 50000],
    make: (n) => {
      const s = fixture("kubernetes-unknown/pod");
      let passwd = s.files["/etc/passwd"] ?? "";
      let group = s.files["/etc/group"] ?? "";
      for (let i = 0; i < n; i++) {
        const id = i + 5000;
        passwd += `user${id}:x:${id}:${id}:U ${i}:/home/user${id}:/bin/bash\n`;
        group += `grp${id}:x:${id}:user${id},ml\n`;
      }
      return {
        ...s,
        uid: 1000,
        gid: 100,
        groups: [100],
        files: { ...s.files, "/etc/passwd": passwd, "/etc/group": group },
      };
    },
  },
  {
    name: "NO_PROXY and no_proxy in two orders, behind a proxy",
    size: (n) => `${n.toLocaleString("en")} addresses`,
    sizes: [2000, 4000, 8000],
    make: (n) => {
      const s = fixture("kubernetes-unknown/pod");
      const ips = Array.from({ length: n }, (_, i) => `10.${i >> 8}.${i & 255}.1`);
      const env = {
        HTTP_PROXY: "http://proxy:3128",
        NO_PROXY: ips.join(","),
        no_proxy: [...ips].reverse().join(","),
      };
      return { ...s, env: { ...s.env, ...env } };
    },
  },
  {
    name: "opted-in VAR_FILEs (CHAMELEON_SECRET_FILES), passwords ending alike",
    size: (n) => `${n.toLocaleString("en")} files`,
    sizes: [2000, 4000, 8000],
    make: (n) => {
      const s = fixture("kubernetes-unknown/pod");
      const env: Record<string, string> = {
        ...s.env,
        CHAMELEON_SECRET_FILES: Array.from({ length: n }, (_, i) => `DB${i}_PASSWORD`).join(","),
      };
      const files: Record<string, string> = { ...s.files };
      for (let i = 0; i < n; i++) {
        env[`DB${i}_PASSWORD_FILE`] = `/run/secrets/db${i}`;
        files[`/run/secrets/db${i}`] = `${token(16, i + 1)}-prod-2026\n`;
      }
      return { ...s, env, files };
    },
  },
  {
    name: "a file listing tokens that secret-named variables hold",
    size: (n) => `${n.toLocaleString("en")} tokens`,
    sizes: [1000, 2000, 4000],
    make: (n) => {
      const s = fixture("kubernetes-unknown/pod");
      const env: Record<string, string> = { ...s.env };
      const lines: string[] = [];
      for (let i = 0; i < n; i++) {
        env[`API${i}_TOKEN`] = token(32, i + 1);
        lines.push(`client ${i} uses ${env[`API${i}_TOKEN`]}`);
      }
      return { ...s, env, files: { ...s.files, "/etc/app/tokens.txt": lines.join("\n") } };
    },
  },
];

/** The phases timed, each from the snapshot file's text on. */
function phases(text: string): Record<string, () => unknown> {
  const snapshot = parseSnapshot(text, "scale.json");
  const world = new World(snapshot);
  const detection = detect(world);
  const p = plan(world, detection, DEFAULT_CONFIG);
  const e: Explanation = { version: "bench", detection, plan: p, config: { file: null } };
  return {
    "parse the snapshot": () => parseSnapshot(text, "scale.json"),
    "detect and plan": () => {
      const w = new World(snapshot);
      return plan(w, detect(w), DEFAULT_CONFIG);
    },
    "explain json": () => JSON.stringify(explainJson(e), null, 2),
    "explain text": () => explainText(e, false),
    "capture's redaction": () => redactSnapshot(snapshot, { values: p.secrets }),
  };
}

const rows: string[] = [];
for (const input of INPUTS) {
  const before = new Map<string, number>();
  for (const n of input.sizes) {
    const text = JSON.stringify(input.make(n));
    for (const [phase, run] of Object.entries(phases(text))) {
      run(); // warm-up
      const times: number[] = [];
      for (let r = 0; r < runs; r++) {
        const t = performance.now();
        run();
        times.push(performance.now() - t);
      }
      const ms = median(times);
      const prev = before.get(phase);
      before.set(phase, ms);
      const ratio = prev === undefined ? "" : `${(ms / prev).toFixed(1)}x`;
      rows.push(
        `| ${input.name} | ${input.size(n)} (${(text.length / 1e6).toFixed(1)} MB) | ${phase} | ${
          ms.toFixed(2)
        } | ${ratio} |`,
      );
      console.log(rows.at(-1));
    }
  }
}

const body = [
  `${await machine()}, median of ${runs} runs per row after one warm-up; command: \`deno run -A bench/scale.ts --write\``,
  "",
  "| input | size (snapshot file) | phase | median ms | per doubling |",
  "| --- | --- | --- | ---: | ---: |",
  ...rows,
].join("\n");
if (values.write) writeSection("scale", body);
