/**
 * Where a server listens and which routes the platform probes (design section 6:
 * `ML_PORT`, `ML_HEALTH_ROUTE`, `ML_PREDICT_ROUTE`). All fill. Sources:
 * reference/sagemaker.md sections 4 to 6 (8080, /ping, /invocations,
 * SAGEMAKER_BIND_TO_PORT), reference/platforms.md section A.3 (Knative PORT, KServe
 * V2 routes), section B.2 (Vertex AIP_*).
 *
 * @module
 */

import type { EnvOp, Platform } from "../types.ts";
import type { World } from "../world.ts";
import { type Adapter, fill, type Fragment, type PlanInput } from "./_adapter.ts";
import { decideCommand, shellWords } from "./command.ts";
import { isSafeName, portEnv, SAFE_NAME_EXPECTED } from "./_files.ts";

/**
 * The KServe model name: the last `--model_name` in the command that runs (argv,
 * or the configured serving command argv selects or is appended to, a shell
 * script's own words included, with `"$@"` standing for its arguments; a model
 * server's argparse keeps the last of a repeated option, so Kubernetes `args:`
 * appended to an image's command win), else the InferenceService from
 * K_SERVICE. Null when a shell script gives it through an expansion
 * (`--model_name "$MODEL_NAME"`): only the shell knows it.
 */
function kserveModelName(input: PlanInput): string | null | undefined {
  const { words, shell } = commandWords(input);
  let last: string | null | undefined;
  for (let i = 0; i < words.length; i++) {
    const a = words[i]!;
    const name = a === "--model_name"
      ? words[i + 1]
      : a.startsWith("--model_name=")
      ? a.slice("--model_name=".length)
      : undefined;
    if (name !== undefined) last = shell && name.includes("$") ? null : name;
  }
  if (last !== undefined) return last;
  const m = /^(.+)-predictor(?:-default)?$/.exec(input.world.env("K_SERVICE") ?? "");
  return m?.[1];
}

/** The words of the command the command adapter decides on (argv when there is none). */
function commandWords(input: PlanInput): { words: readonly string[]; shell: boolean } {
  const { command, shell } = decideCommand(input);
  if (command === null) return { words: input.world.snapshot.argv, shell: false };
  if (!shell) return { words: command, shell };
  // /bin/sh -c SCRIPT $0 ARGS...: the script's own words, its "$@" (which the command adapter
  // adds after them) replaced by the arguments.
  const args = command.slice(4);
  return {
    words: shellWords(command[2]!).flatMap((w) => w.text === "$@" ? args : [w.text]),
    shell,
  };
}

/** Where a platform says which port to serve on (else 8080). */
const PORT_VARIABLE: Partial<Record<Platform, string>> = {
  sagemaker: "SAGEMAKER_BIND_TO_PORT",
  "vertex-ai": "AIP_HTTP_PORT",
};

/**
 * Knative's variants: only Knative sets `PORT` (reference/platforms.md A.3). On
 * another pod `PORT` is anybody's (a PaaS, the user's own), so it neither
 * moves `ML_PORT` nor, malformed, stops the start.
 */
const KNATIVE_VARIANTS: ReadonlySet<string> = new Set(["knative", "kserve-serverless"]);

/** The Knative contract's own variables, which Cloud Run sets off Kubernetes too. */
const KNATIVE_ENV = ["K_SERVICE", "K_REVISION", "K_CONFIGURATION"];

/** The variable that names the serving port in this context, if any. */
function portVariable(
  world: World,
  platform: Platform,
  variant: string | null,
): string | undefined {
  if (platform === "kubernetes") {
    return variant !== null && KNATIVE_VARIANTS.has(variant) ? "PORT" : undefined;
  }
  // Off Kubernetes the Knative variables still mean its contract (Cloud Run): bind PORT.
  return PORT_VARIABLE[platform] ??
    (KNATIVE_ENV.some((n) => world.hasEnv(n)) ? "PORT" : undefined);
}

