/**
 * Spark in every context, without users touching Spark configuration: a
 * generated `spark-defaults.conf` in the runtime dir plus `SPARK_CONF_DIR`,
 * never overriding what the user configured (their own `spark-defaults.conf`
 * entries and `SPARK_*` variables win and are reported).
 *
 * - local, notebooks, single-host jobs: `local[N]`, N = ML_NUM_CPUS; driver
 *   memory a fraction of the memory limit (the rest is left to Python).
 * - Kubernetes: client mode against the API server, the driver pod owning its
 *   executors (reference/platforms.md section C.2).
 * - SageMaker training/processing with several hosts: a standalone cluster
 *   started with Spark's own sbin scripts (a plan step carried out by run.ts;
 *   reference/sagemaker.md section 2.3 for how aws/sagemaker-spark-container does it).
 *
 * @module
 */

import { type ImageConfig, type Settings, settingsVariants } from "../config.ts";
import type { PathDecl } from "../paths.ts";
import { hideSecretPairs, isSecretProperty, joinedSecret, REDACTED } from "../secrets.ts";
import type { EnvOp, PlanFile, Step } from "../types.ts";
import { modeAndOwner, reachableAddress, runtimeDirCandidates, type World } from "../world.ts";
import { type Adapter, fill, givenEnv, type PlanInput } from "./_adapter.ts";
import { shellWords } from "./command.ts";
import {
  POD_NAMESPACE_FILE,
  podName,
  podNamespace,
  portEnv,
  presentText,
  SAGEMAKER_HOST_FILES,
  sagemakerJobHosts,
  urlHost,
} from "./_files.ts";
import { effectiveCpus } from "./resources.ts";
import { sparkJavaOptValues, sparkPodRole, sparkPodWarnings } from "./spark_pod.ts";
import { commandIds, runtimeClosedToCommand } from "./user.ts";

const BLANK = /^[ \t\f]*/;

/** Whether a line ends in an odd number of backslashes: it goes on on the next line. */
function continues(line: string): boolean {
  let n = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === "\\"; i--) n++;
  return n % 2 === 1;
}

/** A key or value with Java's escapes read: `\t \n \r \f \uXXXX`, and `\x` for any other x. */
function unescapeProperty(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\(u[0-9a-fA-F]{4}|[^])/g, (_, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ t: "\t", n: "\n", r: "\r", f: "\f" } as Record<string, string>)[e] ?? e;
  });
}

/**
 * Parses spark-defaults.conf as Spark does, with Java's `Properties.load`:
 * `#`/`!` comments, `key value`, `key=value` or `key: value`, a trailing
 * backslash going on on the next line, and escapes.
 */
export function parseSparkDefaults(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const { key, value } of propertyEntries(text)) out.set(key, value);
  return out;
}

/**
 * Each entry of Java properties text as `Properties.load` reads it (see
 * {@linkcode parseSparkDefaults}), with where its value starts in `text` and
 * where its logical line (the lines a backslash continues included) ends.
 */
function* propertyEntries(
  text: string,
): Generator<{ key: string; value: string; valueAt: number; end: number }> {
  const lines: { start: number; end: number }[] = [];
  let at = 0;
  for (const m of text.matchAll(/\r\n|\r|\n/g)) {
    lines.push({ start: at, end: m.index });
    at = m.index + m[0].length;
  }
  lines.push({ start: at, end: text.length });
  for (let i = 0; i < lines.length; i++) {
    // The logical line, and where each of its characters stands in the text.
    const pos: number[] = [];
    let line = "";
    const take = (l: { start: number; end: number }) => {
      const from = l.start + BLANK.exec(text.slice(l.start, l.end))![0].length;
      line += text.slice(from, l.end);
      for (let c = from; c < l.end; c++) pos.push(c);
    };
    take(lines[i]!);
    if (line === "" || line[0] === "#" || line[0] === "!") continue;
    while (continues(line)) {
      line = line.slice(0, -1);
      pos.pop();
      if (i + 1 < lines.length) take(lines[++i]!);
    }
    let k = 0;
    while (k < line.length && !" \t\f=:".includes(line[k]!)) k += line[k] === "\\" ? 2 : 1;
    let v = k;
    while (v < line.length && " \t\f".includes(line[v]!)) v++;
    if (line[v] === "=" || line[v] === ":") v++;
    while (v < line.length && " \t\f".includes(line[v]!)) v++;
    yield {
      key: unescapeProperty(line.slice(0, Math.min(k, line.length))),
      value: unescapeProperty(line.slice(v)),
      valueAt: pos[v] ?? lines[i]!.end,
      end: lines[i]!.end,
    };
  }
}

const PROPERTY_ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\f": "\\f",
};

/**
 * A key or value written so that `Properties.load` reads it back exactly: a
 * backslash and control characters escaped, and in a key also the blanks and
 * separators, in a value a leading blank or separator (it would be read as
 * part of the separator).
 */
