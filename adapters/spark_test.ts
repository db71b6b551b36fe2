import { deepEqual, equal, ok } from "@std/assert";
import { DEFAULT_CONFIG, type ImageConfig, toImageConfig } from "../config.ts";
import { InputError } from "../errors.ts";
import {
  caught,
  fixture,
  planFixture,
  ROOT,
  withEnv,
  withFiles,
  worldOf,
} from "../tests/helpers.ts";
import type { Plan, Snapshot } from "../types.ts";
import {
  hideXmlSecrets,
  parseSparkDefaults,
  spark,
  xmlElement,
  xmlProperties,
  xmlSetAside,
} from "./spark.ts";
import { scrub, secretForms } from "../secrets.ts";
import { configFromYaml } from "../tests/config_yaml.ts";

const SPARK: ImageConfig = toImageConfig({
  spark: {
    enabled: true,
    kubernetes: { serviceAccount: "spark", executorImage: "registry.example.com/ml-spark:1" },
  },
});

const sparkPlanOf = (id: string, change?: (s: Snapshot) => Snapshot, config = SPARK): Plan =>
  planFixture(id, change, config);
const conf = (p: Plan) =>
  p.files.find((f) => f.path.endsWith("/spark-conf/spark-defaults.conf"))?.content ?? "";

/** Property names of Spark's documentation tables (tests/data/spark-properties.txt). */
const KNOWN = Deno.readTextFileSync(`${ROOT}/tests/data/spark-properties.txt`).split("\n")
  .filter((l) => l.startsWith("spark."))
  .map((n) =>
    new RegExp("^" + n.replace(/\./g, "\\.").replace(/\{[^}]+\}|\[[^\]]+\]/g, "[^.]+") + "$")
  );

const CASES: [string, string, (s: Snapshot) => Snapshot][] = [
  ["local", "local-unknown/cgroup-v2", (s) => s],
  ["notebook", "local-notebook/argv-notebook", (s) => s],
  ["kubernetes", "kubernetes-unknown/pod", (s) => s],
  ["sagemaker-single-host", "sagemaker-training/single-host", (s) => s],
  ["sagemaker-primary", "sagemaker-processing/processing-job", (s) => s],
  [
    "sagemaker-worker",
    "sagemaker-processing/processing-job",
    withFiles({
      "/opt/ml/config/resourceconfig.json": '{"current_host":"algo-2","hosts":["algo-1","algo-2"]}',
    }),
  ],
];

for (const [name, fixture, change] of CASES) {
  Deno.test(`spark: generated spark-defaults.conf for ${name} matches tests/golden/spark/${name}.conf`, () => {
    const p = sparkPlanOf(
      fixture,
      (s) => ({ ...change(s), env: { ...change(s).env, CHAMELEON_RUNTIME_DIR: "/run/chameleon" } }),
    );
    equal(conf(p), Deno.readTextFileSync(`${ROOT}/tests/golden/spark/${name}.conf`));
    equal(p.env["SPARK_CONF_DIR"], "/run/chameleon/spark-conf");
  });
}

Deno.test("spark: every generated property is a real Spark property (documentation tables)", () => {
  const names = new Set<string>();
  const withJars = (s: Snapshot): Snapshot => ({
    ...s,
    env: { ...s.env, SPARK_JAVA_OPT_0: "-Dx=1", KUBERNETES_SERVICE_PORT: "443" },
    files: { ...s.files, "/opt/spark/extra-jars/delta.jar": "" },
  });
  for (const [, fixture, change] of CASES) {
    for (
      const k of parseSparkDefaults(conf(sparkPlanOf(fixture, (s) => withJars(change(s))))).keys()
    ) {
      names.add(k);
    }
  }
  ok(names.size >= 12, [...names].join(","));
  for (const n of names) {
    ok(KNOWN.some((re) => re.test(n)), `${n} is not in Spark's property tables`);
  }
});

Deno.test("spark: the user's spark-defaults.conf entries and SPARK_* variables win and are reported", () => {
  const p = sparkPlanOf("kubernetes-unknown/pod", (s) => ({
    ...s,
    env: { ...s.env, SPARK_DRIVER_MEMORY: "3g" },
    files: {
      ...s.files,
      "/opt/spark/conf/spark-defaults.conf":
        "# mine\nspark.master k8s://https://custom:6443\nspark.eventLog.enabled=true\n",
    },
  }));
  const props = parseSparkDefaults(conf(p));
  equal(props.get("spark.master"), "k8s://https://custom:6443");
  equal(props.get("spark.eventLog.enabled"), "true");
  deepEqual((p.notes["spark"] as { userKept: string[] }).userKept, [
    "spark.master (spark-defaults.conf)",
  ]);
  const memory = sparkPlanOf(
    "local-unknown/cgroup-v2",
    (s) => ({ ...s, env: { ...s.env, SPARK_DRIVER_MEMORY: "3g" } }),
  );
  equal(parseSparkDefaults(conf(memory)).has("spark.driver.memory"), false);
  deepEqual((memory.notes["spark"] as { userKept: string[] }).userKept, [
    "spark.driver.memory (SPARK_DRIVER_MEMORY)",
  ]);
});

Deno.test("spark: the user's SPARK_LOCAL_HOSTNAME or SPARK_LOCAL_IP keeps Spark's own driver host", () => {
  const kept = (p: Plan) => (p.notes["spark"] as { userKept?: string[] }).userKept ?? [];
  const ours = sparkPlanOf("kubernetes-unknown/pod");
  ok(parseSparkDefaults(conf(ours)).has("spark.driver.host"));
  const name = sparkPlanOf(
    "kubernetes-unknown/pod",
    withEnv({ SPARK_LOCAL_HOSTNAME: "nb-driver.ml.svc.cluster.local" }),
  );
  equal(parseSparkDefaults(conf(name)).has("spark.driver.host"), false);
  deepEqual(kept(name), ["spark.driver.host (SPARK_LOCAL_HOSTNAME)"]);
  const ip = sparkPlanOf("kubernetes-unknown/pod", withEnv({ SPARK_LOCAL_IP: "10.0.0.99" }));
  const props = parseSparkDefaults(conf(ip));
  deepEqual([props.has("spark.driver.host"), props.has("spark.driver.bindAddress")], [
    false,
    false,
  ]);
  deepEqual(kept(ip), [
    "spark.driver.host (SPARK_LOCAL_IP)",
    "spark.driver.bindAddress (SPARK_LOCAL_IP)",
  ]);
  // The driver of a SageMaker multi-host job too.
  const sm = sparkPlanOf(
    "sagemaker-processing/processing-job",
    withEnv({ SPARK_LOCAL_HOSTNAME: "algo-1.internal" }),
  );
  equal(parseSparkDefaults(conf(sm)).has("spark.driver.host"), false);
});

Deno.test("spark: a user SPARK_CONF_DIR is left alone, and --explain says the properties are not applied", () => {
  const p = sparkPlanOf(
    "local-unknown/cgroup-v2",
    (s) => ({ ...s, env: { ...s.env, SPARK_CONF_DIR: "/etc/spark" } }),
  );
  equal("SPARK_CONF_DIR" in p.env, false);
  equal(conf(p), "");
  ok(p.warnings.some((w) => /SPARK_CONF_DIR=\/etc\/spark is set/.test(w)));
  // Their folder is still read (and captured): its secrets are the plan's as well.
  const own = sparkPlanOf("local-unknown/cgroup-v2", (s) => ({
    ...withFiles({
      "/etc/spark/spark-env.sh": "export AWS_SECRET_ACCESS_KEY=env-sh-canary\n",
      "/etc/spark/core-site.xml":
        "<configuration><property><name>fs.s3a.secret.key</name><value>xml-canary</value></property></configuration>\n",
    })(s),
    env: { ...s.env, SPARK_CONF_DIR: "/etc/spark" },
  }));
  equal(own.files.length, 0);
  for (const v of ["env-sh-canary", "xml-canary"]) ok(own.secrets.includes(v), v);
});

