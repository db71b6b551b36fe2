/**
 * Merges the adapters' fragments into one {@linkcode Plan}: set/fill/append
 * semantics of design section 6, conflicts between adapters as errors (exit 78), the
 * run mode, the runtime dir and failure reporting. Pure.
 *
 * @module
 */

import { type Adapter, ADAPTERS, type CommandPart, type Fragment } from "./adapters/mod.ts";
import { type Oversized, secretFileGiven, set as setOp } from "./adapters/_adapter.ts";
import { type ImageConfig, settingsFor } from "./config.ts";
import { isLinkValue, linkWarning } from "./contexts/_signals.ts";
import { SM_PATHS } from "./contexts/sagemaker.ts";
import { InputError } from "./errors.ts";
import type { PathDecl, PathSource } from "./paths.ts";
import {
  envSecrets,
  hiddenEverywhere,
  isSecretName,
  REDACTED,
  scrub,
  secretForms,
} from "./secrets.ts";
import type {
  Detection,
  EnvOp,
  FailureReport,
  Plan,
  PlanDir,
  PlanFile,
  RunMode,
  Step,
  UserPlan,
} from "./types.ts";
import { MAX_VALUE_BYTES, tooLargeForExecve, unpassable, utf8Length } from "./types.ts";
import {
  changeableByOthers,
  foldersAbove,
  givenRuntimeDir,
  RUN_RUNTIME_DIR,
  runtimeDirRefusal,
  SHARED_RUNTIME_DIR,
  type World,
  writesInRuntimeDir,
} from "./world.ts";

export { MAX_VALUE_BYTES, utf8Length };

/** Paths the planner itself looks at: where the runtime dir can go. */
export const planPaths: PathSource = {
  paths: [
    { kind: "stat", path: "/run" },
    { kind: "stat", path: RUN_RUNTIME_DIR },
    { kind: "stat", path: "/tmp" },
    { kind: "stat", path: SHARED_RUNTIME_DIR },
  ],
  dynamicPaths(world: World): PathDecl[] {
    // The runtime dir and every folder above it: whether the command's uid can reach its HOME and
    // files there (a 0700 one an earlier start left, a folder under /root).
    const decls: PathDecl[] = [
      { kind: "stat", path: `${SHARED_RUNTIME_DIR}-${world.snapshot.uid}` },
    ];
    // Under the name the plan looks it up by: "/scratch/rt/" is the runtime dir /scratch/rt.
    const path = givenRuntimeDir(world);
    if (path === undefined) return decls;
    decls.push({ kind: "stat", path });
    return [...decls, ...foldersAbove(path).map((up) => ({ kind: "stat" as const, path: up }))];
  },
};

/**
 * Where generated files go (design section 6): `/run/chameleon` when the uid
 * can write it (an image prepares it group-writable for OpenShift's random
 * uids, in a `/run` they cannot write) or can create it, else `/tmp/chameleon`,
 * unless another uid already has that: a `/tmp` shared by users (a Slurm node,
 * Apptainer's bind of the host's `/tmp`) gives each uid `/tmp/chameleon-<uid>`.
 */
export function runtimeDirOf(world: World): string {
  const explicit = givenRuntimeDir(world);
  if (explicit !== undefined) {
    if (!explicit.startsWith("/")) {
      throw new InputError(
        `Variable CHAMELEON_RUNTIME_DIR ${
          JSON.stringify(explicit)
        }: expected an absolute path (the command may run in another folder)`,
      );
    }
    return explicit;
  }
  const { uid, gid, groups } = world.snapshot;
  const usable = (dir: string) => world.isDir(dir) && world.canWrite(dir, uid, gid, groups);
  if (usable(RUN_RUNTIME_DIR) || usable("/run")) return RUN_RUNTIME_DIR;
  // Another uid's folder would refuse the start (apply.ts): one user could end another's starts.
  const taken = world.exists(SHARED_RUNTIME_DIR) && world.stat(SHARED_RUNTIME_DIR).uid !== uid;
  return taken ? `${SHARED_RUNTIME_DIR}-${uid}` : SHARED_RUNTIME_DIR;
}

