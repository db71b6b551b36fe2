/**
 * A start, as a list of verbs: parse the command line, take (or load) the
 * snapshot, detect, plan, then explain, capture, or apply and run.
 *
 * @module
 */

import { envSwitch, helpText, type Options, parseArgs, withinEdits } from "./cli.ts";
import { secretFilePaths } from "./adapters/credentials.ts";
import { CONFIG_CANDIDATES, DEFAULT_CONFIG } from "./config.ts";
import {
  configFileOf,
  configPaths,
  configText,
  loadConfig,
  loadConfigSchema,
  type LoadedConfig,
} from "./config_load.ts";
import { detect } from "./contexts/mod.ts";
import { errorLine, exitCodeOf, HookError, InputError, UsageError } from "./errors.ts";
import type { Explanation } from "./explain.ts";
import { type Logger, shownLine, writeAll } from "./log.ts";
import { ADAPTERS } from "./adapters/mod.ts";
import { cgroupPaths } from "./contexts/facts.ts";
import { detectionPaths, type PathSource } from "./paths.ts";
import { failureReportOf, plan, planPaths } from "./plan.ts";
import { envSecrets, secretsInJson, secretsInText } from "./secrets.ts";
import {
  type CaptureSecrets,
  FILE_LIMIT,
  liveExists,
  loadSnapshot,
  readLiveFile,
  redactSnapshot,
  relativePath,
  takeSnapshot,
  writeSnapshotFile,
} from "./snapshot.ts";
import { outputError, writeOutput } from "./sys/files.ts";
import { outputName } from "./sys/stream.ts";
import { checkCapabilities, execStage } from "./sys/exec.ts";
import { holdInspectorAddress, warmUpSignals } from "./sys/signals.ts";
import type { Plan, Snapshot } from "./types.ts";
import { VERSION } from "./version.ts";
import { World } from "./world.ts";

const encoder = new TextEncoder();

/** Writes text to stdout (which belongs to `--explain` and the command); fails as an output does. */
export function print(text: string): void {
  try {
    writeAll(Deno.stdout, encoder.encode(text.endsWith("\n") ? text : text + "\n"));
  } catch (e) {
    throw outputError("Standard output", e);
  }
}

/** Every declared path source, for a live snapshot. */
export function pathSources(
  options: Pick<Options, "config">,
  env: Readonly<Record<string, string>>,
): PathSource[] {
  return [
    { paths: detectionPaths(), dynamicPaths: cgroupPaths },
    planPaths,
    configPaths(options.config, env["CHAMELEON_CONFIG"]),
    ...ADAPTERS,
  ];
}

function bypassReason(env: Readonly<Record<string, string>>): string | undefined {
  if (envSwitch(env, "CHAMELEON_DISABLE")) {
    return `CHAMELEON_DISABLE=${env["CHAMELEON_DISABLE"]}: a real start runs the command untouched`;
  }
  if (env["CHAMELEON_STARTED"] === "1") {
    return "CHAMELEON_STARTED=1: a nested start runs the command as it is";
  }
  return undefined;
}

/** Runs the command with the environment as it is (CHAMELEON_DISABLE, nested starts). */
async function runUntouched(
  command: readonly string[],
  env: Readonly<Record<string, string>>,
  why: string,
  log: Logger,
): Promise<never> {
  if (command.length === 0) throw new UsageError(`No command to run (${why})`);
  log.debug(`${why}: running the command untouched`);
  return await execStage({ argv: command, env });
}

/**
 * Detects and plans over a snapshot: the same code for explain, replay and a
 * real start. `loading` is the config the live snapshot already loaded.
 */
export async function understand(
  snapshot: Snapshot,
  options: Options,
  loading?: Promise<LoadedConfig>,
) {
  const world = new World(snapshot);
  const named = options.config;
  if (options.snapshot !== undefined && named !== undefined && !world.exists(named)) {
    // A replay reads the config from the snapshot's files (design section 3): "no such file"
    // would be wrong of a --config file that is there on this machine.
    const from = options.snapshot === "-" ? "standard input" : options.snapshot;
    throw new InputError(
      `Config ${named}: not in snapshot ${from} (a replay reads the config from the snapshot's files: capture with --config ${named})`,
    );
  }
  const { config, file, validated } = await (loading ?? loadConfig(world, named));
  const detection = detect(world, {
    context: options.context,
    workload: options.workload,
    defaultWorkload: (p) => config.defaultWorkload[p],
  });
  return {
    world,
    config,
    configFile: file,
    configValidated: validated,
    detection,
    plan: plan(world, detection, config),
  };
}