Deno.test("spark: no generated conf folder in a runtime dir the command's uid cannot reach, with a warning", () => {
  // Root switching to uid 2000 over root's 0700 /run/chameleon (an earlier start's): Spark, as
  // uid 2000, would find no conf folder, and run without the generated properties or the image's.
  const closed = (mode: string) => (s: Snapshot): Snapshot => ({
    ...s,
    uid: 0,
    gid: 0,
    groups: [0],
    env: { ...s.env, CHAMELEON_USER: "2000:2000" },
    dirs: [...s.dirs, "/run/chameleon"],
    stat: { ...s.stat, "/run/chameleon": { uid: 0, gid: 0, mode } },
  });
  const p = sparkPlanOf("local-unknown/cgroup-v2", closed("0700"));
  equal(p.runtimeDir, "/run/chameleon");
  equal("SPARK_CONF_DIR" in p.env, false);
  deepEqual(p.dirs.filter((d) => d.path.includes("spark-conf")), []);
  equal(conf(p), "");
  ok(
    p.warnings.includes(
      "the runtime dir /run/chameleon is out of reach of uid 2000 (/run/chameleon is 0700, owner 0:0): the generated Spark properties are not applied (Spark reads its own conf folder)",
    ),
    p.warnings.join("; "),
  );
  const open = sparkPlanOf("local-unknown/cgroup-v2", closed("0755"));
  equal(open.env["SPARK_CONF_DIR"], "/run/chameleon/spark-conf");
});

Deno.test("spark: the image's other conf files come along into the generated folder as links", () => {
  const withConf = (s: Snapshot) => ({
    ...withFiles({
      "/opt/spark/conf/spark-env.sh": "export SPARK_LOG_DIR=/tmp\n",
      "/opt/spark/conf/log4j2.properties": "rootLogger.level=warn\n",
    })(s),
    // A keystore too large for the snapshot: linked all the same, never copied as text.
    unreadable: { "/opt/spark/conf/spark.jks": "larger than 1048576 bytes" },
  });
  const p = sparkPlanOf("local-unknown/cgroup-v2", withConf);
  deepEqual(p.files.map((f) => f.path), ["/run/chameleon/spark-conf/spark-defaults.conf"]);
  deepEqual(
    p.steps.filter((s) => s.step === "link"),
    [
      "log4j2.properties",
      "spark-env.sh",
      "spark.jks",
    ].map((name) => ({
      step: "link",
      path: `/run/chameleon/spark-conf/${name}`,
      target: `/opt/spark/conf/${name}`,
    })),
  );
});

Deno.test("spark: an image spark-defaults.conf that cannot be read is exit 78, not left out", () => {
  const unreadable = (s: Snapshot) => ({
    ...s,
    unreadable: { "/opt/spark/conf/spark-defaults.conf": "larger than 1048576 bytes" },
  });
  const e = caught(() => sparkPlanOf("local-unknown/cgroup-v2", unreadable));
  if (!(e instanceof InputError)) throw new Error(`expected exit 78, got ${e}`);
  equal(e.message, "File /opt/spark/conf/spark-defaults.conf: larger than 1048576 bytes");
  // In the user's own SPARK_CONF_DIR nothing is generated from it: Spark reads it as it is.
  const own = sparkPlanOf("local-unknown/cgroup-v2", (s) => ({
    ...s,
    env: { ...s.env, SPARK_CONF_DIR: "/etc/spark" },
    unreadable: { "/etc/spark/spark-defaults.conf": "permission denied" },
  }));
  equal(own.files.length, 0);
});

Deno.test("spark: on a SageMaker multi-host job, the plan names each host's role and supervises", () => {
  const p = sparkPlanOf("sagemaker-processing/processing-job");
  deepEqual((p.notes["spark"] as { roles: Record<string, string> }).roles, {
    "algo-1": "master and worker; runs the command, then stops the cluster",
    "algo-2": "worker; exits 0 when the master is gone",
  });
  const step = p.steps.find((s) => s.step === "spark-cluster");
  if (step === undefined || step.step !== "spark-cluster") throw new Error("no spark-cluster step");
  deepEqual([step.role, step.master, step.masterPort, step.hosts], ["primary", "algo-1", 7077, [
    "algo-1",
    "algo-2",
  ]]);
  equal(p.mode, "supervise");
  const off = sparkPlanOf("sagemaker-processing/processing-job", (s) => s, toImageConfig({}));
  equal(off.steps.some((s) => s.step === "spark-cluster"), false, "only with spark enabled");
});

Deno.test("spark: a standalone cluster under a user switch warns that its executors run as the entrypoint's uid", () => {
  const warned = (p: Plan) => p.warnings.filter((w) => w.startsWith("Spark standalone cluster:"));
  // SageMaker stays root by default: the command and the cluster run as one uid.
  deepEqual(warned(sparkPlanOf("sagemaker-processing/processing-job")), []);
  const switched = sparkPlanOf(
    "sagemaker-processing/processing-job",
    withEnv({ CHAMELEON_USER: "1000:100" }),
  );
  deepEqual(warned(switched), [
    "Spark standalone cluster: the master and worker run as uid 0, the entrypoint's, not as uid 1000, the command's: executors run its tasks as uid 0",
  ]);
});

Deno.test("spark: spark-defaults.conf is read and written as Java properties (continuations, escapes)", () => {
  const user = [
    "# comment",
    "  ! another",
    "spark.driver.extraClassPath /opt/a.jar:\\",
    "    /opt/b.jar",
    "spark.app.name: my app ",
    "spark.x=\\u0041\\tB",
    "spark.y",
  ].join("\n");
  deepEqual([...parseSparkDefaults(user)], [
    ["spark.driver.extraClassPath", "/opt/a.jar:/opt/b.jar"],
    ["spark.app.name", "my app "],
    ["spark.x", "A\tB"],
    ["spark.y", ""],
  ]);
  // Values that need escapes survive a round trip through the generated file.
  const p = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withFiles({
      "/opt/spark/conf/spark-defaults.conf": [
        "spark.a C:\\\\users\\\\x",
        "spark.b \\ leading",
        "spark.c line\\nbreak",
        "spark.d \\u00e9t\\u00e9",
        "spark.e ==x",
        "=empty key",
      ].join("\n"),
    }),
  );
  const back = parseSparkDefaults(conf(p));
  deepEqual(
    ["spark.a", "spark.b", "spark.c", "spark.d", "spark.e", ""].map((k) => back.get(k)),
    ["C:\\users\\x", " leading", "line\nbreak", "\u00e9t\u00e9", "=x", "empty key"],
  );
  ok(conf(p).includes("spark.a C:\\\\users\\\\x\n"), conf(p));
});

Deno.test("spark: SPARK_JAVA_OPT_<n> go into the JVM options in numeric order, one quoted word each when needed", () => {
  const p = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withEnv({
      SPARK_JAVA_OPT_10: "-Dmsg=hello world",
      SPARK_JAVA_OPT_2: '-Dq="x"\\y',
      SPARK_JAVA_OPT_0: "-Dplain",
    }),
  );
  // Spark splits these options like a shell: blanks, quotes and backslashes go in double quotes.
  equal(
    parseSparkDefaults(conf(p)).get("spark.driver.extraJavaOptions"),
    '-Dplain "-Dq=\\"x\\"\\\\y" "-Dmsg=hello world"',
  );
});

