/**
 * Spark on Kubernetes starts its executor pods (and, in cluster mode, its
 * driver pod) from the image it is told to use, with the one argument
 * `executor` or `driver` and the pod's settings in `SPARK_*` variables. Spark's
 * own images turn them into a command in their entrypoint script
 * (reference/platforms.md section C.2); with chameleon as the image's
 * entrypoint, this module does, so the image that runs the driver also runs
 * its executors.
 *
 * @module
 */

import type { World } from "../world.ts";
import { givenEnv, type PlanInput } from "./_adapter.ts";

/** The part a pod plays in a Spark application. */
export type SparkPodRole = "executor" | "driver";

/** Variables Spark's pod builders always set, which mark a pod of each role. */
const ROLE_VARIABLES: Readonly<Record<SparkPodRole, readonly string[]>> = {
  executor: ["SPARK_DRIVER_URL", "SPARK_EXECUTOR_ID"],
  driver: ["SPARK_DRIVER_BIND_ADDRESS"],
};

/**
 * The role this start plays, when the Spark adapter is on, the first argument
 * is `executor` or `driver`, and the pod has that role's variables; undefined
 * otherwise (an `executor` program of the user's own still runs as given).
 */
export function sparkPodRole(input: PlanInput): SparkPodRole | undefined {
  if (!input.settings.spark.enabled) return undefined;
  const first = input.world.snapshot.argv[0];
  if (first !== "executor" && first !== "driver") return undefined;
  const marked = ROLE_VARIABLES[first].every((n) => input.world.envValue(n) !== undefined);
  return marked ? first : undefined;
}

const JAVA_OPT_PREFIX = "SPARK_JAVA_OPT_";

/**
 * The values of every `SPARK_JAVA_OPT_*` variable, which Spark's entrypoint
 * collects (reference/platforms.md C.2). The order is chameleon's: the
 * driver's `SPARK_JAVA_OPT_<n>` in numeric order (the older script sorts them
 * so; the newer one goes by name, `_10` before `_2`), then any other name
 * with the prefix by name, so a user's option comes after the driver's and
 * wins where the JVM keeps the last.
 */
export function sparkJavaOptValues(world: World): string[] {
  const number = (k: string) => {
    const suffix = k.slice(JAVA_OPT_PREFIX.length);
    return /^[0-9]+$/.test(suffix) ? Number(suffix) : Infinity;
  };
  return Object.keys(world.snapshot.env)
    .filter((k) => k.startsWith(JAVA_OPT_PREFIX))
    .map((k) => ({ k, n: number(k) }))
    .sort((a, b) => a.n - b.n || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map(({ k }) => world.env(k)!)
    .filter((v) => v !== "");
}

/**
 * What Spark's entrypoint script does that a plan cannot: it runs
 * `hadoop classpath` for a Hadoop-free Spark build when `HADOOP_HOME` is set
 * and `SPARK_DIST_CLASSPATH` is not.
 */
export function sparkPodWarnings(input: PlanInput, role: SparkPodRole): string[] {
  const env = (name: string) => givenEnv(input, name);
  if (role !== "executor" || env("HADOOP_HOME") === undefined) return [];
  if (env("SPARK_DIST_CLASSPATH") !== undefined) return [];
  return [
    "Spark executor pod: HADOOP_HOME is set without SPARK_DIST_CLASSPATH; chameleon runs no " +
    "`hadoop classpath` while planning: a Hadoop-free Spark build needs SPARK_DIST_CLASSPATH set",
  ];
}

/**
 * The command Spark's entrypoint script runs for `role`, with the arguments
 * after the role word: the driver is `spark-submit` in client mode bound to
 * the pod's address; an executor is the JVM of `KubernetesExecutorBackend`,
 * its options, heap and class path as the script builds them.
 */
export function sparkPodCommand(input: PlanInput, role: SparkPodRole): string[] {
  const env = (name: string) => givenEnv(input, name);
  const home = env("SPARK_HOME") ?? input.settings.spark.home;
  const rest = input.world.snapshot.argv.slice(1);
  if (role === "driver") {
    const bind = env("SPARK_DRIVER_BIND_ADDRESS")!;
    return [
      `${home}/bin/spark-submit`,
      "--conf",
      `spark.driver.bindAddress=${bind}`,
      "--conf",
      `spark.executorEnv.SPARK_DRIVER_POD_IP=${bind}`,
      "--deploy-mode",
      "client",
      ...rest,
    ];
  }
  const classPath = [
    env("SPARK_CONF_DIR") ?? `${home}/conf`,
    env("HADOOP_CONF_DIR"),
    env("SPARK_CLASSPATH"),
    `${home}/jars/*`,
    env("SPARK_EXTRA_CLASSPATH"),
    env("SPARK_DIST_CLASSPATH"),
    // The working folder, where Spark puts the files an application ships (SPARK-43540).
    ".",
  ].filter((p) => p !== undefined).join(":");
  const javaHome = env("JAVA_HOME");
  const memory = env("SPARK_EXECUTOR_MEMORY");
  const flag = (name: string, value: string | undefined) =>
    value === undefined ? [] : [name, value];
  return [
    javaHome === undefined ? "java" : `${javaHome}/bin/java`,
    ...sparkJavaOptValues(input.world),
    ...(memory === undefined ? [] : [`-Xms${memory}`, `-Xmx${memory}`]),
    "-cp",
    classPath,
    "org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend",
    ...flag("--driver-url", env("SPARK_DRIVER_URL")),
    ...flag("--executor-id", env("SPARK_EXECUTOR_ID")),
    ...flag("--cores", env("SPARK_EXECUTOR_CORES")),
    ...flag("--app-id", env("SPARK_APPLICATION_ID")),
    ...flag("--hostname", env("SPARK_EXECUTOR_POD_IP")),
    ...flag("--resourceProfileId", env("SPARK_RESOURCE_PROFILE_ID")),
    ...flag("--podName", env("SPARK_EXECUTOR_POD_NAME")),
    ...rest,
  ];
}
