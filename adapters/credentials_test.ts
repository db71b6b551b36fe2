import { deepEqual, equal } from "@std/assert";
import { planOf, withEnv, withFiles, worldOf } from "../tests/helpers.ts";
import { configFromYaml } from "../tests/config_yaml.ts";

Deno.test("credentials: the config's secretFiles opt a VAR_FILE in, as CHAMELEON_SECRET_FILES does", () => {
  const config = configFromYaml("secretFiles: [DB_PASS]\n");
  const p = planOf(
    worldOf(
      "local-unknown/docker",
      (s) =>
        withFiles({ "/run/secrets/db": "file-secret-canary\n" })(
          withEnv({ DB_PASS_FILE: "/run/secrets/db" })(s),
        ),
    ),
    config,
  );
  equal(p.env["DB_PASS"], "file-secret-canary");
  equal(p.envDisplay["DB_PASS"], "<redacted>");
  deepEqual(p.unset, ["DB_PASS_FILE"]);
});

Deno.test("credentials: an empty VAR_FILE is no file to read", () => {
  const p = planOf(
    worldOf(
      "local-unknown/docker",
      withEnv({ CHAMELEON_SECRET_FILES: "DB_PASS", DB_PASS_FILE: "" }),
    ),
  );
  equal(p.env["DB_PASS"], undefined);
  deepEqual(p.unset, []);
});

Deno.test("credentials: AWS_DEFAULT_REGION is filled from AWS_REGION on every AWS platform, and only there", () => {
  const region = (id: string) =>
    planOf(
      worldOf(id, (s) => {
        const { AWS_DEFAULT_REGION: _, ...env } = s.env;
        return { ...s, env: { ...env, AWS_REGION: "eu-west-3" } };
      }),
    ).env["AWS_DEFAULT_REGION"];
  for (
    const id of ["ecs-unknown/fargate", "aws-batch-unknown/on-ecs", "sagemaker-serving/real-time"]
  ) {
    equal(region(id), "eu-west-3", id);
  }
  for (const id of ["kubernetes-unknown/pod", "local-unknown/docker"]) {
    equal(region(id), undefined, id);
  }
});