Deno.test("spark: the primary's worker offers the memory the driver leaves; no heap under 512m", () => {
  const limit = withFiles({
    "/sys/fs/cgroup/memory/memory.limit_in_bytes": `${16 * 1024 ** 3}\n`,
  });
  const step = (p: Plan) =>
    p.steps.find((s) => s.step === "spark-cluster") as { workerMemory?: string };
  const primary = sparkPlanOf("sagemaker-processing/processing-job", limit);
  const props = parseSparkDefaults(conf(primary));
  deepEqual([props.get("spark.driver.memory"), props.get("spark.executor.memory")], [
    "8192m",
    "11468m",
  ]);
  equal(step(primary).workerMemory, "4915m", "16 GiB x (0.8 - 0.5): no executor beside the driver");
  const worker = sparkPlanOf(
    "sagemaker-processing/processing-job",
    (s) =>
      limit(
        withFiles({
          "/opt/ml/config/resourceconfig.json":
            '{"current_host":"algo-2","hosts":["algo-1","algo-2"]}',
        })(s),
      ),
  );
  equal(step(worker).workerMemory, "13107m");
  const small = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withFiles({ "/sys/fs/cgroup/memory.max": `${768 * 1024 ** 2}\n` }),
  );
  equal(parseSparkDefaults(conf(small)).get("spark.driver.memory"), "512m");
});

Deno.test("spark.dynamicPaths records the folders an override names, not only the base ones", () => {
  const config = configFromYaml(
    "overrides:\n  - match: 'kubernetes-*'\n    spark: {enabled: true, home: /srv/spark, jarsDir: /srv/jars}\n",
  );
  const paths = spark.dynamicPaths!(worldOf("local-unknown/docker"), config).map((d) => d.path)
    .filter((p) => !p.endsWith("/spark-conf"));
  deepEqual(paths, ["/srv/spark/conf", "/srv/jars"], "the base has Spark off: only the override");
  // Settings split across two overrides meet in the contexts both match.
  const split = configFromYaml(
    "overrides:\n  - match: '*'\n    spark: {enabled: true}\n  - match: 'kubernetes-*'\n    spark: {jarsDir: /srv/jars}\n",
  );
  const both = spark.dynamicPaths!(worldOf("local-unknown/docker"), split).map((d) => d.path);
  ok(both.includes("/srv/jars"), both.join());
});

Deno.test("spark: the user's PYSPARK_DRIVER_PYTHON still picks the driver's Python", () => {
  // Spark reads spark.pyspark.python before PYSPARK_DRIVER_PYTHON: the variable becomes a property.
  const p = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withEnv({ PYSPARK_DRIVER_PYTHON: "/opt/venv/bin/python" }),
  );
  equal(parseSparkDefaults(conf(p)).get("spark.pyspark.driver.python"), "/opt/venv/bin/python");
  equal(
    parseSparkDefaults(conf(sparkPlanOf("local-unknown/cgroup-v2"))).has(
      "spark.pyspark.driver.python",
    ),
    false,
  );
});

Deno.test("spark: a secret-named property is applied but shown redacted, and scrubbed from logs", () => {
  const p = sparkPlanOf("local-unknown/cgroup-v2", (s) => ({
    ...s,
    files: {
      ...s.files,
      "/opt/spark/conf/spark-defaults.conf": "spark.hadoop.fs.s3a.secret.key s3a-canary-1\n",
    },
  }));
  equal(parseSparkDefaults(conf(p)).get("spark.hadoop.fs.s3a.secret.key"), "s3a-canary-1");
  const file = p.files.find((f) => f.path.endsWith("/spark-defaults.conf"))!;
  ok(file.display?.includes("spark.hadoop.fs.s3a.secret.key <redacted>"), file.display);
  const props = (p.notes["spark"] as { properties: Record<string, string> }).properties;
  equal(props["spark.hadoop.fs.s3a.secret.key"], "<redacted>");
  ok(p.secrets.includes("s3a-canary-1"));
});

Deno.test("spark: a generated spark-defaults.conf holding a secret is 0600, given to the command's user when root switches", () => {
  const secret = (s: Snapshot): Snapshot => ({
    ...s,
    files: {
      ...s.files,
      "/opt/spark/conf/spark-defaults.conf": "spark.hadoop.fs.s3a.secret.key s3a-canary-1\n",
    },
  });
  const file = (p: Plan) => p.files.find((f) => f.path.endsWith("/spark-defaults.conf"))!;
  // Root running the command itself: 0600, root's.
  const asRoot = file(sparkPlanOf("local-unknown/cgroup-v2", (s) => ({ ...secret(s), uid: 0 })));
  deepEqual([asRoot.mode, asRoot.owner], ["0600", undefined]);
  // Root switching to 1234:1234: the file is that user's, as the command reads it.
  const switched = file(sparkPlanOf(
    "local-unknown/cgroup-v2",
    (s) => withEnv({ CHAMELEON_USER: "1234:1234" })({ ...secret(s), uid: 0 }),
  ));
  deepEqual([switched.mode, switched.owner], ["0600", { uid: 1234, gid: 1234 }]);
  // Not root: the file is this uid's anyway.
  const own = file(sparkPlanOf("local-unknown/cgroup-v2", (s) => ({ ...secret(s), uid: 4242 })));
  deepEqual([own.mode, own.owner], ["0600", undefined]);
});

Deno.test("spark: an IPv6 API server goes into the master URL in brackets", () => {
  const p = sparkPlanOf(
    "kubernetes-unknown/pod",
    withEnv({ KUBERNETES_SERVICE_HOST: "fd00:10:96::1" }),
  );
  equal(parseSparkDefaults(conf(p)).get("spark.master"), "k8s://https://[fd00:10:96::1]:443");
});

