import { deepEqual, equal, match } from "@std/assert";
import { parseJson, type Reader } from "../shape.ts";
import { snap } from "../tests/helpers.ts";
import { World } from "../world.ts";
import { detect } from "./mod.ts";
import {
  CHECKPOINT_CONFIG,
  HYPERPARAMETERS,
  INPUT_DATA_CONFIG,
  PROCESSING_JOB_CONFIG,
  RESOURCE_CONFIG,
  RESOURCE_METADATA,
} from "./sagemaker.ts";

function problem(reader: Reader<unknown>, text: string): string {
  const r = parseJson(text, reader);
  if (r.ok) throw new Error(`accepted ${text}`);
  return r.problem;
}

Deno.test("RESOURCE_CONFIG accepts the documented and toolkit shapes", () => {
  const r = parseJson(
    '{"current_host":"algo-2","hosts":["algo-1","algo-2"],"network_interface_name":"eth1","instance_groups":[{"instance_group_name":"g","instance_type":"ml.c5.xlarge","hosts":["algo-2","algo-1"]}],"topology":[{"hostName":"algo-1"}],"newer_field":1}',
    RESOURCE_CONFIG,
  );
  equal(r.ok, true);
});

Deno.test("RESOURCE_CONFIG names the field of a bad value", () => {
  match(
    problem(RESOURCE_CONFIG, '{"hosts":["algo-1"]}'),
    /^\/current_host: expected a non-empty string, got nothing \(missing\)$/,
  );
  match(
    problem(RESOURCE_CONFIG, '{"current_host":"a","hosts":[1]}'),
    /^\/hosts\/0: expected a non-empty string, got number 1/,
  );
  match(
    problem(RESOURCE_CONFIG, '{"current_host":"a","hosts":["a"],"instance_groups":[{"hosts":[]}]}'),
    /^\/instance_groups\/0\/instance_group_name/,
  );
  match(problem(RESOURCE_CONFIG, '{"current_host":'), /^not valid JSON/);
});

Deno.test("PROCESSING_JOB_CONFIG accepts nulls where the API echoes unset values", () => {
  equal(
    parseJson(
      '{"ProcessingJobName":"p","ProcessingOutputConfig":{"Outputs":[],"KmsKeyId":null},"Environment":null}',
      PROCESSING_JOB_CONFIG,
    ).ok,
    true,
  );
  match(
    problem(
      PROCESSING_JOB_CONFIG,
      '{"ProcessingOutputConfig":{"Outputs":[{"S3Output":{"LocalPath":3}}]}}',
    ),
    /^\/ProcessingOutputConfig\/Outputs\/0\/S3Output\/LocalPath: expected a string/,
  );
  match(
    problem(PROCESSING_JOB_CONFIG, '{"Environment":{"A":1}}'),
    /^\/Environment\/A: expected a string/,
  );
});

Deno.test("INPUT_DATA_CONFIG, HYPERPARAMETERS, CHECKPOINT_CONFIG, RESOURCE_METADATA reject wrong shapes", () => {
  match(problem(INPUT_DATA_CONFIG, '{"train":"File"}'), /^\/train: expected an object/);
  match(problem(HYPERPARAMETERS, '["epochs"]'), /^top level: expected an object, got an array/);
  match(problem(CHECKPOINT_CONFIG, '{"LocalPath":["/x"]}'), /^\/LocalPath: expected a string/);
  match(problem(RESOURCE_METADATA, '{"AppType":7}'), /^\/AppType: expected a string/);
});

Deno.test("PROCESSING_JOB_CONFIG accepts null ProcessingInputs, as a job without inputs echoes it", () => {
  equal(
    parseJson('{"ProcessingJobName":"p","ProcessingInputs":null}', PROCESSING_JOB_CONFIG).ok,
    true,
  );
});

Deno.test("sagemaker: a serving variable alone is a SageMaker endpoint, whatever its value", () => {
  const context = (env: Record<string, string>) => {
    const c = detect(new World(snap({ env }))).context;
    return [c.id, c.variant];
  };
  // An inference pipeline member gets SAGEMAKER_BIND_TO_PORT and no other signal.
  deepEqual(context({ SAGEMAKER_BIND_TO_PORT: "8081" }), ["sagemaker-serving", "pipeline-member"]);
  deepEqual(context({ SAGEMAKER_BATCH: "false" }), ["sagemaker-serving", "real-time"]);
  deepEqual(context({ SAGEMAKER_MULTI_MODEL: "false" }), ["sagemaker-serving", "real-time"]);
});

Deno.test("sagemaker: each signal design section 2 names matches alone, with its workload", () => {
  const cases: [string, Parameters<typeof snap>[0], string, string | null][] = [
    [
      "TRAINING_JOB_ARN",
      { env: { TRAINING_JOB_ARN: "arn:aws:sagemaker:us-east-1:1:training-job/j" } },
      "sagemaker-training",
      "training-job",
    ],
    // New Studio spaces set SAGEMAKER_APP_TYPE and SAGEMAKER_SPACE_NAME (reference/sagemaker.md section 0).
    [
      "SAGEMAKER_APP_TYPE JupyterLab",
      { env: { SAGEMAKER_APP_TYPE: "JupyterLab" } },
      "sagemaker-notebook",
      "jupyterlab",
    ],
    [
      "SAGEMAKER_APP_TYPE CodeEditor",
      { env: { SAGEMAKER_APP_TYPE: "CodeEditor" } },
      "sagemaker-notebook",
      "code-editor",
    ],
    [
      "SAGEMAKER_SPACE_NAME",
      { env: { SAGEMAKER_SPACE_NAME: "s" } },
      "sagemaker-notebook",
      "studio",
    ],
    // The first argument with the model folder SageMaker mounts: single-model or multi-model.
    [
      "train with /opt/ml/model",
      { argv: ["train"], dirs: ["/opt/ml/model"] },
      "sagemaker-training",
      null,
    ],
    [
      "serve with /opt/ml/models",
      { argv: ["serve"], dirs: ["/opt/ml/models"] },
      "sagemaker-serving",
      "real-time",
    ],
  ];
  for (const [name, fields, id, variant] of cases) {
    const c = detect(new World(snap(fields))).context;
    deepEqual([c.id, c.variant], [id, variant], name);
  }
});

Deno.test("sagemaker: a processing job stays one when its Environment map holds TRAINING_JOB_NAME", () => {
  // A processing job's environment is the user's map (reference/sagemaker.md section 0):
  // an evaluation job may well name the training job it evaluates.
  const w = new World(snap({
    env: { TRAINING_JOB_NAME: "train-1" },
    files: { "/opt/ml/config/processingjobconfig.json": '{"ProcessingJobName": "eval-1"}' },
  }));
  const c = detect(w).context;
  deepEqual([c.id, c.variant], ["sagemaker-processing", "processing-job"]);
});