/** The base path SageMaker Studio's proxy serves each app type under (reference/sagemaker.md 8.2). */
const STUDIO_BASE_URL: Readonly<Record<string, string>> = {
  jupyterlab: "/jupyterlab/default",
  "code-editor": "/codeeditor/default",
};

/**
 * The path a notebook server must serve under, behind the platform's proxy:
 * Studio's `/<app type>/default`, Kubeflow's `NB_PREFIX`, JupyterHub's
 * `JUPYTERHUB_SERVICE_PREFIX`; else `/`. The proxies keep the path, so a server
 * at `/` answers none of its requests.
 */
function notebookBaseUrl({ world, detection: { context } }: PlanInput): string {
  const given = (name: string) => {
    const v = world.envValue(name);
    return v?.startsWith("/") ? v : undefined;
  };
  if (context.platform === "sagemaker") return STUDIO_BASE_URL[context.variant ?? ""] ?? "/";
  if (context.variant === "kubeflow-notebook") return given("NB_PREFIX") ?? "/";
  // JupyterHub spawns single-user servers off Kubernetes too (DockerSpawner, SystemdSpawner: a
  // local context, no `jupyterhub` variant), and its proxy keeps its prefix there just the same.
  return given("JUPYTERHUB_SERVICE_PREFIX") ?? "/";
}

/** A notebook's port (design section 6), Jupyter's own default. */
export const NOTEBOOK_PORT = "8888";

/** The serving adapter. */
export const serving: Adapter = {
  name: "serving",
  plan(input) {
    const { workload } = input.detection.context;
    if (workload === "notebook") {
      // An ML_PORT that is a Service's link variable (`tcp://...`) is filled over (plan.ts).
      return { env: [fill("ML_PORT", NOTEBOOK_PORT), fill("ML_BASE_URL", notebookBaseUrl(input))] };
    }
    return workload === "serving" ? servingPlan(input) : {};
  },
};

/**
 * A model server's port and routes. Its own function: V8 compiles a function
 * whole on its first call, and most starts serve nothing.
 */
function servingPlan(input: PlanInput): Fragment {
  const { world, detection: { context } } = input;
  const env: EnvOp[] = [];
  const warnings: string[] = [];
  const { platform, variant } = context;
  const v = (n: string) => world.envValue(n);
  const portVar = portVariable(world, platform, variant);
  const port = (portVar === undefined ? undefined : portEnv(world, portVar)) ?? 8080;
  env.push(fill("ML_PORT", String(port)));
  if (platform === "sagemaker") {
    env.push(fill("ML_HEALTH_ROUTE", "/ping"), fill("ML_PREDICT_ROUTE", "/invocations"));
  } else if (platform === "vertex-ai") {
    if (v("AIP_HEALTH_ROUTE")) env.push(fill("ML_HEALTH_ROUTE", v("AIP_HEALTH_ROUTE")!));
    if (v("AIP_PREDICT_ROUTE")) env.push(fill("ML_PREDICT_ROUTE", v("AIP_PREDICT_ROUTE")!));
  } else if (platform === "kubernetes" && variant?.startsWith("kserve")) {
    env.push(fill("ML_HEALTH_ROUTE", "/v2/health/ready"));
    // A name that cannot stand in a route leaves the route unset: it is a convenience,
    // not worth stopping the model server for.
    const name = kserveModelName(input);
    if (name === null) {
      warnings.push(
        "KServe model name: the serving command gives --model_name through the shell; ML_PREDICT_ROUTE left unset",
      );
    } else if (name !== undefined && isSafeName(name)) {
      env.push(fill("ML_PREDICT_ROUTE", `/v2/models/${name}/infer`));
    } else if (name !== undefined) {
      warnings.push(
        `KServe model name ${
          JSON.stringify(name)
        }: expected ${SAFE_NAME_EXPECTED}; ML_PREDICT_ROUTE left unset`,
      );
    }
  }
  return { env, warnings };
}