Deno.test("spark: secret-named entries of the copied conf files are the plan's secrets (explain, logs and captures hide them)", () => {
  const sparkFiles: Record<string, string> = {
    "/opt/spark/conf/spark-env.sh": "export SPARK_LOG_DIR=/tmp\n" +
      "export AWS_SECRET_ACCESS_KEY='sh-canary-1'\nDB_PASSWORD=sh-canary-2\n" +
      "export AWS_ACCESS_KEY_ID=AKIA AWS_SESSION_TOKEN=sh-canary-14 # a comment\n" +
      'declare -x HIVE_PASSWORD="sh canary 15"\nAPI_TOKEN=sh-canary-16 ./start.sh\n',
    "/opt/spark/conf/core-site.xml": "<configuration><property>\n" +
      "  <name>fs.s3a.secret.key</name>\n  <value>xml-canary-3</value>\n</property><property>\n" +
      "  <name>fs.s3a.endpoint</name><value>http://minio:9000</value>\n</property></configuration>\n",
    "/opt/spark/conf/metrics.properties": "sink.token = props-canary-4\nsink.period=10\n",
    "/opt/spark/conf/spark-defaults.conf":
      "spark.driver.extraJavaOptions -Dapi.token=java-canary-5 -Dlog.level=INFO " +
      "\"-Ddb.password=quoted canary 6\" '-Dx.secret=single-canary-7' " +
      '"-Dapi.token=q\\\\\\"uote-canary-11" "-Dx.password=:lead\\\\\\"canary 13"\n',
    "/opt/spark/conf/core-site2.xml":
      '<configuration><property name="fs.s3a.secret.key" value="attr-canary-10"/>' +
      '<property name="hive.metastore.token" value="gt>attr-canary-12"/></configuration>\n',
    "/opt/spark/conf/hive-site.xml": "<configuration><property>\n" +
      "  <name>javax.jdo.option.ConnectionPassword</name>\n  <description>db</description>\n" +
      "  <value>xml-canary-8</value>\n</property><property>\n" +
      "  <value>xml-canary-9</value><name>hive.metastore.token</name>\n</property></configuration>\n",
    "/opt/spark/conf/hdfs-site.xml": "<configuration><property>\n" +
      "  <name><![CDATA[dfs.web.authentication.secret]]></name>\n" +
      "  <value><![CDATA[cdata<canary>17]]></value>\n</property><property>\n" +
      "  <name>ssl.server.keystore.password</name><!-- rotated -->\n" +
      "  <value>ent&amp;canary&#x2d;18</value>\n</property><property>\n" +
      "  <name>x.password</name><value> <!-- old --> <![CDATA[mixed]]>canary&lt;19 </value>\n" +
      "</property><property>\n" +
      "  <name>y.password</name><!-- <value>old-value</value> </property> -->\n" +
      "  <description><![CDATA[e.g. <value>example</value>]]></description>\n" +
      "  <value>after-comment-canary-20<!-- c --></value>\n" +
      "</property></configuration>\n",
  };
  const p = sparkPlanOf("local-unknown/cgroup-v2", withFiles(sparkFiles));
  const canaries = [
    "sh-canary-1",
    "sh-canary-2",
    "xml-canary-3",
    "props-canary-4",
    "java-canary-5",
  ];
  canaries.push("quoted canary 6", "single-canary-7", "xml-canary-8", "xml-canary-9");
  canaries.push("attr-canary-10", 'q"uote-canary-11', "gt>attr-canary-12", ':lead"canary 13');
  canaries.push("sh-canary-14", "sh canary 15", "sh-canary-16");
  // XML as Hadoop reads it: CDATA sections, entities (and as the file spells them), comments.
  canaries.push("cdata<canary>17", "ent&canary-18", "ent&amp;canary&#x2d;18", "mixedcanary<19");
  canaries.push("after-comment-canary-20");
  for (const v of canaries) ok(p.secrets.includes(v), v);
  // A capture holds the XML files as they are: scrubbed, no canary is left in them.
  for (const file of ["core-site.xml", "core-site2.xml", "hive-site.xml", "hdfs-site.xml"]) {
    const text = sparkFiles[`/opt/spark/conf/${file}`]!;
    equal(/canary/.test(scrub(text, secretForms(p.secrets))), false, file);
  }
  for (const v of ["/tmp", "http://minio:9000", "10", "INFO", "AKIA", "old-value", "example"]) {
    ok(!p.secrets.includes(v), v);
  }
  // What --explain shows of the generated file hides them too, escaped as it writes them.
  const defaults = p.files.find((f) => f.path.endsWith("/spark-defaults.conf"))!;
  equal(/canary/.test(scrub(defaults.display ?? defaults.content, secretForms(p.secrets))), false);
  // The file itself comes along as it is, through a link.
  ok(p.steps.some((s) => s.step === "link" && s.target === "/opt/spark/conf/spark-env.sh"));
});

Deno.test("spark: the driver pod is named only when its name is known (an Indexed Job's host name is not it)", () => {
  const driverPod = (p: Plan) =>
    parseSparkDefaults(conf(p)).get("spark.kubernetes.driver.pod.name");
  const podWarning = (p: Plan) => p.warnings.filter((w) => w.includes("pod's name is not known"));
  const pod = sparkPlanOf("kubernetes-unknown/pod");
  equal(driverPod(pod), fixture("kubernetes-unknown/pod").hostname);
  deepEqual(podWarning(pod), []);
  // A Trainer v2 (Indexed Job) pod: host name <job>-<index>, not the pod's name.
  const trainer = sparkPlanOf("kubernetes-training/trainer-v2");
  equal(driverPod(trainer), undefined);
  equal(podWarning(trainer).length, 1, JSON.stringify(trainer.warnings));
  // The downward API's POD_NAME is the name wherever it is given.
  const given = sparkPlanOf(
    "kubernetes-training/trainer-v2",
    withEnv({ POD_NAME: "ft-0-1-x7k2p" }),
  );
  equal(driverPod(given), "ft-0-1-x7k2p");
  deepEqual(podWarning(given), []);
});

Deno.test("spark: variables the image config's env gives count as the user's own (Spark reads the file first)", () => {
  const withEnvConfig = (env: Record<string, string>) =>
    toImageConfig({
      spark: { enabled: true },
      env: { set: env },
    });
  const kept = (p: Plan) => (p.notes["spark"] as { userKept?: string[] }).userKept ?? [];
  const memory = sparkPlanOf(
    "local-unknown/cgroup-v2",
    undefined,
    withEnvConfig({ SPARK_DRIVER_MEMORY: "6g", MASTER: "spark://head:7077" }),
  );
  const props = parseSparkDefaults(conf(memory));
  equal(props.has("spark.driver.memory"), false, "the config's 6g is not overridden by the file");
  equal(props.has("spark.master"), false);
  deepEqual(kept(memory), ["spark.master (MASTER)", "spark.driver.memory (SPARK_DRIVER_MEMORY)"]);
  const python = sparkPlanOf(
    "local-unknown/cgroup-v2",
    undefined,
    withEnvConfig({ PYSPARK_PYTHON: "/opt/py/bin/python", PYSPARK_DRIVER_PYTHON: "jupyter" }),
  );
  equal(python.env["PYSPARK_PYTHON"], "/opt/py/bin/python", "no conflict with the config's value");
  const pyProps = parseSparkDefaults(conf(python));
  equal(pyProps.get("spark.pyspark.python"), "/opt/py/bin/python");
  equal(pyProps.get("spark.pyspark.driver.python"), "jupyter");
  // The launcher's older name for the driver's memory, from the user.
  const old = sparkPlanOf("local-unknown/cgroup-v2", withEnv({ SPARK_MEM: "2g" }));
  equal(parseSparkDefaults(conf(old)).has("spark.driver.memory"), false);
  deepEqual(kept(old), ["spark.driver.memory (SPARK_MEM)"]);
  // SparkContext takes it for the executors' memory too, after SPARK_EXECUTOR_MEMORY.
  const pod = sparkPlanOf("kubernetes-unknown/pod", withEnv({ SPARK_MEM: "3g" }));
  equal(parseSparkDefaults(conf(pod)).has("spark.executor.memory"), false);
  ok(kept(pod).includes("spark.executor.memory (SPARK_MEM)"), JSON.stringify(kept(pod)));
  // A conf folder the config names is the user's: read, recorded and left in place.
  const dirConfig = withEnvConfig({ SPARK_CONF_DIR: "/etc/spark-conf" });
  ok(
    spark.dynamicPaths!(worldOf("local-unknown/cgroup-v2"), dirConfig)
      .some((d) => d.path === "/etc/spark-conf"),
  );
  const dir = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withFiles({ "/etc/spark-conf/spark-defaults.conf": "spark.app.name mine\n" }),
    dirConfig,
  );
  equal(dir.env["SPARK_CONF_DIR"], "/etc/spark-conf");
  equal(dir.files.some((f) => f.path.endsWith("/spark-conf/spark-defaults.conf")), false);
  ok(dir.warnings.some((w) => w.includes("SPARK_CONF_DIR=/etc/spark-conf is set")));
});