function escapeProperty(s: string, isKey: boolean): string {
  const special = isKey ? /[\\\n\r\t\f =:#!]/g : /[\\\n\r\t\f]|^[ =:]/g;
  return s.replace(special, (c) => PROPERTY_ESCAPES[c] ?? "\\" + c);
}

/**
 * `SPARK_*` variables that set a property themselves (spark-submit and its
 * launcher read them), in the order Spark asks them. Spark takes the
 * properties file first, so a property is left out where one of them is given.
 */
const ENV_FOR_PROPERTY: Readonly<Record<string, readonly string[]>> = {
  "spark.master": ["MASTER"],
  "spark.driver.memory": ["SPARK_DRIVER_MEMORY", "SPARK_MEM"],
  "spark.executor.memory": ["SPARK_EXECUTOR_MEMORY", "SPARK_MEM"],
  "spark.executor.cores": ["SPARK_EXECUTOR_CORES"],
  "spark.driver.bindAddress": ["SPARK_LOCAL_IP"],
  // Spark's default driver host is the local host name it finds from these (Utils.scala); the bind
  // address falls back to the driver host, so a written one would move both.
  "spark.driver.host": ["SPARK_LOCAL_HOSTNAME", "SPARK_LOCAL_IP"],
};

/**
 * A share of memory in Spark's `NNNm` form, at least 512m: Spark refuses a
 * JVM whose heap is under 450 MiB (1.5 times its 300 MiB reserve).
 */
function mib(bytes: number, fraction: number): string {
  return `${Math.max(512, Math.floor((bytes / 1024 / 1024) * fraction))}m`;
}

/** The SPARK_JAVA_OPT_* values, in sparkJavaOptValues' order. */
function sparkJavaOpts(world: World): string[] {
  return sparkJavaOptValues(world).map(javaOptionWord);
}

/**
 * One JVM option as a word of `extraJavaOptions`, which Spark splits like a
 * shell: an option with blanks, quotes or backslashes goes in double quotes.
 */
function javaOptionWord(opt: string): string {
  return /[\s"'\\]/.test(opt) ? `"${opt.replace(/[\\"]/g, (c) => "\\" + c)}"` : opt;
}

/** Everything the Spark adapter decides, before it is written as a file. */
export interface SparkPlan {
  readonly properties: ReadonlyMap<string, string>;
  /** User entries (their spark-defaults.conf, SPARK_* variables) that won over ours. */
  readonly kept: readonly string[];
  readonly cluster?: Extract<Step, { step: "spark-cluster" }>;
  readonly roles?: Readonly<Record<string, string>>;
  readonly warnings: readonly string[];
  /** The Python `spark.pyspark.python` names. */
  readonly python: string;
}

/** Decides the Spark properties for the context. */
function sparkPlan(input: PlanInput, userDefaults: ReadonlyMap<string, string>): SparkPlan {
  const { world, detection, settings } = input;
  const spark = settings.spark;
  const facts = detection.facts;
  // Spark's cores follow the ML_NUM_CPUS the program gets, as the thread pools do.
  const cores = effectiveCpus(input);
  // Variables as the command will have them: the user's, the platform's, the image config's.
  const env = (n: string) => givenEnv(input, n);
  const ours = new Map<string, string>();
  const warnings: string[] = [];
  const driverMemory = facts.memoryBytes === null
    ? undefined
    : mib(facts.memoryBytes, spark.driverMemoryFraction);
  let cluster: SparkPlan["cluster"];
  let roles: SparkPlan["roles"];

  const multi = sagemakerJobHosts(input);
  if (detection.context.platform === "kubernetes") {
    // The API server's port goes into the master URL: one that is no port (a context forced
    // to Kubernetes with hand-made variables) is exit 78 naming it, as every port variable is.
    const port = portEnv(world, "KUBERNETES_SERVICE_PORT") ?? 443;
    const apiHost = env("KUBERNETES_SERVICE_HOST");
    // A context forced to Kubernetes off a pod has no API server to name: no master, said.
    if (apiHost !== undefined) {
      ours.set("spark.master", `k8s://https://${urlHost(apiHost)}:${port}`);
    } else {
      warnings.push(
        "Spark on Kubernetes: KUBERNETES_SERVICE_HOST is not set, so no spark.master is written (give --master)",
      );
    }
    const ns = podNamespace(world);
    if (ns) ours.set("spark.kubernetes.namespace", ns);
    const ip = env("POD_IP") ?? reachableAddress(world);
    if (ip) ours.set("spark.driver.host", ip);
    ours.set("spark.driver.bindAddress", "0.0.0.0");
    // Executors are owned by the driver pod (deleted with it). Spark stops when no pod has
    // the name it is given: without a known name, the executors outlive the driver instead.
    const pod = podName(world, detection.context.platform);
    if (pod !== undefined) ours.set("spark.kubernetes.driver.pod.name", pod);
    else {
      warnings.push(
        "Spark on Kubernetes: this pod's name is not known (the host name is not it here): " +
          "executors will not be deleted with the driver; give POD_NAME from the downward API",
      );
    }
    const image = spark.kubernetes.executorImage ?? env("CHAMELEON_IMAGE");
    if (image) ours.set("spark.kubernetes.container.image", image);
    else {warnings.push(
        "Spark on Kubernetes: no executor image (set spark.kubernetes.executorImage in the config or CHAMELEON_IMAGE)",
      );}
    if (spark.kubernetes.serviceAccount) {
      ours.set(
        "spark.kubernetes.authenticate.executor.serviceAccountName",
        spark.kubernetes.serviceAccount,
      );
    }
    ours.set("spark.executor.instances", String(spark.kubernetes.executorInstances));
    ours.set("spark.executor.cores", String(spark.kubernetes.executorCores));
    ours.set("spark.executor.memory", spark.kubernetes.executorMemory);
  } else if (multi !== undefined) {
    const [primary] = multi.hosts;
    ours.set("spark.master", `spark://${primary}:${spark.standalone.masterPort}`);
    // The driver (the command) runs on the primary host only.
    ours.set("spark.driver.host", primary!);
    // Executors sized by this host (the driver's) fit every worker only when the hosts are
    // alike. Across instance groups (reference/sagemaker.md section 1.3) a smaller host's worker
    // would launch none: left out, each worker's executor takes the cores it offers (Spark
    // standalone's default) and Spark's default memory.
    if (!multi.heterogeneous) {
      ours.set("spark.executor.cores", cores);
      if (facts.memoryBytes !== null) {
        ours.set("spark.executor.memory", mib(facts.memoryBytes, 0.7));
      }
    }
    const command = commandIds(input);
    if (command.uid !== world.snapshot.uid) {
      // Spark's sbin scripts run as the entrypoint: the executors would run the job's code with
      // more rights than the command has.
      warnings.push(
        `Spark standalone cluster: the master and worker run as uid ${world.snapshot.uid}, the entrypoint's, not as uid ${command.uid}, the command's: executors run its tasks as uid ${world.snapshot.uid}`,
      );
    }
    cluster = {
      step: "spark-cluster",
      role: multi.current === primary ? "primary" : "worker",
      master: primary!,
      masterPort: spark.standalone.masterPort,
      webUiPort: spark.standalone.webUiPort,
      hosts: multi.hosts,
      currentHost: multi.current,
      sparkHome: env("SPARK_HOME") ?? spark.home,
      timeoutSeconds: spark.standalone.registerTimeoutSeconds,
      workerCores: Number(cores),
      // The primary also runs the driver: its worker offers what the driver leaves, so an
      // executor (70% of a host) lands there only when it fits beside it.
      ...(facts.memoryBytes === null ? {} : {
        workerMemory: mib(
          facts.memoryBytes,
          multi.current === primary ? Math.max(0.1, 0.8 - spark.driverMemoryFraction) : 0.8,
        ),
      }),
    };
    roles = Object.fromEntries(multi.hosts.map((h) => [
      h,
      h === primary
        ? "master and worker; runs the command, then stops the cluster"
        : "worker; exits 0 when the master is gone",
    ]));
  } else {
    ours.set("spark.master", `local[${cores}]`);
  }
  if (driverMemory !== undefined) ours.set("spark.driver.memory", driverMemory);
  const python = env("PYSPARK_PYTHON") ?? spark.python;
  ours.set("spark.pyspark.python", python);
  // Spark reads the driver's Python from spark.pyspark.driver.python, then spark.pyspark.python,
  // and only then PYSPARK_DRIVER_PYTHON: the user's variable keeps its say as a property.
  const driverPython = env("PYSPARK_DRIVER_PYTHON");
  if (driverPython !== undefined) ours.set("spark.pyspark.driver.python", driverPython);
  const jars = world.children(spark.jarsDir).filter((n) => n.endsWith(".jar")).map((n) =>
    `${spark.jarsDir}/${n}`
  );
  if (jars.length > 0) ours.set("spark.jars", jars.join(","));
  const javaOpts = sparkJavaOpts(world);
  if (javaOpts.length > 0) {
    ours.set("spark.driver.extraJavaOptions", javaOpts.join(" "));
    ours.set("spark.executor.extraJavaOptions", javaOpts.join(" "));
  }

  const kept: string[] = [];
  const properties = new Map(userDefaults);
  for (const [k, v] of ours) {
    const envName = ENV_FOR_PROPERTY[k]?.find((n) => env(n) !== undefined);
    if (userDefaults.has(k)) kept.push(`${k} (spark-defaults.conf)`);
    else if (envName !== undefined) kept.push(`${k} (${envName})`);
    else properties.set(k, v);
  }
  return {
    properties,
    kept,
    ...(cluster ? { cluster } : {}),
    ...(roles ? { roles } : {}),
    warnings,
    python,
  };
}

/**
 * The conf folder the user's defaults come from: their SPARK_CONF_DIR, else
 * SPARK_HOME/conf, as the command will have them (the image config's env too).
 */
function sourceConfDir(world: World, config: ImageConfig, settings: Settings): string {
  const given = (name: string) => givenEnv({ world, settings, config }, name);
  return given("SPARK_CONF_DIR") ?? `${given("SPARK_HOME") ?? settings.spark.home}/conf`;
}

/** A shell word that assigns a variable: `NAME=value`, its value unquoted. */
const SHELL_ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/;

/**
 * Each `<property><name>..</name><value>..</value></property>` of XML text, or Hadoop's attribute
 * form `<property name=".." value=".."/>`: its start tag's attribute text and its content (none
 * when self-closed), as `/<property\b((?:[^>"']|"[^"]*"|'[^']*')*?)(?:\/>|>([\s\S]*?)<\/property>)/g`
 * matches them. Read by hand: the pattern tried again from each `<property` a tag or a quote
 * that never closes, each try reading to the text's end (20,000 unclosed tags: 5 s). The walk
 * over a start tag goes the same way from wherever it passes, so a place a failed walk passed
 * fails at once.
 */
export function xmlProperties(text: string): { attributes: string; content: string | undefined }[] {
  return xmlPropertyPlaces(text).map((m) => ({
    attributes: text.slice(m.attributes, m.attributesEnd),
    content: m.content === undefined ? undefined : text.slice(m.content, m.contentEnd),
  }));
}

/** Where a property's start tag's attribute text and its content (none when self-closed) stand. */
interface PropertyPlace {
  readonly attributes: number;
  readonly attributesEnd: number;
  readonly content: number | undefined;
  readonly contentEnd: number;
}

/** {@linkcode xmlProperties}, as the places of what it gives. */
function xmlPropertyPlaces(text: string): PropertyPlace[] {
  const out: PropertyPlace[] = [];
  const closes: number[] = [];
  for (let i = text.indexOf("</property>"); i >= 0; i = text.indexOf("</property>", i + 1)) {
    closes.push(i);
  }
  // The first closing tag at or after a place (-1: none), by binary search.
  const closeFrom = (at: number): number => {
    let lo = 0, hi = closes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (closes[mid]! < at) lo = mid + 1;
      else hi = mid;
    }
    return lo < closes.length ? closes[lo]! : -1;
  };
  const failed = new Uint8Array(text.length + 1);
  const passed: number[] = [];
  let from = 0;
  for (let p = text.indexOf("<property", from); p >= 0; p = text.indexOf("<property", from)) {
    const start = p + 9;
    from = p + 1;
    if (/\w/.test(text[start] ?? "")) continue; // \b
    passed.length = 0;
    let i = start;
    let found: { end: number; content: number | undefined; contentEnd: number } | undefined;
    while (i < text.length && failed[i] === 0) {
      const c = text[i];
      if (c === "/" && text[i + 1] === ">") {
        found = { end: i + 2, content: undefined, contentEnd: i };
        break;
      }
      if (c === ">") {
        const close = closeFrom(i + 1);
        if (close >= 0) found = { end: close + 11, content: i + 1, contentEnd: close };
        break;
      }
      passed.push(i);
      if (c === '"' || c === "'") {
        const q = text.indexOf(c, i + 1);
        if (q < 0) break;
        i = q + 1;
      } else i++;
    }
    if (found === undefined) {
      for (const at of passed) failed[at] = 1;
      continue;
    }
    out.push({
      attributes: start,
      attributesEnd: i,
      content: found.content,
      contentEnd: found.contentEnd,
    });
    from = found.end;
  }
  return out;
}

/**
 * The content of the first `<tag>..</tag>` in `text`, as `/<tag>([\s\S]*?)<\/tag>/` finds it:
 * when the first opening tag has no closing one after it, no later one has.
 */
export function xmlElement(text: string, tag: string): string | undefined {
  const at = elementPlace(text, tag, 0);
  return at === undefined ? undefined : text.slice(at.start, at.end);
}
/** Where a CDATA section was set aside: its index between two private-use characters. */
const XML_PLACEHOLDER = /\uE000(\d+)\uE001/g;
const XML_ENTITY = /&(?:(amp|lt|gt|quot|apos)|#(\d+)|#x([0-9A-Fa-f]+));/g;
const XML_NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

/** Character data as an XML reader reports it: entities replaced. */
function xmlEntities(text: string): string {
  return text.replace(XML_ENTITY, (whole, named, dec, hex) => {
    if (named !== undefined) return XML_NAMED_ENTITIES[named]!;
    const code = dec !== undefined ? Number(dec) : parseInt(hex, 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/**
 * XML text with its comments dropped and its CDATA sections set aside (each
 * replaced by a placeholder), so that markup written inside them (a
 * commented-out `<value>`, an example in a description) is matched as nothing.
 */
export function xmlSetAside(text: string): { text: string; cdata: string[] } {
  const cdata: string[] = [];
  let plain = "";
  let copied = 0;
  for (const { at, close, isCdata } of xmlAsides(text)) {
    plain += text.slice(copied, at);
    if (isCdata) plain += `\uE000${cdata.push(text.slice(at + 9, close)) - 1}\uE001`;
    copied = close + 3;
  }
  return { text: plain + text.slice(copied), cdata };
}

/**
 * The CDATA sections and comments of `text` in order, each from its opening to its closing
 * `]]>` or `-->` (as `/<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->/g` finds them), read by hand: the
 * pattern read to the text's end again from each opening that never closes (20,000: 0.4 s);
 * when one does not close, none after it does.
 */
function* xmlAsides(text: string): Generator<{ at: number; close: number; isCdata: boolean }> {
  let cdataAt = text.indexOf("<![CDATA[");
  let commentAt = text.indexOf("<!--");
  while (cdataAt >= 0 || commentAt >= 0) {
    const isCdata = cdataAt >= 0 && (commentAt < 0 || cdataAt < commentAt);
    const at = isCdata ? cdataAt : commentAt;
    const close = isCdata ? text.indexOf("]]>", at + 9) : text.indexOf("-->", at + 4);
    if (close < 0) {
      if (isCdata) cdataAt = -1;
      else commentAt = -1;
      continue;
    }
    yield { at, close, isCdata };
    const copied = close + 3;
    if (cdataAt >= 0 && cdataAt < copied) cdataAt = text.indexOf("<![CDATA[", copied);
    if (commentAt >= 0 && commentAt < copied) commentAt = text.indexOf("<!--", copied);
  }
}

/**
 * An element's content as Hadoop's Configuration reads it (entities replaced,
 * CDATA as it is), and the pieces of it as the file spells them: each run of
 * text between CDATA sections with its entities, and each section's text.
 */
function xmlContent(
  content: string,
  cdata: readonly string[],
): { read: string; spelled: string[] } {
  let read = "";
  const spelled: string[] = [];
  let at = 0;
  for (const m of content.matchAll(XML_PLACEHOLDER)) {
    const run = content.slice(at, m.index);
    read += xmlEntities(run) + cdata[Number(m[1])]!;
    spelled.push(run, cdata[Number(m[1])]!);
    at = m.index + m[0].length;
  }
  read += xmlEntities(content.slice(at));
  spelled.push(content.slice(at));
  return { read: read.trim(), spelled: spelled.map((p) => p.trim()).filter((p) => p !== "") };
}

/** An attribute's value in an XML start tag's attribute text. */
function xmlAttribute(attributes: string, name: string): string | undefined {
  const at = attributePlace(attributes, name, 0);
  return at === undefined ? undefined : attributes.slice(at.start, at.end);
}

/**
 * Values under secret-named keys in a conf file copied as it is: assignments
 * in a shell file (spark-env.sh), Hadoop-style XML properties (core-site.xml,
 * hive-site.xml) and Java properties (anything else). A Secret mounted there is
 * a common way to give Spark its S3 or metastore credentials; the copy stays
 * whole, and --explain, logs and captures hide these values.
 */
function confFileSecrets(name: string, text: string): string[] {
  const secret = ([key, value]: readonly [string, string]) =>
    isSecretProperty(key) && value !== "" ? [value] : [];
  if (name.endsWith(".xml")) {
    const { text: plain, cdata } = xmlSetAside(text);
    // Each <property>'s name and value, in either order, whatever stands between them.
    return xmlProperties(plain).flatMap((m) => {
      const body = m.content ?? "";
      const name = xmlElement(body, "name") ?? xmlAttribute(m.attributes, "name");
      const value = xmlElement(body, "value") ?? xmlAttribute(m.attributes, "value");
      if (name === undefined || value === undefined) return [];
      // The value as Hadoop reads it (what logs may print), and its pieces as the file spells
      // them (what a capture of the file holds), when they differ.
      const { read, spelled } = xmlContent(value, cdata);
      const found = secret([xmlContent(name, cdata).read, read]);
      if (found.length === 0) return [];
      return [...new Set([...found, ...spelled])];
    });
  }
  if (name.endsWith(".sh")) {
    // Every assignment as sh reads it: several to a line, after `export` or `declare -x`, or
    // before a command; each value unquoted (a comment after it is none of it).
    return shellWords(text).flatMap((w) => {
      const m = SHELL_ASSIGNMENT.exec(w.text);
      return m === null ? [] : secret([m[1]!, m[2]!]);
    });
  }
  // Java properties: a secret-named key's value, and -D options with secret-named properties.
  return [...parseSparkDefaults(text)].flatMap(([k, v]) =>
    isSecretProperty(k) ? secret([k, v]) : javaPropertySecrets(v)
  );
}

/** The files of a Spark conf folder the snapshot holds, with their text. */
function confFiles(world: World, dir: string): { name: string; content: string }[] {
  return world.children(dir).flatMap((name) => {
    const content = world.read(`${dir}/${name}`);
    return content === undefined ? [] : [{ name, content }];
  });
}

/** The secret values in every file of a Spark conf folder the snapshot holds. */
function confDirSecrets(files: readonly { name: string; content: string }[]): string[] {
  return files.flatMap(({ name, content }) => confFileSecrets(name, content));
}

/** The Spark conf folders a start records (see `dynamicPaths`). */
function recordedConfDirs(world: World, config: ImageConfig): string[] {
  const dirs = settingsVariants(config).filter((s) => s.spark.enabled)
    .map((s) => sourceConfDir(world, config, s));
  return [...new Set(dirs)];
}

/**
 * The secret values in the Spark conf folders a start records, for a capture
 * to hide: found in the files themselves, so they are hidden whether or not
 * the plan succeeds or turns Spark on for the context it detects.
 */
function sparkConfSecrets(world: World, config: ImageConfig): string[] {
  return recordedConfDirs(world, config).flatMap((dir) => confDirSecrets(confFiles(world, dir)));
}

/**
 * How a capture hides the values of secret-named keys where they stand in
 * each file of the recorded Spark conf folders, read as
 * {@linkcode confFileSecrets} reads it: a value too short to be scrubbed
 * elsewhere (`spark.ssl.keyPassword pw`, `<value>pw</value>`) is hidden all
 * the same, in the formats whose pairs the generic text reader does not see
 * (a blank between key and value, XML), and a secret `-Dname=value` in Java
 * options in its word, the rest of the options kept (the generic reader
 * took the rest of the line). Used instead of the generic reader.
 */
function sparkConfHiders(
  world: World,
  config: ImageConfig,
): ReadonlyMap<string, (text: string) => string> {
  const out = new Map<string, (text: string) => string>();
  for (const dir of recordedConfDirs(world, config)) {
    for (const name of world.children(dir)) {
      // A shell file's assignments the generic reader sees; XML may hold them in its text too.
      if (name.endsWith(".sh")) continue;
      out.set(
        `${dir}/${name}`,
        name.endsWith(".xml") ? (t) => hideSecretPairs(hideXmlSecrets(t)) : hideSecretProperties,
      );
    }
  }
  return out;
}

/**
 * Java properties text (spark-defaults.conf) with the value of each
 * secret-named key replaced where it stands, read as
 * {@linkcode parseSparkDefaults} reads it: after `=`, `:` or blanks, to the
 * end of its logical line (lines a backslash continues included).
 */
export function hideSecretProperties(text: string): string {
  let out = "";
  let copied = 0;
  for (const { key, value, valueAt, end } of propertyEntries(text)) {
    let shown: string;
    if (isSecretProperty(key)) shown = value === "" ? "" : REDACTED;
    else {
      const hidden = javaOptionsHidden(value);
      if (hidden === undefined) continue;
      // As --explain shows it, written as the file must hold it (see javaPropertySecrets).
      shown = escapeProperty(`x${hidden}`, false).slice(1);
    }
    if (shown === "") continue;
    out += text.slice(copied, valueAt) + shown;
    copied = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * XML text with its comments and CDATA sections, as {@linkcode xmlSetAside}
 * finds them, each replaced by as many private-use characters: markup inside
 * them is matched as nothing, and every place is the text's own.
 */
function xmlMasked(text: string): string {
  let out = "";
  let copied = 0;
  for (const { at, close } of xmlAsides(text)) {
    out += text.slice(copied, at) + "\uE002".repeat(close + 3 - at);
    copied = close + 3;
  }
  return out + text.slice(copied);
}

/** Where the content of the first `<tag>..</tag>` stands in `text`, `offset` added. */
function elementPlace(text: string, tag: string, offset: number) {
  const open = text.indexOf(`<${tag}>`);
  const close = open < 0 ? -1 : text.indexOf(`</${tag}>`, open + tag.length + 2);
  return close < 0 ? undefined : { start: offset + open + tag.length + 2, end: offset + close };
}

/** Where an attribute's value stands in a start tag's attribute text. */
function attributePlace(attributes: string, name: string, offset: number) {
  const m = new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(attributes);
  if (m === null) return undefined;
  const end = offset + m.index + m[0].length - 1;
  return { start: end - (m[1] ?? m[2])!.length, end };
}

/**
 * Hadoop-style XML with the value of each secret-named property replaced
 * where it stands, read as {@linkcode confFileSecrets} reads it.
 */
export function hideXmlSecrets(text: string): string {
  const masked = xmlMasked(text);
  // An element's content or an attribute's value as Hadoop reads it (entities decoded), as
  // confFileSecrets() reads both.
  const read = (p: { start: number; end: number }) => {
    const { text: plain, cdata } = xmlSetAside(text.slice(p.start, p.end));
    return xmlContent(plain, cdata).read;
  };
  let out = "";
  let copied = 0;
  for (const m of xmlPropertyPlaces(masked)) {
    const attributes = masked.slice(m.attributes, m.attributesEnd);
    const body = m.content === undefined ? "" : masked.slice(m.content, m.contentEnd);
    const name = (m.content === undefined ? undefined : elementPlace(body, "name", m.content)) ??
      attributePlace(attributes, "name", m.attributes);
    const value = (m.content === undefined ? undefined : elementPlace(body, "value", m.content)) ??
      attributePlace(attributes, "value", m.attributes);
    if (name === undefined || value === undefined || value.start < copied) continue;
    if (!isSecretProperty(read(name)) || read(value) === "") continue;
    out += text.slice(copied, value.start) + REDACTED;
    copied = value.end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Splits Java options as Spark's `Utils.splitCommandString` does: blanks
 * separate words, single quotes keep everything, double quotes keep all but a
 * backslash, which takes the next character as it is.
 */
function splitOptions(text: string): string[] {
  const out: string[] = [];
  let word = "";
  let inWord = false;
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = "";
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = "";
      else if (c === "\\") word += text[++i] ?? "";
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (!/\s/.test(c)) {
      word += c;
      inWord = true;
    } else if (inWord) {
      out.push(word);
      word = "";
      inWord = false;
    }
  }
  if (inWord || quote !== "") out.push(word);
  return out;
}

/** Values of secret-named `-Dname=value` system properties in Java options (extraJavaOptions). */
function javaPropertySecrets(options: string): string[] {
  return splitOptions(options).flatMap((w) => {
    const v = joinedSecret(w);
    if (v === undefined) return [];
    // Also as spark-defaults.conf writes it: quoted in its word, then escaped as a property.
    const quoted = v.replace(/[\\"]/g, (c) => "\\" + c);
    // Escaped where it stands in the value: a leading blank, `=` or `:` is escaped only at its start.
    const inValue = escapeProperty(`x${quoted}`, false).slice(1);
    return [...new Set([v, quoted, escapeProperty(quoted, false), inValue])];
  });
}

/**
 * Java options (extraJavaOptions) as --explain shows them: each secret-named
 * `-Dname=value` with its value replaced in its word, however short (a
 * scrub of the text would leave `-Dx.password=pw`); as given when there is none.
 */
function shownJavaOptions(options: string): string {
  return javaOptionsHidden(options) ?? options;
}

/** {@linkcode shownJavaOptions}, undefined when no word is a secret: the options split once. */
function javaOptionsHidden(options: string): string | undefined {
  const words = splitOptions(options);
  const secrets = words.map(joinedSecret);
  if (secrets.every((s) => s === undefined)) return undefined;
  return words.map((w, i) => {
    const secret = secrets[i];
    return javaOptionWord(
      secret === undefined ? w : w.slice(0, w.length - secret.length) + REDACTED,
    );
  }).join(" ");
}

/** Mode 0600, owned by the command's user when root writes the file for another one. */
function secretFileMode(input: PlanInput): Pick<PlanFile, "mode" | "owner"> {
  const ids = commandIds(input);
  const own = input.world.snapshot;
  const owner = own.uid === 0 && (ids.uid !== 0 || ids.gid !== own.gid)
    ? { owner: { uid: ids.uid, gid: ids.gid } }
    : {};
  return { mode: "0600", ...owner };
}

/** Renders spark-defaults.conf, escaped as `Properties.load` reads it. */
function renderDefaults(properties: ReadonlyMap<string, string>): string {
  const lines = [...properties].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) =>
    // An empty key has nothing to escape: only a leading separator keeps it empty.
    `${k === "" ? "=" : `${escapeProperty(k, true)} `}${escapeProperty(v, false)}`
  );
  return `# Generated by chameleon for this context; your own entries were kept as they are.\n${
    lines.join("\n")
  }\n`;
}

/** The Spark adapter. */
export const spark: Adapter = {
  name: "spark",
  paths: [{ kind: "read", path: POD_NAMESPACE_FILE }, ...SAGEMAKER_HOST_FILES],
  captureSecrets: sparkConfSecrets,
  captureHiders: sparkConfHiders,
  dynamicPaths(world: World, config: ImageConfig): PathDecl[] {
    // The context is not known yet: every Spark setting some context could use.
    const variants = settingsVariants(config).filter((s) => s.spark.enabled);
    if (variants.length === 0) return [];
    // The generated folder where each runtime dir could be: one an earlier start left may be
    // closed to this uid.
    return [
      ...variants.flatMap((s) => [
        { kind: "list" as const, path: sourceConfDir(world, config, s), each: "read" as const },
        { kind: "list" as const, path: s.spark.jarsDir, match: /\.jar$/, each: "exists" as const },
      ]),
      ...runtimeDirCandidates(world).map((d) => ({
        kind: "stat" as const,
        path: `${d}/spark-conf`,
      })),
    ];
  },
  plan(input) {
    const { world, settings, runtimeDir } = input;
    if (!settings.spark.enabled) return {};
    // A pod Spark started for an application of its own is set up by Spark (its SPARK_* and
    // the conf folder it mounts): properties generated here would be for another driver.
    const role = sparkPodRole(input);
    if (role !== undefined) {
      return {
        notes: { spark: { pod: `${role}: run as Spark's entrypoint script runs it` } },
        warnings: sparkPodWarnings(input, role),
      };
    }
    // Databricks runs its own Spark (reference/platforms.md section B.4): a local-mode
    // master and a conf folder of ours would take a session away from its cluster.
    if (input.detection.context.platform === "databricks") {
      return { notes: { spark: { skipped: "Databricks runs its own Spark: nothing generated" } } };
    }
    const userConfDir = givenEnv(input, "SPARK_CONF_DIR");
    const from = sourceConfDir(world, input.config, settings);
    // Their entries go into the generated file, so one that cannot be read cannot be left out
    // silently (exit 78); in their own SPARK_CONF_DIR, Spark reads it as it is.
    const defaults = `${from}/spark-defaults.conf`;
    const user = parseSparkDefaults(
      (userConfDir ? world.read(defaults) : presentText(world, defaults)) ?? "",
    );
    const sp = sparkPlan(input, user);
    // A property named like a secret (spark.hadoop.fs.s3a.secret.key) is shown redacted.
    const shown = new Map<string, string>();
    const secrets: string[] = [];
    for (const [k, v] of sp.properties) {
      const secret = isSecretProperty(k);
      shown.set(k, secret ? REDACTED : shownJavaOptions(v));
      if (secret) secrets.push(v);
      else secrets.push(...javaPropertySecrets(v));
    }
    const notes = {
      spark: {
        properties: Object.fromEntries(shown),
        ...(sp.kept.length ? { userKept: sp.kept } : {}),
        ...(sp.roles ? { roles: sp.roles } : {}),
      },
    };
    // The Python the properties name; a value the image config's env gives is its choice.
    const env: EnvOp[] = [fill("PYSPARK_PYTHON", sp.python)];
    const warnings = [...sp.warnings];
    const steps = sp.cluster ? [sp.cluster] : [];
    const propertySecrets = secrets.length > 0;
    // The whole conf folder's secrets (spark-env.sh, core-site.xml, ...), whether or not it is
    // the user's own SPARK_CONF_DIR, as a capture finds them.
    const files = confFiles(world, from);
    secrets.push(...confDirSecrets(files));
    if (userConfDir) {
      // Their SPARK_CONF_DIR wins: nothing is generated, and --explain says so.
      warnings.push(
        `SPARK_CONF_DIR=${userConfDir} is set: the generated Spark properties are not applied`,
      );
      return { env, warnings, notes, steps, secrets };
    }
    // Spark reads its conf folder as the command: one out of its reach it takes for no folder,
    // and would start with neither the generated properties nor the image's own.
    const closed = runtimeClosedToCommand(input);
    if (closed !== undefined) {
      warnings.push(
        `the runtime dir ${runtimeDir} ${closed}: the generated Spark properties are not applied (Spark reads its own conf folder)`,
      );
      return { env, warnings, notes, steps, secrets };
    }
    const dir = `${runtimeDir}/spark-conf`;
    // A folder an earlier start of another uid left there (root's 0755, in a runtime dir its group
    // shares) takes no file of this start: Spark keeps its own conf folder, said, rather than a
    // start that fails writing the generated one.
    const { uid, gid, groups } = world.snapshot;
    if (world.isDir(dir) && !world.canWrite(dir, uid, gid, groups)) {
      const st = world.stat(dir);
      warnings.push(
        `${dir} (${
          modeAndOwner(st)
        }, an earlier start's) cannot be written by uid ${uid}: the generated Spark properties are not applied (Spark reads its own conf folder)`,
      );
      return { env, warnings, notes, steps, secrets };
    }
    // The rest of the image's conf folder comes along into the generated one as links: binary
    // files (keystores), large ones and unreadable ones as they are, each with its own mode.
    const links: Step[] = world.children(from).filter((name) => name !== "spark-defaults.conf")
      .map((name) => ({ step: "link", path: `${dir}/${name}`, target: `${from}/${name}` }));
    return {
      env: [...env, fill("SPARK_CONF_DIR", dir)],
      dirs: [{ path: dir, mode: "0755" }],
      files: [
        {
          path: `${dir}/spark-defaults.conf`,
          content: renderDefaults(sp.properties),
          ...(propertySecrets ? { display: renderDefaults(shown) } : {}),
          // A secret property (an S3 key) is for the command's user alone: the runtime dir may
          // be a shared node's /tmp (Slurm), and the image's own file may have been 0600.
          ...(propertySecrets ? secretFileMode(input) : { mode: "0644" }),
        },
      ],
      steps: [...links, ...steps],
      warnings,
      notes,
      secrets,
    };
  },
};