function decideMode(
  setting: "exec" | "supervise" | "auto",
  d: Detection,
  steps: readonly Step[],
): { mode: RunMode; reason: string } {
  // The Spark master host must outlive the command to stop the cluster after it.
  if (steps.some((s) => s.step === "spark-cluster")) {
    return {
      mode: "supervise",
      reason: "Spark standalone cluster: the entrypoint starts and stops it around the command",
    };
  }
  if (setting !== "auto") return { mode: setting, reason: `image config: mode ${setting}` };
  const { platform, workload } = d.context;
  if (platform === "sagemaker" && (workload === "training" || workload === "processing")) {
    return { mode: "supervise", reason: `SageMaker ${workload}: failure reporting` };
  }
  if (d.facts.pid1 && d.facts.init === null) {
    return {
      mode: "supervise",
      reason: "PID 1 with no init: reaping orphans and forwarding signals",
    };
  }
  if (d.facts.init !== null) {
    return {
      mode: "exec",
      reason: `${d.facts.init} is PID 1: the command replaces the entrypoint`,
    };
  }
  return { mode: "exec", reason: "not PID 1: the command replaces the entrypoint" };
}

/** Where SageMaker expects the reason of a failure, for the detected context. */
export function failureReportOf(d: Detection): FailureReport | null {
  if (d.context.platform !== "sagemaker") return null;
  if (d.context.workload === "training") return { path: SM_PATHS.failure };
  if (d.context.workload === "processing") return { path: SM_PATHS.message };
  return null;
}

interface Tagged<T> {
  readonly adapter: string;
  readonly item: T;
}

/** What `--explain` shows of a variable: a secret name hides the whole value, whatever its display. */
function shown(op: EnvOp): string {
  return isSecretName(op.name) ? REDACTED : op.display ?? op.value;
}

function conflict(
  what: string,
  a: Tagged<unknown>,
  b: Tagged<unknown>,
  va: string,
  vb: string,
): never {
  throw new InputError(
    `Adapters ${a.adapter} and ${b.adapter} disagree on ${what}: ${JSON.stringify(va)} vs ${
      JSON.stringify(vb)
    }`,
  );
}

/**
 * The value, when execve can pass `name=value` whole; else exit 78. A name
 * with "=" would reach the program split (Python's os.environ, which the
 * toolkit writes through, refuses it too); the rest is types.ts's rule. A
 * value too large is worded by `oversized` when it knows what the value is
 * made from.
 */
function fitsExecve(
  name: string,
  value: string,
  oversized?: OversizedLine,
): string {
  // One test of the name for all it may not hold (a plan asks of 10,000 names); the checks
  // below say which.
  if (name === "" || BAD_NAME.test(name)) {
    if (name === "" || name.includes("=")) {
      throw new InputError(
        `Variable ${JSON.stringify(name)}: expected a name that is not empty, without "="`,
      );
    }
    const badName = unpassable("a name", name);
    if (badName !== undefined) throw new InputError(`Variable ${JSON.stringify(name)}: ${badName}`);
  }
  const bad = unpassable("a value", value);
  if (bad !== undefined) throw new InputError(`Variable ${name}: ${bad}`);
  const big = tooLargeForExecve(name, value);
  if (big !== undefined) {
    throw new InputError(oversized?.(name, value) ?? `Variable ${name} would be ${big}`);
  }
  return value;
}

/** An adapter's line for its value too large for execve, if it has one (Fragment.oversized). */
type OversizedLine = (name: string, value: string) => string | undefined;

/** What a variable's name may not hold: "=", or what {@linkcode unpassable} refuses. */
const BAD_NAME = /[=\0\ud800-\udfff]/;

/** One adapter's env ops, in the order it gave them. */
export interface AdapterEnv {
  readonly adapter: string;
  readonly ops: readonly EnvOp[];
  /** How the adapter words a value of its own too large for execve (Fragment.oversized). */
  readonly oversized?: Oversized | undefined;
}

/**
 * Merges each adapter's env ops against the current environment (design section 6
 * kinds). Two adapters that disagree are an error; within one adapter, a later
 * set or fill on a name replaces the earlier one. Most names have one op:
 * those go straight into the result, and only names that repeat (or append)
 * are grouped and checked against each other. `display` is `env` itself
 * unless some value is shown differently; `hidden` holds the values shown
 * `<redacted>` whole.
 */
