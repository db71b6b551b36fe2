import { deepEqual, equal } from "@std/assert";
import { toImageConfig } from "../config.ts";
import { planFixture } from "../tests/helpers.ts";
import type { Plan, Snapshot } from "../types.ts";

const SPARK = toImageConfig({ spark: { enabled: true } });

/** The variables Spark's executor pod builder always sets. */
const EXECUTOR_ENV = {
  SPARK_DRIVER_URL: "spark://CoarseGrainedScheduler@10.0.0.7:7078",
  SPARK_EXECUTOR_ID: "3",
};

/** The plan of a Kubernetes pod started as `argv` with `env` added, the Spark adapter on. */
const podPlan = (argv: string[], env: Record<string, string>): Plan =>
  planFixture(
    "kubernetes-unknown/pod",
    (s: Snapshot) => ({ ...s, argv, env: { ...s.env, ...env } }),
    SPARK,
  );

const classPath = (p: Plan) => p.command![p.command!.indexOf("-cp") + 1];

Deno.test("sparkPodRole() needs every variable of the role: SPARK_DRIVER_URL alone is no executor pod", () => {
  const { SPARK_DRIVER_URL } = EXECUTOR_ENV;
  deepEqual(podPlan(["executor"], { SPARK_DRIVER_URL }).command, ["executor"]);
  deepEqual(podPlan(["executor"], { SPARK_EXECUTOR_ID: "3" }).command, ["executor"]);
  equal(podPlan(["executor"], EXECUTOR_ENV).command![0], "java");
});

Deno.test("sparkPodCommand() builds the executor's class path as Spark's entrypoint does, in its order", () => {
  const p = podPlan(["executor"], {
    ...EXECUTOR_ENV,
    SPARK_HOME: "/srv/spark",
    SPARK_CONF_DIR: "/etc/spark/conf",
    HADOOP_CONF_DIR: "/etc/hadoop/conf",
    SPARK_CLASSPATH: "/opt/lib/a.jar",
    SPARK_EXTRA_CLASSPATH: "/opt/lib/extra.jar",
    SPARK_DIST_CLASSPATH: "/opt/hadoop/share/*",
  });
  equal(
    classPath(p),
    "/etc/spark/conf:/etc/hadoop/conf:/opt/lib/a.jar:/srv/spark/jars/*:/opt/lib/extra.jar:" +
      "/opt/hadoop/share/*:.",
  );
  // Without SPARK_CONF_DIR, the conf folder of the user's SPARK_HOME.
  equal(
    classPath(podPlan(["executor"], { ...EXECUTOR_ENV, SPARK_HOME: "/srv/spark" })),
    "/srv/spark/conf:/srv/spark/jars/*:.",
  );
});

Deno.test("sparkPodCommand() runs the JVM of JAVA_HOME when it is set", () => {
  const p = podPlan(["executor"], { ...EXECUTOR_ENV, JAVA_HOME: "/opt/java/openjdk" });
  equal(p.command![0], "/opt/java/openjdk/bin/java");
});

Deno.test("sparkPodCommand() runs the driver's spark-submit from the user's SPARK_HOME", () => {
  const p = podPlan(["driver", "app.py"], {
    SPARK_DRIVER_BIND_ADDRESS: "10.0.0.7",
    SPARK_HOME: "/srv/spark",
  });
  equal(p.command![0], "/srv/spark/bin/spark-submit");
});

Deno.test("sparkJavaOptValues() leaves out an empty SPARK_JAVA_OPT_<n>: no empty word for the JVM", () => {
  const p = podPlan(["executor"], {
    ...EXECUTOR_ENV,
    SPARK_JAVA_OPT_0: "-Dspark.driver.port=7078",
    SPARK_JAVA_OPT_1: "",
  });
  equal(p.command!.includes(""), false, JSON.stringify(p.command));
  deepEqual(p.command!.slice(0, 3), ["java", "-Dspark.driver.port=7078", "-cp"]);
});

Deno.test("sparkJavaOptValues() takes every SPARK_JAVA_OPT_ variable: numbered ones in numeric order, then the others by name", () => {
  const p = podPlan(["executor"], {
    ...EXECUTOR_ENV,
    SPARK_JAVA_OPT_10: "-Dc=10",
    SPARK_JAVA_OPT_EXTRA: "-De=extra",
    SPARK_JAVA_OPT_2: "-Db=2",
    SPARK_JAVA_OPT_0: "-Da=0",
    SPARK_JAVA_OPT_DEBUG: "-Dd=debug",
  });
  deepEqual(p.command!.slice(0, 7), [
    "java",
    "-Da=0",
    "-Db=2",
    "-Dc=10",
    "-Dd=debug",
    "-De=extra",
    "-cp",
  ]);
});

Deno.test("sparkPodWarnings() says nothing when SPARK_DIST_CLASSPATH is given beside HADOOP_HOME", () => {
  const hadoop = (env: Record<string, string>) =>
    podPlan(["executor"], { ...EXECUTOR_ENV, HADOOP_HOME: "/opt/hadoop", ...env }).warnings
      .filter((w) => w.includes("SPARK_DIST_CLASSPATH"));
  equal(hadoop({}).length, 1);
  deepEqual(hadoop({ SPARK_DIST_CLASSPATH: "/opt/hadoop/share/*" }), []);
});

Deno.test("sparkPodCommand() takes an empty JAVA_HOME the image config sets as none, over the user's", () => {
  const config = toImageConfig({ spark: { enabled: true }, env: { set: { JAVA_HOME: "" } } });
  const p = planFixture(
    "kubernetes-unknown/pod",
    (s: Snapshot) => ({
      ...s,
      argv: ["executor"],
      env: { ...s.env, ...EXECUTOR_ENV, JAVA_HOME: "/opt/java/openjdk" },
    }),
    config,
  );
  equal(p.command![0], "java");
});

Deno.test("sparkPodRole() needs SPARK_DRIVER_BIND_ADDRESS for a driver pod", () => {
  deepEqual(podPlan(["driver", "app.py"], {}).command, ["driver", "app.py"]);
  equal(
    podPlan(["driver"], { SPARK_DRIVER_BIND_ADDRESS: "10.0.0.7" }).command![0],
    "/opt/spark/bin/spark-submit",
  );
});

Deno.test("sparkPodWarnings() warns of a missing SPARK_DIST_CLASSPATH on an executor pod only", () => {
  const p = podPlan(["driver", "app.py"], {
    SPARK_DRIVER_BIND_ADDRESS: "10.0.0.7",
    HADOOP_HOME: "/opt/hadoop",
  });
  deepEqual(p.warnings.filter((w) => w.includes("SPARK_DIST_CLASSPATH")), []);
});
