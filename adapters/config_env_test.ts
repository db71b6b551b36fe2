import { equal, ok } from "@std/assert";
import { InputError } from "../errors.ts";
import { caught, planOf, withDir, withEnv, worldOf } from "../tests/helpers.ts";
import type { Snapshot } from "../types.ts";
import { configFromYaml } from "../tests/config_yaml.ts";

/** The plan of a plain Docker container under an image config given as YAML. */
const planWith = (yaml: string) => planOf(worldOf("local-unknown/docker"), configFromYaml(yaml));

Deno.test("a config variable holding JSON is shown with its secret-named values replaced", () => {
  const p = planWith(
    `env:\n  set:\n    APP_CONFIG: '{"password": "cfg-json-canary", "user": "ml"}'\n` +
      `  fill:\n    PLAIN: '{"user": "ml"}'\n`,
  );
  equal(
    p.env["APP_CONFIG"],
    '{"password": "cfg-json-canary", "user": "ml"}',
    "the program gets it",
  );
  equal(p.envDisplay["APP_CONFIG"], '{"password":"<redacted>","user":"ml"}');
  equal(p.envDisplay["PLAIN"], '{"user": "ml"}', "JSON without a secret is shown as written");
  ok(p.secrets.includes("cfg-json-canary"), "logs scrub it too");
});

Deno.test("a secret-named config variable is shown redacted whole, JSON or not", () => {
  const p = planWith(
    `env:\n  set:\n    DB_PASSWORD: '{"user": "cfg-user-canary", "password": "cfg-pw-canary"}'\n` +
      `  fill:\n    API_TOKEN: 'cfg-token-canary'\n`,
  );
  equal(p.env["DB_PASSWORD"], '{"user": "cfg-user-canary", "password": "cfg-pw-canary"}');
  equal(p.envDisplay["DB_PASSWORD"], "<redacted>", "the name makes the whole value secret");
  equal(p.envDisplay["API_TOKEN"], "<redacted>");
  for (const v of ["cfg-user-canary", "cfg-pw-canary", "cfg-token-canary"]) {
    ok(p.secrets.some((s) => s.includes(v)), `logs scrub ${v}`);
  }
});

Deno.test("a cache folder the config fills stays for a uid whose HOME moves, when that uid can write it", () => {
  const config = configFromYaml("env:\n  fill:\n    HF_HOME: /opt/hf-cache\n");
  // OpenShift's random uid is in group 0: a group-writable folder of group 0 is its to write.
  const cache = (mode: string) => withDir("/opt/hf-cache", 0, 0, mode);
  const p = planOf(worldOf("kubernetes-unknown/openshift", cache("0775")), config);
  equal(p.env["HOME"], "/tmp/chameleon/home/1000650000", "HOME still moves");
  equal(p.env["HF_HOME"], "/opt/hf-cache");
  equal(p.env["TORCH_HOME"], "/tmp/chameleon/home/1000650000/.cache/torch");
  // One this uid cannot write: the move and the config disagree, and the start says so.
  const e = caught(() => planOf(worldOf("kubernetes-unknown/openshift", cache("0755")), config));
  ok(e instanceof InputError && /disagree on HF_HOME/.test(e.message), String(e));
});

Deno.test("a CPU count the config gives is kept, and the thread pools follow it", () => {
  const quota4 = (s: Snapshot): Snapshot => ({
    ...s,
    files: {
      ...s.files,
      "/sys/fs/cgroup/cpu.max": "400000 100000\n",
      "/sys/fs/cgroup/cpuset.cpus.effective": "0-7\n",
    },
  });
  for (const kind of ["set", "fill"]) {
    const p = planOf(
      worldOf("local-unknown/cgroup-v2", quota4),
      configFromYaml(`env:\n  ${kind}:\n    ML_NUM_CPUS: "2"\n`),
    );
    equal(p.env["ML_NUM_CPUS"], "2", kind);
    equal(p.env["OMP_NUM_THREADS"], "2", kind);
  }
  // No whole number of CPUs: the computed count disagrees with it.
  for (const value of ['""', '"2.5"']) {
    const e = caught(() =>
      planOf(
        worldOf("local-unknown/cgroup-v2", quota4),
        configFromYaml(`env:\n  set:\n    ML_NUM_CPUS: ${value}\n`),
      )
    );
    ok(e instanceof InputError && /disagree on ML_NUM_CPUS/.test(e.message), `${value}: ${e}`);
  }
});

