/**
 * Where a server listens and which routes the platform probes (design section 6:
 * `ML_PORT`, `ML_HEALTH_ROUTE`, `ML_PREDICT_ROUTE`). All fill. Sources:
 * reference/sagemaker.md sections 4 to 6 (8080, /ping, /invocations,
 * SAGEMAKER_BIND_TO_PORT), reference/platforms.md section A.3 (Knative PORT, KServe
 * V2 routes), section B.2 (Vertex AIP_*).
 *
 * @module
 */

import type { Settings } from "../config.ts";
import { WORKLOAD_WORDS } from "../contexts/mod.ts";
import type { EnvOp, Platform, Workload } from "../types.ts";
import type { World } from "../world.ts";
import { type Adapter, fill } from "./_adapter.ts";
import { shellWords } from "./command.ts";
import { portEnv, safeName } from "./_files.ts";

/**
 * The KServe model name: `--model_name` in argv or in the configured serving
 * command (which argv is appended to), else the InferenceService from K_SERVICE.
 */
function kserveModelName(world: World, configured: readonly string[]): string | undefined {
  const argv = [...world.snapshot.argv, ...configured];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--model_name" && argv[i + 1] !== undefined) return argv[i + 1];
    if (a.startsWith("--model_name=")) return a.slice("--model_name=".length);
  }
  const m = /^(.+)-predictor(?:-default)?$/.exec(world.env("K_SERVICE") ?? "");
  return m?.[1];
}

/**
 * The configured command's words when it is the one that runs (design section 3: no
 * argument, a workload word, or a first argument starting with `-`); none when the
 * user's own command replaces it.
 */
function configuredArgv(world: World, settings: Settings, workload: Workload): readonly string[] {
  const first = world.snapshot.argv[0];
  const selected = first === undefined || first.startsWith("-")
    ? workload
    : Object.hasOwn(WORKLOAD_WORDS, first)
    ? WORKLOAD_WORDS[first]!
    : undefined;
  const spec = selected === undefined ? undefined : settings.commands[selected];
  if (spec === undefined) return [];
  // A shell script's own words: `--model_name iris` may sit inside one string.
  return spec.shell ? shellWords(spec.argv.join(" ")).map((w) => w.text) : spec.argv;
}

/** Where a platform says which port to serve on (else 8080). */
const PORT_VARIABLE: Partial<Record<Platform, string>> = {
  sagemaker: "SAGEMAKER_BIND_TO_PORT",
  "vertex-ai": "AIP_HTTP_PORT",
  kubernetes: "PORT", // Knative
};

/** The serving adapter. */
export const serving: Adapter = {
  name: "serving",
  plan({ world, detection: { context }, settings }) {
    const env: EnvOp[] = [];
    const { platform, workload, variant } = context;
    if (workload === "notebook") return { env: [fill("ML_PORT", "8888")] };
    if (workload !== "serving") return {};
    const v = (n: string) => world.envValue(n);
    const portVar = PORT_VARIABLE[platform];
    const port = (portVar === undefined ? undefined : portEnv(world, portVar)) ?? 8080;
    env.push(fill("ML_PORT", String(port)));
    if (platform === "sagemaker") {
      env.push(fill("ML_HEALTH_ROUTE", "/ping"), fill("ML_PREDICT_ROUTE", "/invocations"));
    } else if (platform === "vertex-ai") {
      if (v("AIP_HEALTH_ROUTE")) env.push(fill("ML_HEALTH_ROUTE", v("AIP_HEALTH_ROUTE")!));
      if (v("AIP_PREDICT_ROUTE")) env.push(fill("ML_PREDICT_ROUTE", v("AIP_PREDICT_ROUTE")!));
    } else if (platform === "kubernetes" && variant?.startsWith("kserve")) {
      env.push(fill("ML_HEALTH_ROUTE", "/v2/health/ready"));
      const name = kserveModelName(world, configuredArgv(world, settings, workload));
      if (name !== undefined) {
        env.push(
          fill("ML_PREDICT_ROUTE", `/v2/models/${safeName(name, "KServe model name")}/infer`),
        );
      }
    }
    return { env };
  },
};
