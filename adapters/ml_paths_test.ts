import { deepEqual, equal, ok } from "@std/assert";
import { InputError } from "../errors.ts";
import { caught, planFixture, withDir, withFiles } from "../tests/helpers.ts";
import type { Snapshot } from "../types.ts";
import { configFromYaml } from "../tests/config_yaml.ts";

const PATHS = configFromYaml("paths:\n  model: /cfg/model\n  checkpoint: /cfg/checkpoints\n");

Deno.test("mlPaths: ML_CHANNEL_<NAME> turns every character outside A-Z0-9_ into _", () => {
  const p = planFixture(
    "sagemaker-training/single-host",
    withFiles({
      "/opt/ml/input/config/inputdataconfig.json":
        '{"my-train.data": {"TrainingInputMode": "File"}}',
    }),
  );
  equal(p.env["ML_CHANNEL_MY_TRAIN_DATA"], "/opt/ml/input/data/my-train.data");
});

Deno.test("mlPaths: three channel names that map to one variable leave it unset, and the warning names all of them", () => {
  const p = planFixture(
    "sagemaker-training/single-host",
    withFiles({
      "/opt/ml/input/config/inputdataconfig.json":
        '{"a-b": {"TrainingInputMode": "File"}, "a.b": {"TrainingInputMode": "File"}, "a_b": {"TrainingInputMode": "File"}}',
    }),
  );
  equal("ML_CHANNEL_A_B" in p.env, false);
  ok(
    p.warnings.includes(
      'Channels "a-b" and "a.b" and "a_b" all map to ML_CHANNEL_A_B: it is left unset (ML_CHANNELS lists them)',
    ),
    JSON.stringify(p.warnings),
  );
});

Deno.test("mlPaths: the platform's model folder wins over the config's, which fills where there is none", () => {
  equal(
    planFixture("sagemaker-training/single-host", undefined, PATHS).env["ML_MODEL_DIR"],
    "/opt/ml/model",
  );
  equal(planFixture("local-unknown/docker", undefined, PATHS).env["ML_MODEL_DIR"], "/cfg/model");
});

Deno.test("mlPaths: the platform's output, input and checkpoint folders win over the config's, which fill where there are none", () => {
  const config = configFromYaml(
    "paths:\n  output: /cfg/output\n  input: /cfg/input\n  checkpoint: /cfg/checkpoints\n",
  );
  const names = ["ML_OUTPUT_DIR", "ML_INPUT_DIR", "ML_CHECKPOINT_DIR"];
  const sagemaker = planFixture("sagemaker-training/multi-host", undefined, config);
  deepEqual(names.map((n) => sagemaker.env[n]), [
    "/opt/ml/output/data",
    "/opt/ml/input/data",
    "/opt/ml/checkpoints",
  ]);
  const local = planFixture("local-unknown/docker", undefined, config);
  deepEqual(names.map((n) => local.env[n]), ["/cfg/output", "/cfg/input", "/cfg/checkpoints"]);
});

Deno.test("mlPaths: ML_JOB_NAME is Vertex's CLOUD_ML_JOB_ID and AWS Batch's AWS_BATCH_JOB_ID", () => {
  equal(
    planFixture("vertex-ai-training/multi-worker").env["ML_JOB_NAME"],
    "1234567890123456789",
  );
  equal(
    planFixture("aws-batch-training/multi-node-main").env["ML_JOB_NAME"],
    "8d4b6c5e-0f5a-4c36-9f7e-2f1d1b7c9a10#0",
  );
});

Deno.test("mlPaths: an empty checkpoint LocalPath names no folder, so the config's fills ML_CHECKPOINT_DIR", () => {
  const p = planFixture(
    "sagemaker-training/single-host",
    withFiles({ "/opt/ml/input/config/checkpointconfig.json": '{"LocalPath": ""}' }),
    PATHS,
  );
  equal(p.env["ML_CHECKPOINT_DIR"], "/cfg/checkpoints");
});

Deno.test("mlPaths: a Studio space without resource-metadata.json takes ML_JOB_NAME from SAGEMAKER_SPACE_NAME", () => {
  const noMetadata = (s: Snapshot): Snapshot => {
    const { "/opt/ml/metadata/resource-metadata.json": _, ...files } = s.files;
    return { ...s, files, env: { ...s.env, SAGEMAKER_SPACE_NAME: "team-space" } };
  };
  const p = planFixture("sagemaker-notebook/jupyterlab", noMetadata);
  equal(p.env["CHAMELEON_CONTEXT"], "sagemaker-notebook");
  equal(p.env["ML_JOB_NAME"], "team-space");
});