/** `--check-config [FILE] [--write-json OUT]`: validate with the schema, optionally write normalised JSON. */
async function checkConfig(
  options: Options,
  env: Readonly<Record<string, string>>,
  log: Logger,
): Promise<number> {
  const file = configFileOf(
    options.checkConfig?.file ?? options.config,
    env["CHAMELEON_CONFIG"],
    liveExists,
  );
  if (file === null) {
    // A missing config is a config error (design section 7: 78), as --check-config promises 0 or 78.
    throw new InputError(
      `No config to check: give --check-config FILE (looked for ${CONFIG_CANDIDATES.join(", ")})`,
    );
  }
  const text = configText(file, await readLiveFile(file, env));
  const { validateConfig, normalizeConfig } = await loadConfigSchema();
  const config = validateConfig(file, text);
  if (options.writeJson !== undefined) {
    const out = options.writeJson;
    const json = JSON.stringify(normalizeConfig(config, VERSION), null, 2) + "\n";
    const bytes = new TextEncoder().encode(json).length;
    if (bytes > FILE_LIMIT) {
      throw new InputError(
        `Config output ${out}: the normalised JSON would be ${bytes} bytes; a start reads at most ${FILE_LIMIT}`,
      );
    }
    await writeOutput("Config output", out, json, 0o644);
    log.info(`config ${file} is valid; normalised JSON written to ${outputName(out)}`);
  } else log.info(`config ${file} is valid`);
  return 0;
}

/**
 * Where a failure is reported when no plan came out: detection alone decides,
 * without the config (which may be what failed).
 */
function failurePathWithoutPlan(
  snapshot: Snapshot,
  options: Pick<Options, "context" | "workload">,
): string | null {
  const at = (s: Snapshot, o: Pick<Options, "context" | "workload">) =>
    failureReportOf(detect(new World(s), { context: o.context, workload: o.workload }))?.path ??
      null;
  try {
    return at(snapshot, options);
  } catch {
    // The forcing is what failed (CHAMELEON_WORKLOAD=bogus): the platform's own signals still
    // say whether SageMaker waits for a reason.
    try {
      const { CHAMELEON_CONTEXT: _c, CHAMELEON_WORKLOAD: _w, ...env } = snapshot.env;
      return at({ ...snapshot, env }, {});
    } catch {
      return null;
    }
  }
}

/** Options that make a start no real one (or say where output goes: only those do). */
const NOT_REAL = [
  "--explain",
  "--snapshot",
  "--capture",
  "--check-config",
  "--write-json",
  "--format",
  "--help",
  "--version",
];

/**
 * Whether a failed command line may have asked for something else than a real
 * start: one of those options or a near miss of one (`--explian`) among its own
 * options. Where those end is not sure when they did not parse (`--contxt x`:
 * x may be its value), so they are taken to end at `--` or at a second word in
 * a row that is no option: the command's `--format csv` after it is the
 * command's. Asking too often only means a failure file is not written.
 */
function maybeNotReal(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return false;
    if (!a.startsWith("-")) {
      if (i === 0 || !args[i - 1]!.startsWith("-")) return false;
      continue;
    }
    const name = a.replace(/=.*$/s, "");
    if (NOT_REAL.some((o) => withinEdits(name, o, 2))) return true;
  }
  return false;
}

/**
 * Where a usage error of the command line is reported: a real start on
 * SageMaker training or processing (a typo in the job's entrypoint arguments is
 * the job's failure), found from a snapshot of the detection paths alone.
 */