Deno.test("AWS_DEFAULT_REGION follows the AWS_REGION the command gets, the config's included", () => {
  const withConfig = (yaml: string) =>
    planOf(
      worldOf("sagemaker-serving/real-time"),
      configFromYaml(yaml),
    );
  const set = withConfig("env:\n  set:\n    AWS_REGION: eu-central-1\n");
  equal(set.env["AWS_DEFAULT_REGION"], "eu-central-1");
  ok(set.env["OTEL_RESOURCE_ATTRIBUTES"]?.includes("cloud.region=eu-central-1"));
  // The toolkit's SAGEMAKER_REGION (no sagemaker_region hyperparameter here) is boto3's region too.
  const training = planOf(
    worldOf("sagemaker-training/raw-hyperparameters"),
    configFromYaml("env:\n  set:\n    AWS_REGION: eu-central-1\n"),
  );
  equal(training.env["SAGEMAKER_REGION"], "eu-central-1");
  // The config's own AWS_DEFAULT_REGION is its author's choice: no disagreement.
  const own = withConfig(
    "env:\n  set:\n    AWS_DEFAULT_REGION: ap-south-1\n",
  );
  equal(own.env["AWS_DEFAULT_REGION"], "ap-south-1");
  // A region the config only fills is a default: the platform's own may not be contradicted.
  const e = caught(() => withConfig("env:\n  fill:\n    AWS_DEFAULT_REGION: ap-south-1\n"));
  ok(e instanceof InputError && /disagree on AWS_DEFAULT_REGION/.test(e.message), String(e));
});

Deno.test("a variable the config fills keeps the value the container was given; one it sets replaces it", () => {
  const config = configFromYaml(
    "env:\n  fill:\n    APP_MODE: filled\n  set:\n    APP_LEVEL: set\n",
  );
  const given = planOf(
    worldOf("local-unknown/docker", withEnv({ APP_MODE: "given", APP_LEVEL: "given" })),
    config,
  );
  equal(given.env["APP_MODE"], undefined, "kept as given, so not listed (design section 6)");
  equal(given.env["APP_LEVEL"], "set");
  const unset = planOf(worldOf("local-unknown/docker"), config);
  equal(unset.env["APP_MODE"], "filled");
});

Deno.test("a config variable holding a JSON argument list scrubs no flag's value from the logs", () => {
  // The value of a secret-looking flag is hidden in its own word only (README): scrubbing
  // `100000` everywhere would blank it from every log line.
  const p = planWith(`env:\n  set:\n    ARGS: '["--max-new-tokens", "100000", "--token=abc"]'\n`);
  equal(p.env["ARGS"], '["--max-new-tokens", "100000", "--token=abc"]');
  equal(p.secrets.includes("100000") || p.secrets.includes("abc"), false, String(p.secrets));
});

Deno.test("a port the config fills goes over a Service's link variable of that name", () => {
  // A pod in a namespace with a Service named statsd: the kubelet's link variables, and the
  // image's own StatsD port (a Dockerfile ENV would be overridden by them, this fill is not).
  const config = configFromYaml("env:\n  fill:\n    STATSD_PORT: '9125'\n    REDIS_PORT: '6380'\n");
  const links = withEnv({
    STATSD_SERVICE_HOST: "10.96.7.1",
    STATSD_SERVICE_PORT: "8125",
    STATSD_PORT: "udp://10.96.7.1:8125",
    STATSD_PORT_8125_UDP: "udp://10.96.7.1:8125",
    STATSD_PORT_8125_UDP_PROTO: "udp",
    STATSD_PORT_8125_UDP_PORT: "8125",
    STATSD_PORT_8125_UDP_ADDR: "10.96.7.1",
    // A port the container was given is the user's, whatever the service links say.
    REDIS_PORT: "6379",
  });
  const p = planOf(worldOf("kubernetes-unknown/pod", links), config);
  equal(p.env["STATSD_PORT"], "9125");
  ok(
    p.warnings.includes(
      'STATSD_PORT "udp://10.96.7.1:8125" is the link variable of a Service (or docker link) named statsd, not a port: set to 9125',
    ),
    p.warnings.join("\n"),
  );
  equal("REDIS_PORT" in p.env, false);
  // The other link variables are not ports chameleon reads or fills: left alone.
  equal(Object.keys(p.env).some((n) => n.startsWith("STATSD_PORT_")), false);
});

Deno.test("a port the config sets replaces a Service's link variable without a warning, as any value", () => {
  const config = configFromYaml("env:\n  set:\n    REDIS_PORT: '6380'\n");
  const links = withEnv({
    REDIS_SERVICE_HOST: "10.96.12.7",
    REDIS_SERVICE_PORT: "6379",
    REDIS_PORT: "tcp://10.96.12.7:6379",
  });
  const p = planOf(worldOf("kubernetes-unknown/pod", links), config);
  equal(p.env["REDIS_PORT"], "6380");
  equal(p.warnings.some((w) => w.includes("REDIS_PORT")), false, p.warnings.join("\n"));
});