Deno.test("spark: an executor pod Spark starts from this image runs the executor backend, as Spark's entrypoint does", () => {
  const executor = withEnv({
    SPARK_DRIVER_URL: "spark://CoarseGrainedScheduler@10.0.0.7:7078",
    SPARK_EXECUTOR_ID: "3",
    SPARK_EXECUTOR_CORES: "2",
    SPARK_EXECUTOR_MEMORY: "2048m",
    SPARK_APPLICATION_ID: "spark-a1b2",
    SPARK_EXECUTOR_POD_IP: "10.0.0.9",
    SPARK_RESOURCE_PROFILE_ID: "0",
    SPARK_EXECUTOR_POD_NAME: "job-exec-3",
    SPARK_CONF_DIR: "/opt/spark/conf",
    SPARK_JAVA_OPT_10: "-Dspark.driver.blockManager.port=7079",
    SPARK_JAVA_OPT_2: "-Dspark.driver.port=7078",
  });
  const args = (argv: string[]) => (s: Snapshot) => ({ ...executor(s), argv });
  const p = sparkPlanOf("kubernetes-unknown/pod", args(["executor"]));
  deepEqual(p.command, [
    "java",
    "-Dspark.driver.port=7078",
    "-Dspark.driver.blockManager.port=7079",
    "-Xms2048m",
    "-Xmx2048m",
    "-cp",
    "/opt/spark/conf:/opt/spark/jars/*:.",
    "org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend",
    "--driver-url",
    "spark://CoarseGrainedScheduler@10.0.0.7:7078",
    "--executor-id",
    "3",
    "--cores",
    "2",
    "--app-id",
    "spark-a1b2",
    "--hostname",
    "10.0.0.9",
    "--resourceProfileId",
    "0",
    "--podName",
    "job-exec-3",
  ]);
  // Spark set this pod up: no properties of another driver, no conf folder of ours.
  equal(conf(p), "");
  deepEqual(p.warnings.filter((w) => w.includes("Spark executor pod")), []);
  // Hadoop's jars of a Hadoop-free build come from `hadoop classpath`, which a plan cannot run.
  const hadoop = sparkPlanOf("kubernetes-unknown/pod", (s) => {
    const e = args(["executor"])(s);
    return { ...e, env: { ...e.env, HADOOP_HOME: "/opt/hadoop" } };
  });
  equal(hadoop.warnings.filter((w) => w.includes("SPARK_DIST_CLASSPATH")).length, 1);
  equal("SPARK_CONF_DIR" in p.env, false);
  // A driver pod of a cluster-mode submission: spark-submit in client mode, bound to the pod.
  const driver = sparkPlanOf(
    "kubernetes-unknown/pod",
    (s) => ({
      ...s,
      argv: ["driver", "--properties-file", "/opt/spark/conf/spark.properties", "app.py"],
      env: { ...s.env, SPARK_DRIVER_BIND_ADDRESS: "10.0.0.7" },
    }),
  );
  deepEqual(driver.command, [
    "/opt/spark/bin/spark-submit",
    "--conf",
    "spark.driver.bindAddress=10.0.0.7",
    "--conf",
    "spark.executorEnv.SPARK_DRIVER_POD_IP=10.0.0.7",
    "--deploy-mode",
    "client",
    "--properties-file",
    "/opt/spark/conf/spark.properties",
    "app.py",
  ]);
  // Without Spark's variables, or with the Spark adapter off, `executor` is a program like any.
  deepEqual(sparkPlanOf("kubernetes-unknown/pod", (s) => ({ ...s, argv: ["executor"] })).command, [
    "executor",
  ]);
  deepEqual(
    planFixture("kubernetes-unknown/pod", args(["executor"]), toImageConfig({})).command,
    ["executor"],
  );
});

Deno.test("spark: nothing is generated on Databricks, which runs its own Spark", () => {
  const p = sparkPlanOf("databricks-unknown/driver");
  equal(conf(p), "");
  equal("SPARK_CONF_DIR" in p.env, false);
  equal("PYSPARK_PYTHON" in p.env, false);
});

Deno.test("spark: Azure storage account keys and SAS tokens are secrets, though no secret word ends their names", () => {
  const account = "spark.hadoop.fs.azure.account.key.mlstore.dfs.core.windows.net";
  const sas = "fs.azure.sas.data.mlstore.blob.core.windows.net";
  const p = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withFiles({
      "/opt/spark/conf/spark-defaults.conf": `${account} azure-key-canary-1\n`,
      "/opt/spark/conf/core-site.xml":
        `<configuration><property><name>${sas}</name><value>sv=2024&amp;sig=sas-canary-2</value>` +
        "</property></configuration>\n",
    }),
  );
  ok(p.secrets.includes("azure-key-canary-1"), JSON.stringify(p.secrets));
  ok(p.secrets.some((s) => s.includes("sas-canary-2")), JSON.stringify(p.secrets));
  equal(
    (p.notes["spark"] as { properties: Record<string, string> }).properties[account],
    "<redacted>",
  );
});

Deno.test("spark: local[N] and a worker's cores follow the ML_NUM_CPUS the program gets, as the thread pools do", () => {
  const withCpus = (value: string) => (s: Snapshot): Snapshot => ({
    ...s,
    env: { ...s.env, ML_NUM_CPUS: value },
  });
  const computed = parseSparkDefaults(conf(sparkPlanOf("local-unknown/cgroup-v2")));
  const given = sparkPlanOf("local-unknown/cgroup-v2", withCpus("3"));
  equal(parseSparkDefaults(conf(given)).get("spark.master"), "local[3]");
  ok(computed.get("spark.master") !== "local[3]", "the fixture's own count is another");
  // A value that is no whole number of CPUs is not a count: Spark keeps the computed one.
  const bad = sparkPlanOf("local-unknown/cgroup-v2", withCpus("lots"));
  equal(parseSparkDefaults(conf(bad)).get("spark.master"), computed.get("spark.master"));
  const worker = sparkPlanOf(
    "sagemaker-processing/processing-job",
    (s) =>
      withCpus("5")(
        withFiles({
          "/opt/ml/config/resourceconfig.json":
            '{"current_host":"algo-2","hosts":["algo-1","algo-2"]}',
        })(s),
      ),
  );
  const step = worker.steps.find((s) => s.step === "spark-cluster") as { workerCores?: number };
  equal(step.workerCores, 5);
  equal(parseSparkDefaults(conf(worker)).get("spark.executor.cores"), "5");
});

Deno.test("spark: in a heterogeneous SageMaker cluster the executors are not sized by the primary's host", () => {
  // algo-1 (the primary, where the driver reads its properties) is a 96-CPU ml.p4d.24xlarge;
  // algo-3 an ml.c5.xlarge whose worker offers 4 cores: an executor of 96 never lands there.
  const primary = sparkPlanOf(
    "sagemaker-training/heterogeneous",
    (s) => ({
      ...withFiles({
        "/opt/ml/input/config/resourceconfig.json": s.files[
          "/opt/ml/input/config/resourceconfig.json"
        ]!.replace('"current_host": "algo-3"', '"current_host": "algo-1"')
          .replace(
            '"current_instance_type": "ml.c5.xlarge"',
            '"current_instance_type": "ml.p4d.24xlarge"',
          ),
        "/sys/fs/cgroup/memory/memory.limit_in_bytes": "412316860416\n",
      })(s),
      env: { ...s.env, ML_NUM_CPUS: "96" },
    }),
  );
  const props = parseSparkDefaults(conf(primary));
  equal(props.get("spark.master"), "spark://algo-1:7077");
  // Left out, each worker's executor takes the cores that worker offers (and Spark's default memory).
  equal(props.has("spark.executor.cores"), false);
  equal(props.has("spark.executor.memory"), false);
  const step = primary.steps.find((s) => s.step === "spark-cluster") as { workerCores?: number };
  equal(step.workerCores, 96, "a worker still offers its own host's cores");
  // A cluster of one instance group keeps them (every host alike).
  const alike = parseSparkDefaults(conf(sparkPlanOf("sagemaker-training/multi-host")));
  ok(alike.has("spark.executor.cores"));
});

