import { equal } from "@std/assert";
import { planFixture, withDir, withFiles } from "../tests/helpers.ts";
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

Deno.test("mlPaths: the platform's model folder wins over the config's, which fills where there is none", () => {
  equal(
    planFixture("sagemaker-training/single-host", undefined, PATHS).env["ML_MODEL_DIR"],
    "/opt/ml/model",
  );
  equal(planFixture("local-unknown/docker", undefined, PATHS).env["ML_MODEL_DIR"], "/cfg/model");
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

Deno.test("mlPaths: /mnt/models is ML_MODEL_DIR for KServe serving only, not for a training pod that has it", () => {
  const p = planFixture("kubernetes-training/pytorchjob", withDir("/mnt/models", 0, 0));
  equal(p.env["CHAMELEON_CONTEXT"], "kubernetes-training");
  equal("ML_MODEL_DIR" in p.env, false);
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