async function failurePathOfArgs(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<string | null> {
  if (maybeNotReal(args)) return null;
  // A misspelt setting (CHAMELEON_EXPLAIN=ture) counts as off here: the job's error is reported.
  const on = (check: () => boolean) => {
    try {
      return check();
    } catch {
      return false;
    }
  };
  // An explaining start, a bypassed one, or a nested start (a program of the job running the
  // entrypoint again) is not the job's entrypoint: its failure is not the job's.
  if (on(() => envSwitch(env, "CHAMELEON_EXPLAIN")) || on(() => bypassReason(env) !== undefined)) {
    return null;
  }
  const paths = [{ paths: detectionPaths(), dynamicPaths: cgroupPaths }];
  return failurePathWithoutPlan(await takeSnapshot([], env, paths), {});
}

/**
 * argv as `--explain` shows it. The plan decides the command and its display;
 * argv's words end that command (all of them, or all after a workload word),
 * so the display's last words are theirs: as many as argv and the command end
 * in alike (counted from the end once: each shorter tail compared again cost
 * the square of argv's length).
 */
export function argvAsShown(
  argv: readonly string[],
  p: Pick<Plan, "command" | "commandDisplay">,
): readonly string[] {
  const { command, commandDisplay: shown } = p;
  if (command === null || shown === null || shown === command) return argv;
  const most = Math.min(argv.length, command.length);
  let n = 0;
  while (n < most && argv[argv.length - 1 - n] === command[command.length - 1 - n]) n++;
  return [...argv.slice(0, argv.length - n), ...shown.slice(shown.length - n)];
}

/**
 * What a capture hides besides what the snapshot shows to be secret: what
 * `--explain` hides (the plan's secrets and its command display), and what
 * the image config holds whatever its format (YAML too): its secret-named
 * fields everywhere, its commands' flag values (`--token X`) in its own text;
 * and what adapters find in the files they declare (a Spark conf folder's).
 * A snapshot that cannot be planned is still captured, with what it shows.
 */
async function captureSecrets(
  snapshot: Snapshot,
  options: Options,
  loading: Promise<LoadedConfig>,
): Promise<CaptureSecrets> {
  const world = new World(snapshot);
  const loaded = await loading.catch(() => undefined);
  const config = loaded?.config ?? DEFAULT_CONFIG;
  // A config that does not load is captured all the same (it is what the report is about): its
  // secrets are looked for in what parses of it, and in its text.
  const unloaded = loaded === undefined ? await unloadedConfig(world, options) : undefined;
  const fields = unloaded?.value ?? config;
  const named = secretsInJson(fields, new Set(unloaded?.inText), { flags: false });
  const flagValues = [...secretsInJson(fields)].filter((v) => !named.has(v) && v !== "");
  let planned: Plan | undefined;
  try {
    planned = (await understand(snapshot, options, loading)).plan;
  } catch {
    planned = undefined;
  }
  const file = loaded?.file ?? unloaded?.file ?? null;
  const fromFiles = [...named, ...ADAPTERS.flatMap((a) => a.captureSecrets?.(world, config) ?? [])];
  const hiders = new Map<string, (text: string) => string>();
  for (const a of ADAPTERS) {
    for (const [path, hide] of a.captureHiders?.(world, config) ?? []) {
      const before = hiders.get(path);
      hiders.set(path, before === undefined ? hide : (text) => hide(before(text)));
    }
  }
  return {
    secretFiles: secretFilePaths(world, config),
    hiders,
    ...(file === null ? {} : { config: file }),
    values: [...fromFiles, ...(planned?.secrets ?? [])],
    fromFiles,
    ...(file !== null && flagValues.length > 0
      ? { inFile: { path: file, values: flagValues } }
      : {}),
    ...(planned === undefined ? {} : { argv: argvAsShown(snapshot.argv, planned) }),
    ...(loaded?.validated === "digest" && file !== null ? { trustedConfig: file } : {}),
  };
}

/**
 * The config file a start would use, when it does not load: its file, its
 * value where it parses (a schema error), and the secret-named values its
 * text shows (a syntax error).
 */
async function unloadedConfig(
  world: World,
  options: Options,
): Promise<{ file: string; value: unknown; inText: Set<string> } | undefined> {
  const file = configFileOf(options.config, world.env("CHAMELEON_CONFIG"), (p) => world.exists(p));
  const text = file === null ? undefined : world.read(file);
  if (file === null || text === undefined) return undefined;
  let value: unknown;
  try {
    value = (await loadConfigSchema()).configValue(file, text);
  } catch {
    value = undefined;
  }
  return { file, value, inText: secretsInText(text) };
}

/**
 * The logger told the secret values `env` holds. A plan tells it those and more; an error
 * before one (a usage error, a plan error, a bypassed start's failed exec) is logged and
 * reported all the same, and may quote such a value (a path, a command word).
 */
function hideEnvSecrets(log: Logger, env: Readonly<Record<string, string>>): void {
  log.addSecrets([...envSecrets(env, new Set(), { flags: false })]);
}

/** One start of the entrypoint; returns the exit code (or never returns, after exec). */
export async function start(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  log: Logger,
): Promise<number> {
  try {
    return await startOnce(args, env, log);
  } catch (e) {
    // main.ts logs the error line with this logger.
    hideEnvSecrets(log, env);
    throw e;
  }
}

async function startOnce(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  log: Logger,
): Promise<number> {
  // A usage error is the job's failure too (SageMaker's failure file), reported before it ends the start.
  const reportingUsage = async <T>(decide: () => T): Promise<T> => {
    try {
      return decide();
    } catch (e) {
      if (e instanceof UsageError) {
        hideEnvSecrets(log, env);
        await reportFailure(await failurePathOfArgs(args, env), e, log);
      }
      throw e;
    }
  };
  const options = await reportingUsage(() => parseArgs(args, env));
  if (options.help) {
    print(helpText(VERSION));
    return 0;
  }
  if (options.version) {
    print(`chameleon ${VERSION}`);
    return 0;
  }
  if (options.checkConfig !== undefined) return await checkConfig(options, env, log);
  const replay = options.snapshot !== undefined;
  const real = !options.explain && !replay && options.capture === undefined;
  if (real) {
    warmUpSignals();
    const unheld = holdInspectorAddress();
    if (unheld !== undefined) log.debug(unheld);
    const why = await reportingUsage(() => bypassReason(env));
    if (why !== undefined) await runUntouched(options.command, env, why, log);
  }

  // The config is loaded once, from the snapshot's first pass (its path is
  // static, so the text is the one the final snapshot holds). A broken config
  // declares no further paths and is still captured; a start reports it.
  let loading: Promise<LoadedConfig> | undefined;
  const configOrDefault = (w: World) =>
    (loading ??= loadConfig(w, options.config)).then((l) => l.config, () => DEFAULT_CONFIG);
  const snapshot = replay ? await loadSnapshot(options.snapshot!) : await takeSnapshot(
    options.command,
    env,
    pathSources(options, env),
    configOrDefault,
    // A capture is forced, if at all, when it is replayed: it records what any forcing looks at.
    options.capture !== undefined
      ? "any"
      : { context: options.context, workload: options.workload },
  );
  if (options.capture !== undefined) {
    return await capture(options.capture, options, snapshot, loading, log);
  }

  let u: Awaited<ReturnType<typeof understand>>;
  try {
    u = await understand(snapshot, options, loading);
  } catch (e) {
    // A replay's error may quote the snapshot's values (a hand-written one holds them as given).
    hideEnvSecrets(log, snapshot.env);
    if (real) await reportFailure(failurePathWithoutPlan(snapshot, options), e, log);
    throw e;
  }
  log.addSecrets(u.plan.secrets);
  if (options.explain || replay) {
    const bypass = bypassReason(snapshot.env);
    const e: Explanation = {
      version: VERSION,
      detection: u.detection,
      plan: u.plan,
      config: {
        file: u.configFile,
        ...(u.configValidated ? { validated: u.configValidated } : {}),
      },
      ...(replay ? { snapshot: options.snapshot! } : {}),
      ...(bypass === undefined ? {} : { bypass }),
    };
    // Loaded only when explaining: a real start does not pay for it.
    const { explainJson, explainText } = await import("./explain.ts");
    const color = Deno.stdout.isTerminal() && !env["NO_COLOR"] && env["TERM"] !== "dumb";
    print(
      options.format === "json" ? JSON.stringify(explainJson(e), null, 2) : explainText(e, color),
    );
    return 0;
  }

  return await runPlan(u, snapshot, log);
}

/**
 * On SageMaker, an entrypoint failure before the command starts is reported
 * like a command failure, with the secrets the log hides hidden too (the
 * file becomes the job's FailureReason).
 */
async function reportFailure(path: string | null, e: unknown, log: Logger): Promise<void> {
  // A closed stdout ends the start quietly (main.ts): no failure of the job's.
  if (path === null || e instanceof Deno.errors.BrokenPipe) return;
  const { noteEarlierReport, withTail, writeReport } = await import("./report.ts");
  // Before a plan, nothing of this start ran that could have written one: a file there is an
  // earlier start's. After one, runPlan noted the file before the hooks ran (that note holds).
  noteEarlierReport(path);
  // As the log writes the line: scrubbed, then escaped (a path's escape sequence or bell would
  // reach the console and FailureReason raw), then cut, so the cut counts the escapes.
  const head = shownLine(log.scrubbed(`chameleon: ${errorLine(e)} (exit ${exitCodeOf(e)})`));
  // A failing hook's last stderr lines explain it, as a failing command's do.
  const tail = e instanceof HookError ? log.scrubbed(e.stderrTail) : "";
  writeReport(path, withTail(head, tail), log);
}

/**
 * `--capture FILE`: the snapshot written to `output`, its secrets hidden; no
 * plan is made. Its own function, as {@linkcode runPlan} is: V8 compiles a
 * function whole on its first call, and an `--explain` start runs neither.
 */
async function capture(
  output: string,
  options: Options,
  snapshot: Snapshot,
  loading: Promise<LoadedConfig> | undefined,
  log: Logger,
): Promise<number> {
  // A relative path (CHAMELEON_CONFIG=cfg.json, a *_FILE variable) is read from the working
  // folder here, but a snapshot replays anywhere: --snapshot would refuse the capture.
  const relative = relativePath(snapshot);
  if (relative !== undefined) {
    // Where it came from: the option, or the variable that holds it (CHOWN_EXTRA lists several).
    const from = options.config === relative
      ? "--config"
      : Object.keys(snapshot.env).find((n) => snapshot.env[n]!.split(/[\s,]+/).includes(relative));
    throw new InputError(
      `Capture: path ${JSON.stringify(relative)}${
        from === undefined ? "" : ` (from ${from})`
      }: expected an absolute path (a snapshot holds no working folder); give the paths of CHAMELEON_CONFIG, --config, SPARK_CONF_DIR, CHOWN_EXTRA and *_FILE variables as absolute ones`,
    );
  }
  loading ??= loadConfig(new World(snapshot), options.config);
  await writeSnapshotFile(
    output,
    redactSnapshot(snapshot, await captureSecrets(snapshot, options, loading)),
  );
  log.info(`snapshot written to ${outputName(output)}`);
  // Own options are not part of a snapshot (design section 3); the config's text is.
  if (options.config !== undefined) {
    const file = output === "-" ? "FILE" : output;
    log.info(`replay it with the same config: --snapshot ${file} --config ${options.config}`);
  }
  return 0;
}

/** A real start's end: the plan applied, then the command run (or exec'd). */
async function runPlan(
  u: Awaited<ReturnType<typeof understand>>,
  snapshot: Snapshot,
  log: Logger,
): Promise<number> {
  const ctx = u.detection.context;
  log.info(`context ${ctx.id} (${ctx.source}${ctx.variant ? `, ${ctx.variant}` : ""})`);
  for (const w of u.plan.warnings) log.warn(w);
  const report = u.plan.failureReport?.path ?? null;
  // A report file there before hooks or the command run is an earlier start's (a restarted
  // container): a failure of this start replaces it rather than keeping it as the program's.
  if (report !== null) (await import("./report.ts")).noteEarlierReport(report);
  try {
    if (u.plan.command === null) {
      throw new UsageError(
        `No command to run: ${u.plan.notes["commandMissing"] ?? "give a command"}`,
      );
    }
    const env = { ...snapshot.env, ...u.plan.env };
    for (const name of u.plan.unset) delete env[name];
    // The side-effect layers load only for a real start, and apply only when there is work.
    const p = u.plan;
    checkCapabilities(p);
    if (p.dirs.length > 0 || p.files.length > 0 || p.steps.length > 0) {
      const { apply } = await import("./apply.ts");
      await apply(p, { log, env: { ...env, ...p.hookOnlyEnv }, found: snapshot.env });
    }
    const { run } = await import("./run.ts");
    return await run(p, env, log);
  } catch (e) {
    await reportFailure(report, e, log);
    throw e;
  }
}
