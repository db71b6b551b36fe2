import { deepEqual, equal, ok } from "@std/assert";
import { DEFAULT_CONFIG, settingsFor } from "../config.ts";
import { detect } from "../contexts/mod.ts";
import { InputError } from "../errors.ts";
import {
  caught,
  planOf,
  runEntrypoint,
  tempDir,
  withEnv,
  withFiles,
  worldOf,
} from "../tests/helpers.ts";
import { configFromYaml } from "../tests/config_yaml.ts";
import type { Snapshot } from "../types.ts";
import { awsDefaultRegion, secretFilePaths } from "./credentials.ts";

/** A local docker start whose DB_PASS_FILE names /run/secrets/db, holding `text`; more variables in `env`. */
function withSecretFile(text: string, env: Record<string, string> = {}) {
  return (s: Snapshot) =>
    withFiles({ "/run/secrets/db": text })(
      withEnv({ DB_PASS_FILE: "/run/secrets/db", ...env })(s),
    );
}

Deno.test("credentials: the config's secretFiles opt a VAR_FILE in, as CHAMELEON_SECRET_FILES does", () => {
  const config = configFromYaml("secretFiles: [DB_PASS]\n");
  const p = planOf(
    worldOf(
      "local-unknown/docker",
      withSecretFile("file-secret-canary\n"),
    ),
    config,
  );
  equal(p.env["DB_PASS"], "file-secret-canary");
  equal(p.envDisplay["DB_PASS"], "<redacted>");
  deepEqual(p.unset, ["DB_PASS_FILE"]);
});