Deno.test("mlPaths: a Studio space without SAGEMAKER_SPACE_NAME takes ML_JOB_NAME from SpaceName, else ResourceName", () => {
  const meta = (m: Record<string, string>) => (s: Snapshot): Snapshot => {
    const { SAGEMAKER_SPACE_NAME: _, ...env } = s.env;
    return withFiles({ "/opt/ml/metadata/resource-metadata.json": JSON.stringify(m) })({
      ...s,
      env,
    });
  };
  const name = (m: Record<string, string>) =>
    planFixture("sagemaker-notebook/jupyterlab", meta(m)).env["ML_JOB_NAME"];
  equal(name({ SpaceName: "my-space", ResourceName: "default" }), "my-space");
  equal(name({ SpaceName: "", ResourceName: "default" }), "default");
});

Deno.test("mlPaths: /mnt/models is ML_MODEL_DIR for KServe serving only, not for a training pod that has it", () => {
  const p = planFixture("kubernetes-training/pytorchjob", withDir("/mnt/models", 0, 0));
  equal(p.env["CHAMELEON_CONTEXT"], "kubernetes-training");
  equal("ML_MODEL_DIR" in p.env, false);
});

Deno.test("mlPaths: a Knative serving pod without /mnt/models gets no ML_MODEL_DIR; a KServe one with it does", () => {
  equal("ML_MODEL_DIR" in planFixture("kubernetes-serving/knative").env, false);
  equal(planFixture("kubernetes-serving/kserve-raw").env["ML_MODEL_DIR"], "/mnt/models");
});

Deno.test("mlPaths: a processing job's output folder is the first output that has a LocalPath", () => {
  const config = (outputs: unknown[]) =>
    withFiles({
      "/opt/ml/config/processingjobconfig.json": JSON.stringify({
        ProcessingJobName: "prep",
        ProcessingOutputConfig: { Outputs: outputs },
      }),
    });
  // A Feature Store output has no local folder; the S3 output after it does.
  const p = planFixture(
    "sagemaker-processing/processing-job",
    config([
      { OutputName: "features", S3Output: null, FeatureStoreOutput: { FeatureGroupName: "fg" } },
      {
        OutputName: "clean",
        S3Output: { LocalPath: "/opt/ml/processing/output/clean", S3Uri: "s3://b/c/" },
      },
    ]),
    PATHS,
  );
  equal(p.env["ML_OUTPUT_DIR"], "/opt/ml/processing/output/clean");
});

Deno.test("mlPaths: a processing input without a local path (a dataset definition that gives none) is no channel", () => {
  const pjc = "/opt/ml/config/processingjobconfig.json";
  const p = planFixture("sagemaker-processing/processing-job", (s) => {
    const config = JSON.parse(s.files[pjc]!);
    config.ProcessingInputs.push({ InputName: "query", DatasetDefinition: {} });
    return withFiles({ [pjc]: JSON.stringify(config) })(s);
  });
  equal(p.env["ML_CHANNELS"], '["raw"]');
  equal("ML_CHANNEL_QUERY" in p.env, false);
});

Deno.test("mlPaths: a processing input without a name is no channel", () => {
  const pjc = "/opt/ml/config/processingjobconfig.json";
  const p = planFixture("sagemaker-processing/processing-job", (s) => {
    const config = JSON.parse(s.files[pjc]!);
    config.ProcessingInputs.push({ S3Input: { LocalPath: "/opt/ml/processing/input/extra" } });
    return withFiles({ [pjc]: JSON.stringify(config) })(s);
  });
  equal(p.env["ML_CHANNELS"], '["raw"]');
});

Deno.test("mlPaths: a processing LocalPath outside /opt/ml/processing/ (relative, climbing out with .., with a NUL) is exit 78 naming the field", () => {
  const pjc = "/opt/ml/config/processingjobconfig.json";
  const cases = [
    [
      "/opt/ml/processing/output/clean",
      "output/clean",
      "/ProcessingOutputConfig/Outputs/0/S3Output",
    ],
    ["/opt/ml/processing/input/raw", "/opt/ml/processing/../../etc", "/ProcessingInputs/0/S3Input"],
    // Named here, not as the variable it would become.
    ["/opt/ml/processing/input/raw", "/opt/ml/processing/in\0put", "/ProcessingInputs/0/S3Input"],
  ];
  for (const [given, path, field] of cases) {
    const e = caught(() =>
      planFixture(
        "sagemaker-processing/processing-job",
        (s) => withFiles({ [pjc]: s.files[pjc]!.replace(`"${given}"`, JSON.stringify(path)) })(s),
      )
    );
    ok(e instanceof InputError, `${path} was planned: ${String(e)}`);
    equal(
      (e as InputError).message,
      `File ${pjc}: ${field}/LocalPath: expected a path under /opt/ml/processing/ without ".." or NUL, got string ${
        JSON.stringify(path)
      }`,
    );
  }
});