export function mergeEnv(
  current: Readonly<Record<string, string>>,
  groups: readonly AdapterEnv[],
  alsoGiven: readonly string[] = [],
): { env: Record<string, string>; display: Record<string, string>; hidden: string[] } {
  const env: Record<string, string> = {};
  // What --explain shows instead of the value, for the few names where it differs.
  const differs: Record<string, string> = {};
  // Fills that write the empty value already there (a given one is never filled): they change
  // nothing, so the plan leaves them out once they have met the other ops on their name.
  let unchanged: Set<string> | undefined;
  const put = (
    name: string,
    op: EnvOp,
    oversized?: OversizedLine,
  ) => {
    env[name] = fitsExecve(name, op.value, oversized);
    const s = shown(op);
    if (s !== op.value) differs[name] = s;
    if (op.kind === "fill" && op.value === "" && current[name] === "") {
      (unchanged ??= new Set()).add(name);
    } else unchanged?.delete(name);
  };
  let repeated: Set<string> | undefined;
  // Asking an object about a name it lacks costs a string-table lookup per name;
  // a set of the few names that have a value answers 10,000 SM_HP_* fills cheaply.
  // A service link's `<SVC>_PORT=tcp://...` is no port anyone gave: fills go over it.
  const given = new Set(
    Object.keys(current).filter((k) => current[k] !== "" && !isLinkValue(k, current[k])),
  );
  // Values the user gives through an opted-in VAR_FILE: fills under them do nothing, as under
  // the environment's (the credentials adapter sets them).
  for (const name of alsoGiven) given.add(name);
  // Each adapter's wording of a value too large, told what the merge takes as given. A name
  // that repeats is merged below, with the merge's own wording.
  const isGiven = (name: string) => given.has(name);
  for (const { ops, oversized: o } of groups) {
    const oversized: OversizedLine | undefined = o && ((name, value) => o(name, value, isGiven));
    for (const op of ops) {
      const name = op.name;
      // A fill under a value the user gave is a no-op: it cannot disagree with anything.
      if (op.kind === "fill" && given.has(name)) continue;
      if (op.kind === "append" || Object.hasOwn(env, name) || repeated?.has(name)) {
        (repeated ??= new Set()).add(name);
        continue;
      }
      put(name, op, oversized);
    }
  }
  if (repeated !== undefined) {
    const byName = new Map<string, Tagged<EnvOp>[]>();
    for (const { adapter, ops } of groups) {
      for (const item of ops) {
        if (!repeated.has(item.name)) continue;
        let list = byName.get(item.name);
        if (list === undefined) byName.set(item.name, list = []);
        // Within one adapter, a later set or fill replaces its earlier one (like assigning twice).
        const earlier = item.kind === "append"
          ? -1
          : list.findIndex((t) => t.adapter === adapter && t.item.kind !== "append");
        if (earlier >= 0) list[earlier] = { adapter, item };
        else list.push({ adapter, item });
      }
    }
    for (const [name, list] of byName) {
      const op = mergeOne(current, given, name, list);
      delete differs[name];
      // Nothing to write: only appends came, adding nothing (a set or fill would have
      // given a value), so the first pass put nothing under this name either.
      if (op === undefined) continue;
      put(name, op); // where the first op put it, if it did
    }
  }
  for (const name of unchanged ?? []) {
    delete env[name];
    delete differs[name];
  }
  const shownOther = Object.keys(differs);
  return {
    env,
    display: shownOther.length > 0 ? { ...env, ...differs } : env,
    // Values hidden whole (secret-named variables): the logs scrub them too.
    hidden: shownOther.filter((k) => differs[k] === REDACTED).map((k) => env[k]!),
  };
}

/**
 * What the plan says of each link variable (`MASTER_PORT=tcp://...`) a fill writes a
 * value over: a fill used to keep it. A set replaces any value, as it always did.
 */
function overLinks(
  world: World,
  env: Readonly<Record<string, string>>,
  fragments: readonly { readonly item: Fragment }[],
): string[] {
  // The name's test first: it is the cheaper, and a pod may hold thousands of link variables.
  const over = Object.keys(world.snapshot.env).filter((name) =>
    isLinkValue(name, world.env(name)) && Object.hasOwn(env, name)
  );
  if (over.length === 0) return [];
  const set = (name: string) =>
    fragments.some((f) => f.item.env?.some((op) => op.name === name && op.kind === "set"));
  return over.filter((name) => !set(name)).map((name) =>
    linkWarning(name, world.env(name)!, `set to ${env[name]}`)
  );
}