Deno.test("parseSparkDefaults() goes on to the next line only after an odd number of trailing backslashes", () => {
  deepEqual([...parseSparkDefaults("spark.a C:\\\\\nspark.b x\nspark.c y\\\n  z\n")], [
    ["spark.a", "C:\\"],
    ["spark.b", "x"],
    ["spark.c", "yz"],
  ]);
});

Deno.test("spark: keys and values that start like a comment or a separator survive the generated file", () => {
  const p = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withFiles({
      "/opt/spark/conf/spark-defaults.conf": [
        "\\#spark.hash v1",
        "\\!spark.bang v2",
        "spark.colon \\:x",
      ].join("\n"),
    }),
  );
  const back = parseSparkDefaults(conf(p));
  deepEqual(
    ["#spark.hash", "!spark.bang", "spark.colon"].map((k) => back.get(k)),
    ["v1", "v2", ":x"],
    conf(p),
  );
});

Deno.test("spark: the user's SPARK_EXECUTOR_CORES and SPARK_LOCAL_IP keep the properties they set out of the file", () => {
  const p = sparkPlanOf(
    "kubernetes-unknown/pod",
    withEnv({ SPARK_EXECUTOR_CORES: "4", SPARK_LOCAL_IP: "10.244.1.17" }),
  );
  const props = parseSparkDefaults(conf(p));
  equal(props.has("spark.executor.cores"), false);
  equal(props.has("spark.driver.bindAddress"), false);
  const kept = (p.notes["spark"] as { userKept: string[] }).userKept;
  ok(kept.includes("spark.executor.cores (SPARK_EXECUTOR_CORES)"), JSON.stringify(kept));
  ok(kept.includes("spark.driver.bindAddress (SPARK_LOCAL_IP)"), JSON.stringify(kept));
});

Deno.test("spark: a JVM option with a single quote is one double-quoted word of extraJavaOptions", () => {
  const p = sparkPlanOf("local-unknown/cgroup-v2", withEnv({ SPARK_JAVA_OPT_0: "-Dname=it's" }));
  const props = parseSparkDefaults(conf(p));
  equal(props.get("spark.driver.extraJavaOptions"), `"-Dname=it's"`);
  // The executors get the same options as the driver.
  equal(props.get("spark.executor.extraJavaOptions"), `"-Dname=it's"`);
});

Deno.test("spark: on Kubernetes the driver host is the downward API's POD_IP before the snapshot's address", () => {
  const p = sparkPlanOf(
    "kubernetes-unknown/pod",
    (s) => ({ ...s, env: { ...s.env, POD_IP: "10.244.9.9" }, addresses: ["172.17.0.2"] }),
  );
  equal(parseSparkDefaults(conf(p)).get("spark.driver.host"), "10.244.9.9");
  const noPodIp = sparkPlanOf("kubernetes-unknown/pod", (s) => {
    const { POD_IP: _, ...env } = s.env;
    return { ...s, env, addresses: ["172.17.0.2"] };
  });
  equal(parseSparkDefaults(conf(noPodIp)).get("spark.driver.host"), "172.17.0.2");
  // A link-local address (an awsvpc task's ecs-eth0) is no address an executor reaches.
  const linkLocal = sparkPlanOf("kubernetes-unknown/pod", (s) => {
    const { POD_IP: _, ...env } = s.env;
    return { ...s, env, addresses: ["169.254.172.3", "172.17.0.2"] };
  });
  equal(parseSparkDefaults(conf(linkLocal)).get("spark.driver.host"), "172.17.0.2");
});

Deno.test("spark: the executor image comes from the config, else CHAMELEON_IMAGE, else a warning", () => {
  const noImage = toImageConfig({ spark: { enabled: true } });
  const image = (p: Plan) => parseSparkDefaults(conf(p)).get("spark.kubernetes.container.image");
  const warned = (p: Plan) => p.warnings.filter((w) => w.includes("no executor image"));
  const fromEnv = sparkPlanOf(
    "kubernetes-unknown/pod",
    withEnv({ CHAMELEON_IMAGE: "registry.example.com/ml:2" }),
    noImage,
  );
  equal(image(fromEnv), "registry.example.com/ml:2");
  deepEqual(warned(fromEnv), []);
  const none = sparkPlanOf("kubernetes-unknown/pod", undefined, noImage);
  equal(image(none), undefined);
  equal(warned(none).length, 1, JSON.stringify(none.warnings));
});

Deno.test("spark: the primary's worker keeps a tenth of the memory when the driver takes most of it", () => {
  const config = toImageConfig({ spark: { enabled: true, driverMemoryFraction: 0.75 } });
  const p = sparkPlanOf(
    "sagemaker-processing/processing-job",
    withFiles({ "/sys/fs/cgroup/memory/memory.limit_in_bytes": `${16 * 1024 ** 3}\n` }),
    config,
  );
  const step = p.steps.find((s) => s.step === "spark-cluster") as { workerMemory?: string };
  equal(step.workerMemory, "1638m", "16 GiB x 0.1");
});

Deno.test("spark: spark.jars lists the .jar files of the jars folder, comma-separated", () => {
  const p = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withFiles({
      "/opt/spark/extra-jars/delta.jar": "",
      "/opt/spark/extra-jars/hadoop-aws.jar": "",
      "/opt/spark/extra-jars/README.txt": "",
    }),
  );
  equal(
    parseSparkDefaults(conf(p)).get("spark.jars"),
    "/opt/spark/extra-jars/delta.jar,/opt/spark/extra-jars/hadoop-aws.jar",
  );
});

Deno.test("spark: the user's SPARK_HOME is where their spark-defaults.conf is read from", () => {
  const p = sparkPlanOf("local-unknown/cgroup-v2", (s) => ({
    ...withFiles({ "/srv/spark/conf/spark-defaults.conf": "spark.app.name mine\n" })(s),
    env: { ...s.env, SPARK_HOME: "/srv/spark" },
  }));
  equal(parseSparkDefaults(conf(p)).get("spark.app.name"), "mine");
});

Deno.test("spark: a Hadoop XML secret is the value without the blanks around it", () => {
  const p = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withFiles({
      "/opt/spark/conf/core-site.xml": "<configuration><property>\n" +
        "  <name>fs.s3a.secret.key</name>\n  <value>\n    xml-canary-14\n  </value>\n" +
        "</property></configuration>\n",
    }),
  );
  ok(p.secrets.includes("xml-canary-14"), JSON.stringify(p.secrets));
});

Deno.test("parseSparkDefaults() reads line ends, escapes and escaped separators as Properties.load does", () => {
  deepEqual(
    [
      ...parseSparkDefaults(
        "\\\nspark.a x\nspark.b y\\\\\\\\\nspark.c z\\\\\\\n  w\nspark.d \\u20ac\\r\\f!\n" +
          "a\\:=v\nspark.e last\\",
      ),
    ],
    [
      // A line of one backslash goes on on the next.
      ["spark.a", "x"],
      // Four backslashes are two, and the line ends; three go on on the next line.
      ["spark.b", "y\\\\"],
      ["spark.c", "z\\w"],
      ["spark.d", "\u20ac\r\f!"],
      // An escaped separator is part of the key.
      ["a:", "v"],
      // A backslash at the end of the text goes on to nothing.
      ["spark.e", "last"],
    ],
  );
  deepEqual([...parseSparkDefaults("spark.a x\\\n  y")], [["spark.a", "xy"]]);
});

Deno.test("spark: control characters in a value survive the generated file", () => {
  const p = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withFiles({ "/opt/spark/conf/spark-defaults.conf": "spark.ws a\\tb\\rc\\fd\\ne\n" }),
  );
  equal(parseSparkDefaults(conf(p)).get("spark.ws"), "a\tb\rc\fd\ne");
  ok(conf(p).includes("spark.ws a\\tb\\rc\\fd\\ne\n"), conf(p));
});