Deno.test("credentials: a config fill under a value the user gives through an opted-in VAR_FILE does nothing", () => {
  const config = configFromYaml(
    "secretFiles: [HF_TOKEN]\nenv:\n  fill:\n    HF_TOKEN: image-default\n",
  );
  const withFile = (s: Snapshot) =>
    withFiles({ "/run/secrets/hf": "hf-file-canary\n" })(
      withEnv({ HF_TOKEN_FILE: "/run/secrets/hf" })(s),
    );
  // Not "adapters credentials and config-env disagree" (exit 78): the file's value is the user's.
  const p = planOf(worldOf("local-unknown/docker", withFile), config);
  equal(p.env["HF_TOKEN"], "hf-file-canary");
  // Without the file, the image's fill comes in.
  equal(planOf(worldOf("local-unknown/docker"), config).env["HF_TOKEN"], "image-default");
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

Deno.test("credentials: a file-given secret is known to the plan (scrubbed from logs) and hidden in the command", () => {
  const p = planOf(
    worldOf("local-unknown/docker", (s) => ({
      ...withSecretFile("file-secret-canary\n", { CHAMELEON_SECRET_FILES: "DB_PASS" })(s),
      argv: ["app", "--db", "file-secret-canary"],
    })),
  );
  ok(p.secrets.includes("file-secret-canary"), JSON.stringify(p.secrets));
  // The command gets the real word; --explain shows it hidden.
  deepEqual(p.command, ["app", "--db", "file-secret-canary"]);
  deepEqual(p.commandDisplay, ["app", "--db", "<redacted>"]);
});

Deno.test("credentials: secretFilePaths() names the files of opted-in variables that are set, and no others", () => {
  const world = worldOf(
    "local-unknown/docker",
    withEnv({
      CHAMELEON_SECRET_FILES: "DB_PASS,API_PASS,EMPTY_PASS",
      DB_PASS_FILE: "/run/secrets/db",
      EMPTY_PASS_FILE: "",
      TLS_KEY_FILE: "/run/secrets/tls",
      SSL_CERT_FILE: "/etc/ssl/cert.pem",
    }),
  );
  // The config's list, then CHAMELEON_SECRET_FILES; API_PASS has no file, EMPTY_PASS an empty one.
  deepEqual(secretFilePaths(world, configFromYaml("secretFiles: [TLS_KEY]\n")), [
    "/run/secrets/tls",
    "/run/secrets/db",
  ]);
  // Not opted in: SSL_CERT_FILE, and TLS_KEY_FILE without the config's list.
  deepEqual(secretFilePaths(world, DEFAULT_CONFIG), ["/run/secrets/db"]);
});

Deno.test("credentials: awsDefaultRegion() is the AWS_DEFAULT_REGION given, else AWS_REGION on AWS platforms only", () => {
  const region = (id: string, env: Record<string, string>, yaml = "{}\n") => {
    const world = worldOf(id, (s) => {
      const { AWS_DEFAULT_REGION: _d, AWS_REGION: _r, ...rest } = s.env;
      return { ...s, env: { ...rest, ...env } };
    });
    const config = configFromYaml(yaml);
    const detection = detect(world, { defaultWorkload: (p) => config.defaultWorkload[p] });
    const { settings, matched } = settingsFor(config, detection.context.id);
    return awsDefaultRegion({
      world,
      detection,
      config,
      settings,
      runtimeDir: "/run/chameleon",
      overridesMatched: matched,
    });
  };
  equal(region("ecs-unknown/fargate", { AWS_REGION: "eu-west-3" }), "eu-west-3");
  equal(region("local-unknown/docker", { AWS_REGION: "eu-west-3" }), undefined);
  // The one given wins, wherever it comes from: the container's, the image config's.
  equal(
    region("local-unknown/docker", { AWS_REGION: "eu-west-3", AWS_DEFAULT_REGION: "us-east-2" }),
    "us-east-2",
  );
  equal(
    region(
      "ecs-unknown/fargate",
      { AWS_REGION: "eu-west-3" },
      "env:\n  set:\n    AWS_DEFAULT_REGION: ap-south-1\n",
    ),
    "ap-south-1",
  );
});

Deno.test("credentials: a config-given AWS_DEFAULT_REGION is kept; one it only fills may not contradict AWS_REGION", () => {
  const world = worldOf("ecs-unknown/fargate", (s) => {
    const { AWS_DEFAULT_REGION: _, ...env } = s.env;
    return { ...s, env: { ...env, AWS_REGION: "eu-west-3" } };
  });
  const set = planOf(world, configFromYaml("env:\n  set:\n    AWS_DEFAULT_REGION: ap-south-1\n"));
  equal(set.env["AWS_DEFAULT_REGION"], "ap-south-1");
  // Exit 78, naming both adapters and both values.
  const e = caught(() =>
    planOf(world, configFromYaml("env:\n  fill:\n    AWS_DEFAULT_REGION: ap-south-1\n"))
  );
  if (!(e instanceof InputError)) throw e;
  equal(
    e.message,
    'Adapters credentials and config-env disagree on AWS_DEFAULT_REGION: "eu-west-3" vs "ap-south-1"',
  );
});

Deno.test("credentials: an opted-in VAR_FILE whose file is empty gives nothing, so fills come in as under an empty VAR", () => {
  // The config's fill: not "adapters credentials and config-env disagree" (exit 78).
  const config = configFromYaml(
    "secretFiles: [HF_TOKEN]\nenv:\n  fill:\n    HF_TOKEN: image-default\n",
  );
  const empty = (env: Record<string, string>) => (s: Snapshot) =>
    withFiles({ "/run/secrets/empty": "\n" })(withEnv(env)(s));
  const p = planOf(
    worldOf("local-unknown/docker", empty({ HF_TOKEN_FILE: "/run/secrets/empty" })),
    config,
  );
  equal(p.env["HF_TOKEN"], "image-default");
  deepEqual(p.unset, ["HF_TOKEN_FILE"]);
  // The region filled from AWS_REGION, not an empty AWS_DEFAULT_REGION over it; and the plan
  // gives what awsDefaultRegion() already says the command gets.
  const world = worldOf("ecs-unknown/fargate", (s) => {
    const { AWS_DEFAULT_REGION: _, ...env } = s.env;
    return empty({
      AWS_REGION: "eu-west-3",
      CHAMELEON_SECRET_FILES: "AWS_DEFAULT_REGION",
      AWS_DEFAULT_REGION_FILE: "/run/secrets/empty",
    })({ ...s, env });
  });
  const r = planOf(world);
  equal(r.env["AWS_DEFAULT_REGION"], "eu-west-3");
  deepEqual(r.unset, ["AWS_DEFAULT_REGION_FILE"]);
});

Deno.test("credentials: a CHAMELEON_SECRET_FILES item that names no variable is exit 78 naming it, not ignored", () => {
  for (
    const [list, item] of [
      ["DB_PASS API_TOKEN", "DB_PASS API_TOKEN"],
      ["DB_PASS,db-pass", "db-pass"],
      ["1PASS", "1PASS"],
    ]
  ) {
    const e = caught(() =>
      planOf(
        worldOf(
          "local-unknown/docker",
          withSecretFile("file-secret-canary\n", { CHAMELEON_SECRET_FILES: list! }),
        ),
      )
    );
    if (!(e instanceof InputError)) throw e;
    equal(
      e.message,
      `Variable CHAMELEON_SECRET_FILES: item ${
        JSON.stringify(item)
      }: expected a variable name ([A-Za-z_][A-Za-z0-9_]*), items separated by commas`,
    );
  }
  // Blanks around items and empty items are no names to refuse.
  const p = planOf(
    worldOf(
      "local-unknown/docker",
      withSecretFile("file-secret-canary\n", { CHAMELEON_SECRET_FILES: " DB_PASS ,, DB_PASS," }),
    ),
  );
  equal(p.env["DB_PASS"], "file-secret-canary");
});

Deno.test("credentials: a secret file that is not UTF-8 is exit 78 naming it, not a value with U+FFFD", async () => {
  // What a read of the bytes gives (invalid bytes decode to U+FFFD): refused, without the value.
  const e = caught(() =>
    planOf(
      worldOf(
        "local-unknown/docker",
        withSecretFile("p\uFFFDss-canary\n", { CHAMELEON_SECRET_FILES: "DB_PASS" }),
      ),
    )
  );
  if (!(e instanceof InputError)) throw e;
  equal(
    e.message,
    "Variable DB_PASS_FILE: file /run/secrets/db: expected UTF-8 text; it holds bytes that are not UTF-8 (or U+FFFD)",
  );
  // A real start, with a password saved in Latin-1: the command never runs.
  using tmp = tempDir();
  Deno.writeFileSync(`${tmp.path}/db`, new Uint8Array([0x70, 0xe4, 0x73, 0x73, 0x0a]));
  const r = await runEntrypoint(["sh", "-c", 'printf "%s" "$DB_PASS"'], {
    env: { CHAMELEON_SECRET_FILES: "DB_PASS", DB_PASS_FILE: `${tmp.path}/db` },
  });
  equal(r.code, 78, r.stderr);
  equal(r.stdout, "");
  ok(
    r.stderr.includes(`Variable DB_PASS_FILE: file ${tmp.path}/db: expected UTF-8 text`),
    r.stderr,
  );
});

Deno.test("credentials: a secret file execve cannot pass (a NUL, too large) is exit 78 naming the file, not the variable", () => {
  const planWith = (text: string) =>
    caught(() =>
      planOf(
        worldOf(
          "local-unknown/docker",
          withSecretFile(text, { CHAMELEON_SECRET_FILES: "DB_PASS" }),
        ),
      )
    );
  const nul = planWith("p\0ss-canary\n");
  if (!(nul instanceof InputError)) throw nul;
  equal(
    nul.message,
    "Variable DB_PASS_FILE: file /run/secrets/db: expected text without NUL (execve would cut it there)",
  );
  const big = planWith("x".repeat(200_000));
  if (!(big instanceof InputError)) throw big;
  equal(
    big.message,
    "Variable DB_PASS_FILE: file /run/secrets/db: DB_PASS would be 200009 bytes with its terminating NUL: larger than the 131072 bytes execve accepts",
  );
});

Deno.test("credentials: 4,000 opted-in variables with files each get theirs, and one world planned under two configs opts in each one's", () => {
  const n = 4000;
  const env: Record<string, string> = {
    CHAMELEON_SECRET_FILES: Array.from({ length: n }, (_, i) => `SEC${i}_PASSWORD`).join(","),
  };
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    env[`SEC${i}_PASSWORD_FILE`] = `/run/secrets/s${i}`;
    files[`/run/secrets/s${i}`] = `pw-${i}-canary\n`;
  }
  const world = worldOf("local-unknown/docker", (s) => withFiles(files)(withEnv(env)(s)));
  const p = planOf(world);
  const secrets = new Set(p.secrets);
  for (let i = 0; i < n; i++) {
    equal(p.env[`SEC${i}_PASSWORD`], `pw-${i}-canary`);
    ok(secrets.has(`pw-${i}-canary`));
  }
  equal(p.unset.filter((u) => /^SEC\d+_PASSWORD_FILE$/.test(u)).length, n);

  // The opted-in list is the config's own: a second config on the same world adds DB_PASS.
  const db = worldOf("local-unknown/docker", withSecretFile("db-canary\n", { API_KEY: "x" }));
  equal(planOf(db).env["DB_PASS"], undefined);
  equal(planOf(db, configFromYaml("secretFiles: [DB_PASS]\n")).env["DB_PASS"], "db-canary");
  equal(planOf(db).env["DB_PASS"], undefined);
  deepEqual(secretFilePaths(db, configFromYaml("secretFiles: [DB_PASS]\n")), ["/run/secrets/db"]);
  deepEqual(secretFilePaths(db, DEFAULT_CONFIG), []);
});