/** The one op that several ops on a name come to (undefined: nothing to write), or a conflict. */
function mergeOne(
  current: Readonly<Record<string, string>>,
  given: ReadonlySet<string>,
  name: string,
  list: readonly Tagged<EnvOp>[],
): EnvOp | undefined {
  const has = given.has(name);
  const appends = list.filter((t) => t.item.kind === "append");
  const values = list.filter((t) => t.item.kind === "set" || (t.item.kind === "fill" && !has));
  const first = values[0];
  for (const t of values.slice(1)) {
    if (t.item.value !== first!.item.value) {
      conflict(name, first!, t, shown(first!.item), shown(t.item));
    }
  }
  const chosen = first === undefined
    ? undefined
    : values.find((t) => t.item.kind === "set")?.item ?? first.item;
  if (appends.length === 0) return chosen;
  // An append adds its missing items after what is there: the value a set or fill
  // gives (the image config's NO_PROXY), else the current one.
  const sep = appends[0]!.item.separator ?? ",";
  const base = chosen?.value ?? (has ? current[name]! : "");
  // Items compare trimmed (`a, b` has b); the value already there is kept as written.
  // A set: each item looked for in a list was present items times added ones (a NO_PROXY of 8,000).
  const present = new Set(base.split(sep).map((it) => it.trim()));
  const adding = new Set<string>();
  for (const t of appends) {
    for (const it of t.item.value.split(sep).map((x) => x.trim())) {
      if (it !== "" && !present.has(it)) adding.add(it);
    }
  }
  const added = [...adding];
  if (added.length === 0) return chosen;
  const join = (head: string) => {
    // A trailing separator (`a,`) would leave an empty item between.
    let h = head.trimEnd();
    while (sep.trim() !== "" && h.endsWith(sep)) h = h.slice(0, -sep.length).trimEnd();
    return h === "" ? added.join(sep) : `${h}${sep}${added.join(sep)}`;
  };
  const display = chosen?.display === undefined ? undefined : join(chosen.display);
  return setOp(name, join(base), display);
}

function onlyOne<T>(
  what: string,
  items: readonly Tagged<T>[],
  key: (t: T) => string,
): T | undefined {
  const first = items[0];
  for (const t of items.slice(1)) {
    if (key(t.item) !== key(first!.item)) conflict(what, first!, t, key(first!.item), key(t.item));
  }
  return first?.item;
}

/** What two adapters give the same path with: how each is shown, in the first facet that differs. */
type Differ<T> = (a: T, b: T) => [string, string] | undefined;

/** The first of `facets` (a name and how an item shows it) in which `a` and `b` differ. */
function firstDiffering<T>(facets: readonly [string, (t: T) => string][]): Differ<T> {
  return (a, b) => {
    for (const [name, of] of facets) {
      if (of(a) !== of(b)) return [`${name}${of(a)}`, `${name}${of(b)}`];
    }
    return undefined;
  };
}

const ownerText = (o: PlanDir["owner"]) => o === undefined ? "unchanged" : `${o.uid}:${o.gid}`;

/** Folders agree in mode and owner. */
const differingFolder: Differ<PlanDir> = firstDiffering<PlanDir>([
  ["mode ", (d) => d.mode],
  ["owner ", (d) => ownerText(d.owner)],
]);

/** Files agree in content, mode and owner; a content shows as `--explain` shows it. */
const differingFile: Differ<PlanFile> = (a, b) =>
  a.content !== b.content
    ? [a.display ?? a.content, b.display ?? b.content]
    : differingFolder(a, b);

function byPath<T extends { readonly path: string }>(
  what: string,
  items: readonly Tagged<T>[],
  differ: Differ<T>,
): T[] {
  const seen = new Map<string, Tagged<T>>();
  for (const t of items) {
    const prev = seen.get(t.item.path);
    if (prev === undefined) {
      seen.set(t.item.path, t);
      continue;
    }
    const apart = differ(prev.item, t.item);
    if (apart !== undefined) conflict(`${what} ${t.item.path}`, prev, t, apart[0], apart[1]);
  }
  return [...seen.values()].map((t) => t.item);
}

