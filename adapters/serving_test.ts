import { equal } from "@std/assert";
import { toImageConfig } from "../config.ts";
import { planFixture, withEnv } from "../tests/helpers.ts";

Deno.test("serving: the KServe model name comes from a K_SERVICE of <isvc>-predictor-default too", () => {
  const p = planFixture(
    "kubernetes-serving/kserve-serverless",
    withEnv({ K_SERVICE: "sklearn-iris-predictor-default" }),
  );
  equal(p.env["ML_PREDICT_ROUTE"], "/v2/models/sklearn-iris/infer");
});

Deno.test("serving: serverless KServe runs on Knative, whose PORT is the serving port", () => {
  const p = planFixture("kubernetes-serving/kserve-serverless", withEnv({ PORT: "9000" }));
  equal(p.env["ML_PORT"], "9000");
});

Deno.test("serving: off Kubernetes, PORT is the serving port only beside Knative's variables (Cloud Run)", () => {
  const cloudRun = planFixture(
    "local-serving/argv-serve",
    withEnv({ K_SERVICE: "api", K_REVISION: "api-00001-abc", PORT: "9000" }),
  );
  equal(cloudRun.env["ML_PORT"], "9000");
  // PORT alone is anybody's (a PaaS, the user's own): neither used nor checked.
  equal(planFixture("local-serving/argv-serve", withEnv({ PORT: "9000" })).env["ML_PORT"], "8080");
  equal(planFixture("local-serving/argv-serve", withEnv({ PORT: "x" })).env["ML_PORT"], "8080");
});

const shellServing = (script: string) =>
  toImageConfig({ commands: { serving: { argv: [script], shell: true } } });

Deno.test("serving: a shell script's --model_name at its end takes its value from the arguments", () => {
  const p = planFixture(
    "kubernetes-serving/kserve-raw",
    (s) => ({ ...s, argv: ["serve", "iris"] }),
    shellServing("exec python3 -m server --model_name"),
  );
  equal(p.env["ML_PREDICT_ROUTE"], "/v2/models/iris/infer");
});

Deno.test("serving: the last --model_name names the model, as the server's argparse takes it", () => {
  const appended = (config: ReturnType<typeof toImageConfig>) =>
    planFixture(
      "kubernetes-serving/kserve-raw",
      (s) => ({ ...s, argv: ["--model_name", "fraud"] }),
      config,
    ).env["ML_PREDICT_ROUTE"];
  // Kubernetes `args:` appended to the image's serving command.
  const image = toImageConfig({
    commands: { serving: { argv: ["python3", "-m", "model", "--model_name", "default"] } },
  });
  equal(appended(image), "/v2/models/fraud/infer");
  // The same after a shell's expansion, which alone would leave the name unknown.
  equal(appended(shellServing('exec server --model_name "$MODEL_NAME"')), "/v2/models/fraud/infer");
});

Deno.test("serving: a model name the shell expands leaves the route unset, with a warning", () => {
  for (
    const script of ['exec server --model_name "$MODEL_NAME"', "exec server --model_name=${M}"]
  ) {
    const p = planFixture(
      "kubernetes-serving/kserve-raw",
      (s) => ({ ...s, argv: ["serve"] }),
      shellServing(script),
    );
    equal("ML_PREDICT_ROUTE" in p.env, false, script);
    equal(p.warnings.some((w) => w.includes("through the shell")), true, script);
  }
  // Without a shell, a `$` is part of the word as the program gets it.
  const argv = planFixture(
    "kubernetes-serving/kserve-raw",
    (s) => ({ ...s, argv: ["python3", "-m", "server", "--model_name", "m$1"] }),
  );
  equal(argv.env["ML_PREDICT_ROUTE"], "/v2/models/m$1/infer");
});

Deno.test("serving: a Knative service that is not KServe gets no KServe routes", () => {
  const p = planFixture("kubernetes-serving/knative");
  equal(p.env["ML_PORT"], "8080");
  equal("ML_HEALTH_ROUTE" in p.env, false);
  equal("ML_PREDICT_ROUTE" in p.env, false);
});

Deno.test("serving: off Kubernetes, each Knative variable alone makes PORT the serving port", () => {
  for (const name of ["K_SERVICE", "K_REVISION", "K_CONFIGURATION"]) {
    const p = planFixture("local-serving/argv-serve", withEnv({ [name]: "api", PORT: "9000" }));
    equal(p.env["ML_PORT"], "9000", name);
  }
});

Deno.test("serving: a notebook's proxy prefix that is no absolute path leaves ML_BASE_URL at /", () => {
  for (
    const [id, name] of [
      ["kubernetes-notebook/kubeflow-notebook", "NB_PREFIX"],
      ["kubernetes-notebook/jupyterhub", "JUPYTERHUB_SERVICE_PREFIX"],
    ]
  ) {
    const p = planFixture(id!, withEnv({ [name!]: "user/bob" }));
    equal(p.env["ML_BASE_URL"], "/", id);
    equal(p.env["ML_PORT"], "8888", id);
  }
});

Deno.test("serving: without a command, the arguments' own --model_name names the model", () => {
  const p = planFixture(
    "kubernetes-serving/kserve-raw",
    (s) => ({ ...s, argv: ["--model_name", "fraud"] }),
  );
  equal(p.command, null);
  equal(p.env["ML_PREDICT_ROUTE"], "/v2/models/fraud/infer");
});

Deno.test("serving: a JupyterHub server off Kubernetes (DockerSpawner) serves under JUPYTERHUB_SERVICE_PREFIX", () => {
  const hub = withEnv({
    JUPYTERHUB_API_URL: "http://jupyterhub:8081/hub/api",
    JUPYTERHUB_SERVICE_PREFIX: "/user/bob/",
  });
  // A local container the hub started, its workload the notebook (argv, or a config default).
  const p = planFixture("local-notebook/argv-notebook", hub);
  equal(p.env["ML_BASE_URL"], "/user/bob/");
  equal(p.env["ML_PORT"], "8888");
  // Without the hub's prefix, the server is at the root.
  equal(planFixture("local-notebook/argv-notebook").env["ML_BASE_URL"], "/");
});

Deno.test("serving: an ML_PORT that is the link variable of a Service named ml is replaced by the port", () => {
  // Kubernetes' service links (on by default) for a Service `ml` at 10.96.3.4, port 80.
  const link = withEnv({
    ML_PORT: "tcp://10.96.3.4:80",
    ML_SERVICE_HOST: "10.96.3.4",
    ML_SERVICE_PORT: "80",
  });
  for (
    const [id, port] of [
      ["kubernetes-serving/kserve-raw", "8080"],
      ["kubernetes-serving/knative", "8080"],
      ["kubernetes-notebook/kubeflow-notebook", "8888"],
    ]
  ) {
    const p = planFixture(id!, link);
    equal(p.env["ML_PORT"], port, id);
    equal(p.warnings.some((w) => w.includes('ML_PORT "tcp://10.96.3.4:80"')), true, id);
  }
  // A port the user gives is theirs, as any fill's.
  equal(
    "ML_PORT" in planFixture("kubernetes-serving/kserve-raw", withEnv({ ML_PORT: "9000" })).env,
    false,
  );
});