Deno.test("spark: the user's SPARK_EXECUTOR_MEMORY keeps the executors' memory out of the file", () => {
  const p = sparkPlanOf("kubernetes-unknown/pod", withEnv({ SPARK_EXECUTOR_MEMORY: "6g" }));
  equal(parseSparkDefaults(conf(p)).has("spark.executor.memory"), false);
  deepEqual((p.notes["spark"] as { userKept: string[] }).userKept, [
    "spark.executor.memory (SPARK_EXECUTOR_MEMORY)",
  ]);
});

Deno.test("spark: on Kubernetes the master URL takes the API server's port, 443 without one", () => {
  const master = (p: Plan) => parseSparkDefaults(conf(p)).get("spark.master");
  equal(
    master(sparkPlanOf("kubernetes-unknown/pod", withEnv({ KUBERNETES_SERVICE_PORT: "6443" }))),
    "k8s://https://10.96.0.1:6443",
  );
  const noPort = sparkPlanOf("kubernetes-unknown/pod", (s) => {
    const { KUBERNETES_SERVICE_PORT: _, ...env } = s.env;
    return { ...s, env };
  });
  equal(master(noPort), "k8s://https://10.96.0.1:443");
});

Deno.test("spark: a KUBERNETES_SERVICE_PORT that is no port is exit 78 naming it, not a master URL", () => {
  for (const port of ["https", "0", "65536", "443 "]) {
    const e = caught(() =>
      sparkPlanOf("kubernetes-unknown/pod", withEnv({ KUBERNETES_SERVICE_PORT: port }))
    );
    ok(e instanceof InputError, port);
    equal(
      (e as InputError).message,
      `Variable KUBERNETES_SERVICE_PORT ${JSON.stringify(port)}: expected a port from 1 to 65535`,
    );
  }
});

Deno.test("spark: a pod with no known namespace or address gets no namespace or driver host property", () => {
  const p = sparkPlanOf("kubernetes-unknown/pod", (s) => {
    const { POD_NAMESPACE: _, POD_IP: __, ...env } = s.env;
    const { "/var/run/secrets/kubernetes.io/serviceaccount/namespace": ___, ...files } = s.files;
    return { ...s, env, files, addresses: [] };
  });
  const props = parseSparkDefaults(conf(p));
  deepEqual([props.has("spark.kubernetes.namespace"), props.has("spark.driver.host")], [
    false,
    false,
  ]);
  equal(props.get("spark.driver.bindAddress"), "0.0.0.0");
});

Deno.test("spark: the unknown pod name warning says how to give it", () => {
  const p = sparkPlanOf("kubernetes-training/trainer-v2");
  ok(
    p.warnings.some((w) =>
      w.includes("pod's name is not known") &&
      w.endsWith(
        "executors will not be deleted with the driver; give POD_NAME from the downward API",
      )
    ),
    JSON.stringify(p.warnings),
  );
});

Deno.test("spark: a SageMaker worker host's cluster step says its role and Spark's home", () => {
  const worker = withFiles({
    "/opt/ml/config/resourceconfig.json": '{"current_host":"algo-2","hosts":["algo-1","algo-2"]}',
  });
  const step = (p: Plan) =>
    p.steps.find((s) => s.step === "spark-cluster") as { role?: string; sparkHome?: string };
  const p = sparkPlanOf("sagemaker-processing/processing-job", worker);
  deepEqual([step(p).role, step(p).sparkHome], ["worker", "/opt/spark"]);
  const home = sparkPlanOf(
    "sagemaker-processing/processing-job",
    (s) => withEnv({ SPARK_HOME: "/srv/spark" })(worker(s)),
  );
  equal(step(home).sparkHome, "/srv/spark");
});

Deno.test("spark: a single jar in the jars folder is spark.jars", () => {
  const p = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withFiles({ "/opt/spark/extra-jars/delta.jar": "" }),
  );
  equal(parseSparkDefaults(conf(p)).get("spark.jars"), "/opt/spark/extra-jars/delta.jar");
});

Deno.test("spark: the executors get every SPARK_JAVA_OPT_<n> too, blank-separated", () => {
  const p = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withEnv({ SPARK_JAVA_OPT_0: "-Da=1", SPARK_JAVA_OPT_1: "-Db=2" }),
  );
  equal(parseSparkDefaults(conf(p)).get("spark.executor.extraJavaOptions"), "-Da=1 -Db=2");
});

Deno.test("spark: a property two given variables set is reported with the one Spark asks first", () => {
  const kept = (p: Plan) => (p.notes["spark"] as { userKept?: string[] }).userKept ?? [];
  const memory = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withEnv({ SPARK_DRIVER_MEMORY: "3g", SPARK_MEM: "2g" }),
  );
  deepEqual(kept(memory), ["spark.driver.memory (SPARK_DRIVER_MEMORY)"]);
  const host = sparkPlanOf(
    "kubernetes-unknown/pod",
    withEnv({ SPARK_LOCAL_HOSTNAME: "nb-driver", SPARK_LOCAL_IP: "10.0.0.99" }),
  );
  ok(kept(host).includes("spark.driver.host (SPARK_LOCAL_HOSTNAME)"), JSON.stringify(kept(host)));
});

Deno.test("spark: conf file secrets in less common forms: XML attributes in any order or quotes, quoted Java options", () => {
  const p = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withFiles({
      "/opt/spark/conf/core-site.xml": "<configuration>" +
        "<property name='fs.s3a.secret.key' value='single-attr-canary-1'/>" +
        '<property value="order-canary-2" name="hive.metastore.token"/>' +
        "<property><name>fs.s3a.session.token</name></property>" +
        "</configuration>\n",
      "/opt/spark/conf/spark-env.sh": "DB_PASSWORD=\nexport SPARK_LOG_DIR=/var/log/secrets\n",
      "/opt/spark/conf/spark-defaults.conf": "spark.driver.extraJavaOptions " +
        '"-Ddb.password=first canary 4" \'-Dx.secret=single canary 5\' "-Dapi.token=end-canary-6\\\\\n',
    }),
  );
  for (
    const v of [
      "single-attr-canary-1",
      "order-canary-2",
      "first canary 4",
      "single canary 5",
      "end-canary-6",
    ]
  ) {
    ok(p.secrets.includes(v), `${v}: ${JSON.stringify(p.secrets)}`);
  }
  // An empty value is no secret, nor a value with a secret word under another name.
  for (const v of ["", "/var/log/secrets", "hive.metastore.token"]) {
    ok(!p.secrets.includes(v), `${v}: ${JSON.stringify(p.secrets)}`);
  }
});

Deno.test("hideXmlSecrets() reads an attribute's name as the secrets are read: an entity in it is decoded", () => {
  // `&#80;` is "P": the property is ...ConnectionPassword, whose value the plan counts as secret.
  const text = '<property name="javax.jdo.option.Connection&#80;assword" value="pw4"/>';
  equal(
    hideXmlSecrets(text),
    '<property name="javax.jdo.option.Connection&#80;assword" value="<redacted>"/>',
  );
  equal(
    hideXmlSecrets('<property name="a&#46;b" value="pw4"/>'),
    '<property name="a&#46;b" value="pw4"/>',
  );
});

Deno.test("spark: the image's spark-defaults.conf is merged into the generated one, never linked over it", () => {
  const p = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withFiles({
      "/opt/spark/conf/spark-defaults.conf": "spark.app.name mine\n",
      "/opt/spark/conf/log4j2.properties": "rootLogger.level=warn\n",
    }),
  );
  deepEqual(p.steps.filter((s) => s.step === "link").map((s) => s.path), [
    "/run/chameleon/spark-conf/log4j2.properties",
  ]);
  deepEqual(p.dirs, [{ path: "/run/chameleon/spark-conf", mode: "0755" }]);
  deepEqual(p.files.map((f) => [f.path, f.mode]), [
    ["/run/chameleon/spark-conf/spark-defaults.conf", "0644"],
  ]);
});