/** Everything plan() needs besides the detection. */
export interface PlanOptions {
  readonly adapters?: readonly Adapter[];
}

/** Builds the plan: runs every adapter and merges their fragments. */
export function plan(
  world: World,
  detection: Detection,
  config: ImageConfig,
  options: PlanOptions = {},
): Plan {
  const { settings, matched } = settingsFor(config, detection.context.id);
  const runtimeDir = runtimeDirOf(world);
  const input = { world, detection, config, settings, runtimeDir, overridesMatched: matched };
  const fragments: Tagged<Fragment>[] = (options.adapters ?? ADAPTERS).map((a) => ({
    adapter: a.name,
    item: a.plan(input),
  }));
  const all = <T>(pick: (f: Fragment) => readonly T[] | T | undefined): Tagged<T>[] =>
    fragments.flatMap((f) => {
      const v = pick(f.item);
      if (v === undefined) return [];
      const items = (Array.isArray(v) ? v : [v]) as readonly T[];
      return items.map((item) => ({ adapter: f.adapter, item }));
    });

  // A conflict quotes both values as the adapters show them, but the logger learns the plan's
  // secrets only from a plan: a value an adapter shows unhidden (JSON held in a string inside
  // the config's JSON) is hidden here, with what the fragments and the env know to be secret.
  const hiding = <T>(merge: () => T): T => {
    try {
      return merge();
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      const known = [...secretValues(world), ...all<string>((f) => f.secrets).map((t) => t.item)];
      throw new InputError(scrub(e.message, secretForms(known)));
    }
  };
  const { env, display, hidden } = hiding(() =>
    mergeEnv(
      world.snapshot.env,
      fragments.map((f) => ({
        adapter: f.adapter,
        ops: f.item.env ?? [],
        oversized: f.item.oversized,
      })),
      secretFileGiven(world, config),
    )
  );
  // What the user asks to leave out goes, whatever the plan gives it (said, not a conflict).
  const dropWarnings: string[] = [];
  const drop = all((f) => f.drop).map((t) => t.item);
  const dropNames = drop.flatMap((d) => d.names);
  // Hooks run before the drop, as start.sh's run before its unset: they get the value there was.
  const hookOnlyEnv: Record<string, string> = {};
  for (const name of dropNames) {
    const value = Object.hasOwn(env, name) ? env[name] : world.env(name);
    if (value !== undefined) hookOnlyEnv[name] = value;
  }
  for (const { names, askedBy } of drop) {
    const dropped = names.filter((name) => Object.hasOwn(env, name));
    if (dropped.length === 0) continue;
    for (const name of dropped) {
      delete env[name];
      delete display[name];
    }
    dropWarnings.push(
      `${
        dropped.join(", ")
      }: left out of the command's environment as ${askedBy} asks, though the plan gives ${
        dropped.length === 1 ? "it a value" : "them values"
      }`,
    );
  }
  const unset = [
    ...new Set([...all((f) => f.unset).map((t) => t.item), ...dropNames]),
  ];
  for (const name of unset) {
    if (Object.hasOwn(env, name)) {
      throw new InputError(`Variable ${name} is both set and unset by the plan`);
    }
  }
  const user = onlyOne<UserPlan>("the user", all((f) => f.user), (u) => `${u.uid}:${u.gid}`) ??
    null;
  const cmd = onlyOne<CommandPart>(
    "the command",
    all((f) => f.command),
    (c) => JSON.stringify(c.command),
  );
  // What execve passes whole, word by word (a script run with 20,000 arguments: one walk): no
  // NUL, no lone surrogate, and at most MAX_VALUE_BYTES per word with its NUL (a shell script
  // is one word). The first word that cannot pass is named.
  const words = cmd?.command ?? [];
  for (let i = 0; i < words.length; i++) {
    const bad = unpassable("a word", words[i]!);
    if (bad !== undefined) throw new InputError(`Command word ${i}: ${bad}`);
    const big = tooLargeForExecve(words[i]!);
    if (big !== undefined) throw new InputError(`Command word ${i} would be ${big}`);
  }
  const files = hiding(() => byPath<PlanFile>("file", all((f) => f.files), differingFile));
  const dirs = byPath<PlanDir>("folder", all((f) => f.dirs), differingFolder);
  const steps = all<Step>((f) => f.steps).map((t) => t.item);
  const warnings = all<string>((f) => f.warnings).map((t) => t.item);
  warnings.push(...dropWarnings, ...overLinks(world, env, fragments));
  const notes: Record<string, unknown> = {};
  for (const f of fragments) Object.assign(notes, f.item.notes ?? {});
  if (matched.length > 0) notes["overrides"] = matched;
  if (cmd?.missing !== undefined) notes["commandMissing"] = cmd.missing;
  const hooksOnly = Object.keys(hookOnlyEnv);
  if (hooksOnly.length > 0 && steps.some((s) => s.step === "hooks")) {
    notes["unsetAfterHooks"] = hooksOnly;
  }
  refuseOpenRuntimeDir(world, runtimeDir, [...dirs, ...files, ...steps]);
  const { mode, reason } = decideMode(settings.mode, detection, steps);
  // An empty value is no secret (hiding "" would hide nothing, or everything): dropped here, once.
  const secrets = [
    ...secretValues(world),
    ...hidden,
    ...all<string>((f) => f.secrets).map((t) => t.item),
  ].filter(hiddenEverywhere);
  return {
    env,
    envDisplay: display,
    unset,
    hookOnlyEnv,
    user,
    dirs,
    files,
    steps,
    mode,
    modeReason: reason,
    cwd: cmd?.cwd ?? null,
    command: cmd?.command ?? null,
    commandDisplay: shownCommand(cmd?.display ?? cmd?.command ?? null, secrets),
    shell: cmd?.shell ?? false,
    // OpenShift runs with gid 0: keep files group-writable unless the config says otherwise.
    umask: settings.umask !== null
      ? parseInt(settings.umask, 8)
      : detection.facts.openshift
      ? 0o002
      : null,
    runtimeDir,
    failureReport: failureReportOf(detection),
    warnings,
    notes,
    secrets,
  };
}