Deno.test("spark: property values that name no secret are not the plan's secrets, and the file has no redacted display", () => {
  const p = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withEnv({ SPARK_JAVA_OPT_0: "-Dlog.level=INFO" }),
  );
  const props = parseSparkDefaults(conf(p));
  for (const k of ["spark.master", "spark.pyspark.python", "spark.driver.extraJavaOptions"]) {
    const v = props.get(k)!;
    ok(!p.secrets.includes(v), `${k} ${v}`);
  }
  equal(p.files[0]!.display, undefined);
});

Deno.test("spark: a secret Java option that starts like a separator is hidden whole in the shown file", () => {
  const p = sparkPlanOf(
    "local-unknown/cgroup-v2",
    withFiles({
      "/opt/spark/conf/spark-defaults.conf":
        'spark.driver.extraJavaOptions -Da=1 "-Dx.password=:lead\\\\\\"canary"\n',
    }),
  );
  const file = p.files[0]!;
  const shown = scrub(file.display ?? file.content, secretForms(p.secrets));
  // Shown word by word with the value replaced in its word: no quoting is left to re-read.
  ok(shown.includes("-Da=1 -Dx.password=<redacted>\n"), shown);
  ok(!/canary|lead/.test(shown), shown);
});

Deno.test("spark.dynamicPaths lists the conf folder's files to read and the jars folder's .jar files", () => {
  const world = worldOf("local-unknown/docker");
  deepEqual(spark.dynamicPaths!(world, SPARK), [
    { kind: "list", path: "/opt/spark/conf", each: "read" },
    { kind: "list", path: "/opt/spark/extra-jars", match: /\.jar$/, each: "exists" },
    // The generated folder wherever the runtime dir can be, as an earlier start may have left it.
    { kind: "stat", path: "/run/chameleon/spark-conf" },
    { kind: "stat", path: "/tmp/chameleon/spark-conf" },
    { kind: "stat", path: `/tmp/chameleon-${world.snapshot.uid}/spark-conf` },
  ]);
  const given = worldOf("local-unknown/docker", withEnv({ CHAMELEON_RUNTIME_DIR: "/scratch/rt/" }));
  deepEqual(spark.dynamicPaths!(given, SPARK).at(-1), {
    kind: "stat",
    path: "/scratch/rt/spark-conf",
  });
  deepEqual(spark.dynamicPaths!(world, DEFAULT_CONFIG), [], "Spark off: nothing");
});

Deno.test("spark: a conf folder an earlier start of another uid left, which this uid cannot write, takes no file, with a warning", () => {
  // A root start made it (root's 0755) in a runtime dir group 0 shares; a random uid starts over it.
  const left = (s: Snapshot): Snapshot => ({
    ...s,
    uid: 1000650000,
    gid: 0,
    groups: [0],
    dirs: [...s.dirs, "/run/chameleon/spark-conf"],
    stat: {
      ...s.stat,
      "/run": { uid: 0, gid: 0, mode: "0755" },
      "/run/chameleon": { uid: 0, gid: 0, mode: "0775" },
      "/run/chameleon/spark-conf": { uid: 0, gid: 0, mode: "0755" },
    },
  });
  const p = sparkPlanOf("local-unknown/cgroup-v2", left);
  equal(p.runtimeDir, "/run/chameleon");
  equal("SPARK_CONF_DIR" in p.env, false);
  equal(conf(p), "");
  ok(
    p.warnings.includes(
      "/run/chameleon/spark-conf (0755, owner 0:0, an earlier start's) cannot be written by uid 1000650000: the generated Spark properties are not applied (Spark reads its own conf folder)",
    ),
    p.warnings.join("; "),
  );
  // Its own folder from an earlier start of its own is written again.
  const own = sparkPlanOf("local-unknown/cgroup-v2", (s) => {
    const l = left(s);
    return {
      ...l,
      stat: { ...l.stat, "/run/chameleon/spark-conf": { uid: 1000650000, gid: 0, mode: "0755" } },
    };
  });
  equal(own.env["SPARK_CONF_DIR"], "/run/chameleon/spark-conf");
});

Deno.test("spark: Databricks gets a note saying nothing was generated", () => {
  deepEqual(sparkPlanOf("databricks-unknown/driver").notes["spark"], {
    skipped: "Databricks runs its own Spark: nothing generated",
  });
});

Deno.test("spark: a context forced to Kubernetes without KUBERNETES_SERVICE_HOST writes no k8s master, and says so", () => {
  const p = sparkPlanOf(
    "local-unknown/docker",
    withEnv({ CHAMELEON_CONTEXT: "kubernetes-unknown" }),
  );
  ok(conf(p) !== "", "the Spark config is written");
  equal(parseSparkDefaults(conf(p)).has("spark.master"), false, conf(p));
  ok(
    p.warnings.includes(
      "Spark on Kubernetes: KUBERNETES_SERVICE_HOST is not set, so no spark.master is written (give --master)",
    ),
    p.warnings.join("\n"),
  );
});

Deno.test("xmlSetAside(), xmlProperties() and xmlElement() read XML as their patterns did (6,000 random texts), and 3,000 unclosed tags", () => {
  // The patterns as they were: the oracle.
  const property = /<property\b((?:[^>"']|"[^"]*"|'[^']*')*?)(?:\/>|>([\s\S]*?)<\/property>)/g;
  const cdataOrComment = /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->/g;
  const element = (tag: string) => new RegExp(`<${tag}>([\\s\\S]*?)<\\/${tag}>`);
  const pieces = [
    "<property",
    "<propertyx",
    " ",
    ">",
    "/>",
    "/",
    "</property>",
    "<!--",
    "-->",
    "--",
    "<![CDATA[",
    "]]>",
    "]",
    '"',
    "'",
    "name",
    "<name>",
    "</name>",
    "<value>",
    "</value>",
    "=",
    "x",
    "\n",
  ];
  let x = 4242;
  const next = (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) % n;
  for (let k = 0; k < 6000; k++) {
    let t = "";
    for (let n = next(40); n > 0; n--) t += pieces[next(pieces.length)];
    const cdata: string[] = [];
    const plain = t.replace(
      cdataOrComment,
      (_, body: string | undefined) =>
        body === undefined ? "" : `\uE000${cdata.push(body) - 1}\uE001`,
    );
    deepEqual(xmlSetAside(t), { text: plain, cdata }, JSON.stringify(t));
    deepEqual(
      xmlProperties(t),
      [...t.matchAll(property)].map((m) => ({ attributes: m[1]!, content: m[2] })),
      JSON.stringify(t),
    );
    for (const tag of ["name", "value"]) {
      equal(xmlElement(t, tag), element(tag).exec(t)?.[1], JSON.stringify(t));
    }
  }
  // Tags, quotes, comments and CDATA sections that never close, 3,000 of each, before a property.
  const last = '<property name="k" value="v"/><property><name>n</name><value>w</value></property>';
  for (const open of ["<property>", "<property ", '<property "', "<!--", "<![CDATA["]) {
    const text = open.repeat(3_000) + last;
    equal(xmlSetAside(text).text, text.replace(cdataOrComment, ""));
    deepEqual(
      xmlProperties(text),
      [...text.matchAll(property)].map((m) => ({ attributes: m[1]!, content: m[2] })),
    );
  }
  equal(xmlElement("<name>".repeat(20_000) + "x</name>", "name"), "<name>".repeat(19_999) + "x");
});