/**
 * A root start refuses (apply.ts) a runtime dir it writes in that is another
 * uid's or that others may write (without the sticky bit; by a group that is
 * not its own). One the snapshot already holds is refused here too, with the
 * same line, so that `--explain` fails as the start does, and before any
 * `before-apply` hook runs.
 */
function refuseOpenRuntimeDir(
  world: World,
  runtimeDir: string,
  planned: readonly (PlanDir | PlanFile | Step)[],
): void {
  const snap = world.snapshot;
  if (snap.uid !== 0 || snap.stat[runtimeDir] === undefined || !world.isDir(runtimeDir)) return;
  if (!writesInRuntimeDir(runtimeDir, planned)) return;
  const why = changeableByOthers(world.stat(runtimeDir), snap.uid, snap.gid, true);
  if (why !== undefined) throw new InputError(runtimeDirRefusal(runtimeDir, why, true));
}

/**
 * The command as shown: a word that is a known secret is hidden whatever its
 * length (text scrubbing leaves values under 4 characters alone).
 */
function shownCommand(
  words: readonly string[] | null,
  secrets: readonly string[],
): readonly string[] | null {
  if (words === null || secrets.length === 0) return words;
  // A set: a list's includes() per word was words times secrets (40,000 words and 4,000 secrets: 1.6 s).
  const known = new Set(secrets);
  const hidden = (w: string) => known.has(w);
  // A copy only when a word is hidden: script mode's 20,000 words would be copied for nothing.
  return words.some(hidden) ? words.map((w) => hidden(w) ? REDACTED : w) : words;
}

/**
 * Secret values known to a plan (scrubbed from logs): secret-named variables'
 * values, and the values under secret-named keys of JSON a variable holds
 * (`APP_SETTINGS='{"password": ...}'`), which a capture hides too (design
 * section 8). Not a flag's value in a JSON list (hidden in its own word only),
 * nor URLs' passwords: scrubbing hides those where they stand, and `postgres`
 * elsewhere is no secret.
 */
export function secretValues(world: World): string[] {
  return [...envSecrets(world.snapshot.env, new Set(), { flags: false })];
}
