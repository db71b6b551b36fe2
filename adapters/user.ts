/**
 * Identity: whether to switch user (and to whom), a writable HOME with its
 * cache folders, and a name for a uid that has none. Decided here, carried out
 * by apply (files, passwd entry, ownership) and the exec stage (setgroups,
 * setgid, setuid). Sources: reference/platforms.md section A.5 (OpenShift arbitrary
 * uids), section C.1 (docker-stacks NB_USER/NB_UID/NB_GID, CHOWN_HOME, CHOWN_EXTRA),
 * section C.2 (nss_wrapper), sections D.3 to D.9; reference/sagemaker.md sections 4.1, 7, 8.1.
 *
 * @module
 */

import { type ImageConfig, settingsVariants } from "../config.ts";
import { InputError } from "../errors.ts";
import type { PathDecl } from "../paths.ts";
import {
  type EnvOp,
  MAX_ID,
  type PlanDir,
  type PlanFile,
  type Snapshot,
  type Step,
  type UserPlan,
} from "../types.ts";
import { foldersAbove, modeAndOwner, parentOf, type World } from "../world.ts";
import {
  type Adapter,
  append,
  configGives,
  fill,
  givenEnv,
  type PlanInput,
  set,
} from "./_adapter.ts";
import { intEnv } from "./_files.ts";

/** A uid or gid variable (NB_UID, NB_GID); undefined when unset or empty, exit 78 beyond {@linkcode MAX_ID}. */
function idEnv(world: World, name: string): number | undefined {
  return intEnv(world, name, { max: MAX_ID, expected: `an id up to ${MAX_ID}` });
}

/** Where Debian and others install nss_wrapper. */
const NSS_WRAPPER_PATHS = [
  "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so",
  "/usr/lib/aarch64-linux-gnu/libnss_wrapper.so",
  "/usr/lib64/libnss_wrapper.so",
  "/usr/lib/libnss_wrapper.so",
];

/** Cache variables moved with HOME (design section 6). */
const CACHE_DIRS: readonly [string, string][] = [
  ["XDG_CACHE_HOME", ".cache"],
  ["HF_HOME", ".cache/huggingface"],
  ["TORCH_HOME", ".cache/torch"],
  ["MPLCONFIGDIR", ".config/matplotlib"],
  ["PIP_CACHE_DIR", ".cache/pip"],
];

/** SageMaker contexts where the platform expects root (reference/sagemaker.md sections 0, 4.1). */
const ROOT_CONTEXTS = new Set(["sagemaker-training", "sagemaker-processing", "sagemaker-serving"]);
/**
 * Platforms whose own launcher owns the process's identity (reference/platforms.md:
 * Slurm B.8 and section E, pyxis/enroot map the user; Modal B.10 and Databricks B.4 run
 * their own entrypoint): the image's `switchUser` does not apply there either.
 */
const OWN_IDENTITY_PLATFORMS: ReadonlySet<string> = new Set(["slurm", "modal", "databricks"]);

interface Target {
  readonly uid: number;
  readonly gid: number;
  readonly groups?: readonly number[];
  readonly name?: string;
  readonly home?: string;
  /** The name and home were asked for (NB_USER): they win over the uid's passwd entry. */
  readonly named?: boolean;
  readonly why: string;
  /** Asked for explicitly (CHAMELEON_USER, NB_*), so a non-root start warns. */
  readonly explicit: boolean;
  /** The groups were worked out (/etc/group), not asked for: a non-root start compares ids only. */
  readonly derivedGroups?: boolean;
  /** CHAMELEON_USER lists the groups: exactly those, none the platform granted added. */
  readonly exactGroups?: boolean;
  /** docker-stacks' notebook user (NB_*): its defaults ({@linkcode notebookDefaults}) ask nothing. */
  readonly notebook?: boolean;
}

/**
 * What images set NB_USER, NB_UID and NB_GID to themselves: docker-stacks' jovyan 1000:100 (an
 * image built on docker-stacks keeps its ENV) and the config user's. A start that is not root is
 * asked for nothing by them, as start.sh is not by jovyan's.
 */
function notebookDefaults(config: ImageConfig) {
  const cu = config.user;
  return {
    names: ["jovyan", ...(cu ? [cu.name] : [])],
    uids: [1000, ...(cu ? [cu.uid] : [])],
    gids: [100, ...(cu ? [cu.gid] : [])],
  };
}

type UserSpecValue = { uid: number; gid: number; groups?: number[] };

/** Parses `uid:gid[:group,group...]`; undefined when it has another shape or an id beyond {@linkcode MAX_ID}. */
function parseUserSpec(value: string): UserSpecValue | undefined {
  const m = /^(\d+):(\d+)(?::(\d+(?:,\d+)*))?$/.exec(value.trim());
  if (m === null) return undefined;
  const out = { uid: Number(m[1]), gid: Number(m[2]) };
  const spec: UserSpecValue = m[3] === undefined
    ? out
    : { ...out, groups: m[3].split(",").map(Number) };
  return [spec.uid, spec.gid, ...(spec.groups ?? [])].every((n) => n <= MAX_ID) ? spec : undefined;
}

/** `CHAMELEON_USER`, parsed; undefined when unset or empty, exit 78 when malformed. */
function userSpecOf(world: World): UserSpecValue | undefined {
  const value = world.envValue("CHAMELEON_USER");
  if (value === undefined) return undefined;
  const spec = parseUserSpec(value);
  if (spec === undefined) {
    throw new InputError(
      `Variable CHAMELEON_USER ${
        JSON.stringify(value)
      }: expected uid:gid[:group,group...] with numbers up to ${MAX_ID}`,
    );
  }
  return spec;
}

/** The uid a notebook switch goes to: NB_UID, else the config user's, else docker-stacks' 1000. */
function notebookUid(nbUid: number | undefined, config: ImageConfig): number {
  return nbUid ?? config.user?.uid ?? 1000;
}

/** Who the command should run as, if anyone else; first match wins. */
function target(input: PlanInput): Target | undefined {
  const { world, detection, config, settings } = input;
  const spec = userSpecOf(world);
  if (spec) {
    return {
      ...spec,
      why: "CHAMELEON_USER",
      explicit: true,
      ...(spec.groups === undefined ? {} : { exactGroups: true }),
    };
  }
  const cu = config.user;
  if (
    detection.context.workload === "notebook" &&
    (world.hasEnv("NB_USER") || world.hasEnv("NB_UID") || world.hasEnv("NB_GID"))
  ) {
    return notebookTarget(world, config);
  }
  if (cu === null || settings.switchUser !== "when-root") return undefined;
  // The platform expects root (or owns the identity) here: only an override naming this
  // context switches.
  const keeps = ROOT_CONTEXTS.has(detection.context.id) ||
    OWN_IDENTITY_PLATFORMS.has(detection.context.platform);
  if (keeps && !overrideSetsSwitch(config, input)) return undefined;
  return { ...cu, why: "image config (switchUser: when-root)", explicit: false };
}

/**
 * docker-stacks' user of a notebook (NB_USER, NB_UID, NB_GID). Its own
 * function: V8 compiles a function whole on its first call, and most starts
 * are no such notebook.
 */
function notebookTarget(world: World, config: ImageConfig): Target {
  const cu = config.user;
  const uid = notebookUid(idEnv(world, "NB_UID"), config);
  const gid = idEnv(world, "NB_GID") ?? cu?.gid ?? 100;
  const given = world.envValue("NB_USER");
  const name = given ?? cu?.name ?? "jovyan";
  return {
    uid,
    gid,
    // initgroups() of the uid's user, as docker-stacks' `sudo -u`, plus its `users` group.
    groups: [...new Set([...groupsOf(world, memberName(world, uid, name), gid), 100])],
    derivedGroups: true,
    name,
    // docker-stacks' /home/$NB_USER; without NB_USER, the image's user keeps its own home.
    home: given === undefined && cu?.home ? cu.home : `/home/${name}`,
    // docker-stacks renames the image's user to NB_USER, home and all.
    named: given !== undefined,
    why: "NB_USER/NB_UID/NB_GID",
    explicit: true,
    notebook: true,
  };
}

/**
 * Whether the process already runs as the target: same uid and gid, and the
 * same supplementary groups when the target names them (root asking for
 * `0:100:100` still switches its groups: they are never silently kept or lost)
 * and `withGroups` asks.
 */
function runsAs(
  t: Target,
  snap: { uid: number; gid: number; groups: readonly number[] },
  withGroups = true,
): boolean {
  if (t.uid !== snap.uid || t.gid !== snap.gid) return false;
  if (t.groups === undefined || !withGroups) return true;
  const have = new Set(snap.groups);
  const want = new Set(t.groups);
  return want.size === have.size && [...want].every((g) => have.has(g));
}

/**
 * The uid and gid the command will run as: the switch's target when one is
 * planned (root, asked for ids it does not have), else this process's own.
 * For adapters that write a file only the command's user may read.
 */
export function commandIds(input: PlanInput): { uid: number; gid: number } {
  return switchOf(input).to ?? input.world.snapshot;
}

/** A plan's user switch, worked out once for the user adapter and those that ask after it. */
interface Switch {
  /** Who the command should run as, if anyone else. */
  readonly target: Target | undefined;
  /** The target a switch is planned to (root asked for ids it does not have). */
  readonly to: Target | undefined;
  /** The switch's user plan and its warnings, once asked for. */
  planned?: { readonly plan: UserPlan; readonly warnings: readonly string[] };
}

/** Each plan's switch: plan.ts gives every adapter the same input. */
const switches = new WeakMap<PlanInput, Switch>();

function switchOf(input: PlanInput): Switch {
  let s = switches.get(input);
  if (s === undefined) {
    const t = target(input);
    s = { target: t, to: switchTo(t, input.world.snapshot) };
    switches.set(input, s);
  }
  return s;
}

/** The user plan of the switch `s.to` (with the warnings about its name). */
function switchPlanOf(input: PlanInput, s: Switch, to: Target) {
  s.planned ??= (() => {
    const warnings: string[] = [];
    return { plan: switchPlan(input.world, to, input.runtimeDir, warnings), warnings };
  })();
  return s.planned;
}

/**
 * Whether a start that is not root is asked for ids it does not have. A notebook's NB_UID or
 * NB_GID at a default, or at the start's own id, asks nothing (start.sh warns only of those that
 * differ from jovyan's and from its own).
 */
function asksIds(t: Target, snap: Snapshot, config: ImageConfig): boolean {
  if (!t.notebook) return true;
  const d = notebookDefaults(config);
  return (!d.uids.includes(t.uid) && t.uid !== snap.uid) ||
    (!d.gids.includes(t.gid) && t.gid !== snap.gid);
}

/**
 * Why the command's uid (the switch's target when one is planned) cannot
 * reach the runtime dir, for adapters that put files there for the command;
 * undefined when it can (or the dir is read-only, which making it reports).
 */
export function runtimeClosedToCommand(input: PlanInput): string | undefined {
  const { world, runtimeDir } = input;
  if (world.onReadOnly(runtimeDir)) return undefined;
  const s = switchOf(input);
  const ids = s.to === undefined ? world.snapshot : switchPlanOf(input, s, s.to).plan;
  return runtimeClosed(world, runtimeDir, ids.uid, ids.gid, ids.groups)?.why;
}

/** The target a switch is planned to: root asked for ids (or groups) it does not have. */
function switchTo(t: Target | undefined, snap: Snapshot): Target | undefined {
  return t !== undefined && snap.uid === 0 && !runsAs(t, snap) ? t : undefined;
}

/** `uid:gid[:groups]` of a target, for messages. */
function idsText(t: Target): string {
  return `${t.uid}:${t.gid}${t.groups === undefined ? "" : `:${t.groups.join(",")}`}`;
}

function overrideSetsSwitch(config: ImageConfig, input: PlanInput): boolean {
  const matched = new Set(input.overridesMatched);
  return config.overrides.some((o) => matched.has(o.match) && o.settings.switchUser !== undefined);
}

/** The gid a user namespace shows for a group it does not map (Linux's default overflowgid). */
const OVERFLOW_GID = 65534;

/**
 * The supplementary groups the platform gave this root start beyond root's own
 * (gid 0 and its /etc/group memberships): Kubernetes' fsGroup and
 * supplementalGroups, `docker run --group-add`. Volumes are shared through
 * them, so the user a start switches to keeps them (design section 8: never
 * silently lost). Group 0 is never passed on, nor the kernel's overflow gid
 * 65534, which stands for a group a user namespace does not map (rootless
 * podman's `--group-add keep-groups`): setgroups() refuses an unmapped group.
 */
function grantedGroups(world: World): number[] {
  const snap = world.snapshot;
  const rootName = world.user(0)?.name ?? "root";
  const own = new Set([0, OVERFLOW_GID, ...groupsOf(world, rootName, snap.gid)]);
  return snap.groups.filter((g) => !own.has(g));
}

/** initgroups(): the primary group plus every group listing the user as a member. */
function groupsOf(world: World, name: string | undefined, gid: number): number[] {
  const member = name === undefined
    ? []
    : world.groups().filter((g) => g.members.includes(name)).map((g) => g.gid);
  return [...new Set([gid, ...member])];
}

/** The user adapter. */
export const user: Adapter = {
  name: "user",
  paths: [
    ...NSS_WRAPPER_PATHS.map((path) => ({ kind: "exists" as const, path })),
    { kind: "stat", path: "/etc/passwd" },
    { kind: "read", path: "/etc/group" },
  ],
  dynamicPaths(world: World, config: ImageConfig): PathDecl[] {
    const homes = new Set<string>();
    // HOME and the cache folders as the command will have them, the image config's values
    // too (whether the final uid can write them decides what moves).
    for (const name of ["HOME", ...CACHE_DIRS.map(([n]) => n)]) {
      // Only absolute paths: a relative one is no folder the plan can judge (nor record).
      const h = world.env(name);
      if (h?.startsWith("/")) homes.add(h);
      for (const s of settingsVariants(config)) {
        for (const v of [s.env.set[name], s.env.fill[name]]) if (v?.startsWith("/")) homes.add(v);
      }
    }
    const own = world.user(world.snapshot.uid)?.home;
    if (own) homes.add(own);
    if (config.user) homes.add(config.user.home);
    const nb = world.env("NB_USER");
    if (nb) homes.add(`/home/${nb}`);
    homes.add("/home");
    // The passwd home of every uid a switch can go to (the plan prefers it to any other):
    // CHAMELEON_USER's, the notebook's and the config user's. A malformed value declares
    // nothing of its own here; planning reports it.
    const spec = parseUserSpec(world.env("CHAMELEON_USER") ?? "");
    const nbText = world.envValue("NB_UID");
    const nbUid = notebookUid(
      nbText !== undefined && /^\d+$/.test(nbText) ? Number(nbText) : undefined,
      config,
    );
    for (const uid of [spec?.uid, nbUid, config.user?.uid]) {
      const home = uid === undefined ? undefined : world.user(uid)?.home;
      if (home) homes.add(home);
    }
    // Every folder above each home too: whether root can make a missing home depends on its
    // folder, and whether the user can reach it on each one's search bit.
    for (const h of [...homes]) for (const up of foldersAbove(h)) homes.add(up);
    for (const p of chownExtra(world)) homes.add(p);
    return [...homes].map((path) => ({ kind: "stat" as const, path }));
  },
  plan(input) {
    const { world, runtimeDir } = input;
    const snap = world.snapshot;
    const warnings: string[] = [];
    const env: EnvOp[] = [];
    const dirs: PlanDir[] = [];
    const files: PlanFile[] = [];
    const steps: Step[] = [];

    const { target: t, to } = switchOf(input);
    if (
      t !== undefined && snap.uid !== 0 && t.explicit && asksIds(t, snap, input.config) &&
      !runsAs(t, snap, !t.derivedGroups)
    ) {
      warnings.push(
        `${t.why} asks for ${
          idsText(t)
        }, but the entrypoint runs as uid ${snap.uid}, not root: no user switch`,
      );
    }
    const switched = to === undefined ? undefined : switchPlanOf(input, switchOf(input), to);
    if (switched !== undefined) warnings.push(...switched.warnings);
    let plan = switched?.plan;

    const uid = plan?.uid ?? snap.uid;
    const gid = plan?.gid ?? snap.gid;
    const groups = plan?.groups ?? snap.groups;
    // The HOME the command would get: the user's, the image config's, else the passwd one.
    const givenHome = givenEnv(input, "HOME");
    let home = plan?.home ?? (givenHome || passwdHome(world.user(uid)) || "/");
    const homeAsGiven = home;
    const runtimeHome = `${runtimeDir}/home/${uid}`;
    // No per-uid home where the runtime dir cannot be made (no writable /run or /tmp: a pod's
    // readOnlyRootFilesystem without an emptyDir): HOME stays as the command would have it
    // without the entrypoint, with a warning, rather than a start that fails making the folder.
    // Nor where the final uid cannot reach the runtime dir (a folder above it, or the dir itself
    // as it stands, closed to it: under a 0700 /root, or root's 0700 one an earlier start left):
    // a HOME there would be out of its reach.
    const closed = runtimeClosed(world, runtimeDir, uid, gid, groups);
    const moveHome = (why: string | undefined) => {
      if (closed !== undefined) {
        // A uid with no home of its own (no passwd entry, nobody's /nonexistent) gets "/", as
        // docker and Kubernetes give such a uid.
        const reason = why ?? `uid ${uid} has no home of its own`;
        if (why === undefined) home = "/";
        warnings.push(
          `${reason}, and the runtime dir ${runtimeDir} ${closed.why}: HOME ${
            why === undefined ? "is" : "stays"
          } ${home} (${closed.hint})`,
        );
        return;
      }
      if (why !== undefined) warnings.push(`${why}: using ${runtimeHome}`);
      home = runtimeHome;
      dirs.push(...homesFolder(world, runtimeDir), {
        path: runtimeHome,
        mode: "0700",
        ...(snap.uid === 0 ? { owner: { uid, gid } } : {}),
      });
      for (const [name, sub] of CACHE_DIRS) {
        // A cache folder the image config gives is kept when this uid can write it; one it
        // cannot write still moves, and the config's value then disagrees (exit 78, naming it).
        const given = configGives(input, name) ? givenEnv(input, name) : undefined;
        if (given !== undefined && world.canWrite(given, uid, gid, groups)) continue;
        env.push(fill(name, `${runtimeHome}/${sub}`));
      }
    };
    if (home === runtimeHome) moveHome(undefined);
    // A user said to have no home (nobody) gets the per-uid one, without a warning: nothing is amiss.
    else if (home === NO_HOME || home.startsWith(`${NO_HOME}/`)) moveHome(undefined);
    else if (plan !== undefined && !world.exists(home)) {
      const folder = parentOf(home) ?? "/";
      if (!world.isDir(folder)) {
        // Nobody makes a home whose folder is missing too (a stale passwd entry): the
        // command would get a HOME it cannot write.
        moveHome(
          `HOME ${home} of uid ${uid} does not exist, nor does its folder`,
        );
      } else if (!world.canReach(home, uid, gid, groups)) {
        // A home root makes the user's is still out of the user's reach behind a folder it cannot
        // search (a 0700 /root or /home): the same rule as for a home that exists.
        moveHome(
          `HOME ${home} of uid ${uid} does not exist, and uid ${uid} cannot search a folder above it`,
        );
      } else if (snap.uid === 0 && world.canWrite(folder, snap.uid, snap.gid, snap.groups)) {
        // Root can make the user's home; it is then theirs.
        dirs.push({ path: home, mode: "0755", owner: { uid, gid } });
      } else {
        // A read-only /home (a read-only root file system) takes no new home.
        moveHome(
          `HOME ${home} of uid ${uid} does not exist, and ${folder} cannot be written`,
        );
      }
    } else if (world.exists(home) && !world.isDir(home)) {
      // A HOME that is no folder (HOME=/dev/null, a passwd home on a file) takes no dotfile or
      // cache however writable it is (design section 6 asks for a HOME the uid can write into).
      moveHome(`HOME ${home} is not a folder`);
    } else if (
      !world.canWrite(home, uid, gid, groups) &&
      !(plan !== undefined && chownsHome(world, home) && world.canReach(home, uid, gid, groups))
    ) {
      // CHOWN_HOME makes the home the user's (docker-stacks): it stays HOME, when the user can
      // reach it (a chown changes no folder above it).
      moveHome(`HOME ${home} is not writable for uid ${uid}`);
    }
    if (plan !== undefined) {
      plan = { ...plan, home };
      env.push(set("HOME", home), set("USER", plan.name), set("LOGNAME", plan.name));
    } else if (home !== (givenHome ?? "")) {
      env.push(set("HOME", home));
    }
    if (t?.named && snap.uid !== 0) {
      warnings.push(...notRenamedWarnings(input, t, uid, homeAsGiven, home));
    }

    if (world.user(uid) === undefined && (plan !== undefined || snap.uid !== 0)) {
      // Not root: docker-stacks names the entry it adds for this uid NB_USER, when given.
      // No switch here, so a name that cannot be a passwd name is no reason to stop: user<uid>.
      const nbName = plan === undefined && t?.named && isUserName(t.name!) ? t.name : undefined;
      if (nbName !== undefined) warnings.push(...takenNameWarnings(world, nbName, uid));
      const name = plan?.name ?? nbName ?? `user${uid}`;
      addPasswdEntry(world, runtimeDir, closed, { uid, gid, name, home, givenHome }, {
        env,
        files,
        steps,
        warnings,
      });
    }

    if (plan !== undefined) {
      steps.push(...chownSteps(world, plan));
      if (yes(world.env("CHOWN_HOME")) && home !== runtimeHome && !chownsHome(world, home)) {
        warnings.push(`CHOWN_HOME: HOME ${home} is not a folder under /home: left as it is`);
      }
    } else if (yes(world.env("CHOWN_HOME")) || chownExtra(world).length > 0) {
      // docker-stacks chowns to the user it switches to, and only as root (its non-root path skips
      // them without a word): either way nothing changes owner here, and the start says so.
      warnings.push(
        snap.uid === 0
          ? "CHOWN_HOME/CHOWN_EXTRA ask for ownership changes, but no user switch is planned: nothing changes owner"
          : `CHOWN_HOME/CHOWN_EXTRA ask for ownership changes, which need a root start (this one runs as uid ${snap.uid}): nothing changes owner`,
      );
    }
    if (input.detection.context.workload === "notebook") {
      warnings.push(...dockerStacksIgnored(world));
    }
    const names = explicitUnsets(world);
    return {
      env,
      dirs,
      files,
      steps,
      warnings,
      ...(names.length > 0 ? { drop: { names, askedBy: "JUPYTER_ENV_VARS_TO_UNSET" } } : {}),
      ...(plan === undefined ? {} : { user: plan, notes: { userReason: t!.why } }),
    };
  },
};

/**
 * docker-stacks' `JUPYTER_ENV_VARS_TO_UNSET`: the variables it lists (split at
 * commas and blanks, as start.sh splits them), and itself, are left out of the
 * command's environment. Hooks still see them, as start.sh's hooks do (start.sh
 * unsets them after its hooks): the plan notes them in `unsetAfterHooks`.
 */
function explicitUnsets(world: World): string[] {
  const list = world.envValue("JUPYTER_ENV_VARS_TO_UNSET");
  if (list === undefined) return [];
  const names = list.split(/[\s,]+/).filter((n) => n !== "");
  return [...new Set([...names, "JUPYTER_ENV_VARS_TO_UNSET"])];
}

/**
 * docker-stacks variables its start scripts act on and a start does not (README, "Other
 * docker-stacks variables"), with the values they act on: `GRANT_SUDO` only at 1 or yes
 * (reference/platforms.md C.1); the others whenever set. `NB_UMASK`, `GEN_CERT` and
 * `JUPYTER_PORT` are not among them: docker-stacks' Jupyter server config applies those, and an
 * image built on docker-stacks keeps it, so they act under chameleon as under start.sh.
 */
const DOCKER_STACKS_IGNORED: readonly [string, (value: string) => boolean][] = [
  ["GRANT_SUDO", (v) => v === "1" || v === "yes"],
  ["NB_GROUP", () => true],
  ["RESTARTABLE", () => true],
  ["DOCKER_STACKS_JUPYTER_CMD", () => true],
  ["NOTEBOOK_ARGS", () => true],
];

function dockerStacksIgnored(world: World): string[] {
  const set = DOCKER_STACKS_IGNORED.filter(([name, actsOn]) => {
    const value = world.envValue(name);
    return value !== undefined && actsOn(value);
  }).map(([name]) => name);
  if (set.length === 0) return [];
  return [
    `${
      set.join(", ")
    }: docker-stacks' start scripts act on these; chameleon does not (the notebook command comes from commands.notebook)`,
  ];
}

/**
 * What a name given for a switch (NB_USER) may not hold: it becomes a passwd
 * line and /home/NAME, so a ":", "," or line break would forge fields or
 * entries, a leading "#" makes the line a comment, and "/" or a lone "."
 * or ".." would move the home. Anything
 * useradd or usermod takes otherwise is accepted (Debian takes "jane.doe").
 */
const UNSAFE_USER_NAME = /[:,/\s\0]|^[-+~#]|^\.{1,2}$/;

/** Whether a name may become a passwd line's name and a home folder's. */
function isUserName(name: string): boolean {
  return name !== "" && !UNSAFE_USER_NAME.test(name);
}

function checkUserName(name: string): void {
  if (!isUserName(name)) {
    throw new InputError(
      `Variable NB_USER ${
        JSON.stringify(name)
      }: expected a user name (no ":", ",", "/", blanks or NUL, not starting with "-", "+", "~" or "#", not "." or "..")`,
    );
  }
}

/** Whether passwd gives `name` to a uid other than `uid`. */
function nameOfOther(world: World, name: string, uid: number): boolean {
  return world.passwd().some((e) => e.name === name && e.uid !== uid);
}

/**
 * The name whose /etc/group memberships are the uid's, and its passwd name: its own
 * entry's, else `name` unless passwd gives that to another uid (whose groups and
 * lookups it would take).
 */
function memberName(world: World, uid: number, name: string | undefined): string | undefined {
  const own = world.user(uid)?.name;
  if (own !== undefined) return own;
  return name !== undefined && !nameOfOther(world, name, uid) ? name : undefined;
}

/** A warning when an asked-for name (NB_USER) is another uid's in passwd. */
function takenNameWarnings(world: World, name: string, uid: number): string[] {
  return nameOfOther(world, name, uid)
    ? [
      `NB_USER ${name} is another uid's name in /etc/passwd: lookups of that name find it, not uid ${uid}`,
    ]
    : [];
}

/**
 * A warning when a start that is not root cannot give the name and home NB_USER asks for, as
 * start.sh warns ("container must be started as root to change the desired user's name", "user
 * is kitten but home is /home/jovyan"). A default name, docker-stacks' jovyan or the config
 * user's, asks nothing, as start.sh's jovyan does not: images set NB_USER themselves (one built
 * on docker-stacks keeps its ENV). `given` is the HOME before any move, `home` the command's.
 */
function notRenamedWarnings(
  input: PlanInput,
  t: Target,
  uid: number,
  given: string,
  home: string,
): string[] {
  const asked = t.name!;
  if (notebookDefaults(input.config).names.includes(asked)) return [];
  // The name the command's uid goes by: its passwd entry's, else the one the plan adds for it.
  const own = input.world.user(uid)?.name;
  const name = own ?? (isUserName(asked) ? asked : `user${uid}`);
  // A uid whose passwd entry has that name asks for nothing (start.sh checks the name alone
  // there); one the plan names gets the name but not the home. A HOME moved away from
  // /home/NB_USER (not writable) has its own warning.
  if (name === asked && (own !== undefined || given === `/home/${asked}`)) return [];
  return [
    `NB_USER ${asked} asks for that user name and the home /home/${asked}, but the entrypoint runs as uid ${uid}, not root: the command runs as ${name} with HOME ${home}`,
  ];
}

/** A passwd entry's home when it is an absolute path (an empty field gives none). */
function passwdHome(entry: { readonly home: string } | undefined): string | undefined {
  return entry?.home.startsWith("/") ? entry.home : undefined;
}

/** Debian's home for users without one (nobody): it must never exist, so it is never made. */
const NO_HOME = "/nonexistent";

function withNewline(text: string): string {
  return text === "" || text.endsWith("\n") ? text : text + "\n";
}

const yes = (v: string | undefined) => v === "1" || v === "yes";

/** Whether docker-stacks' CHOWN_HOME asks for the home to be made the user's. */
function chownsHome(world: World, home: string): boolean {
  // docker-stacks chowns /home/$NB_USER: never a system folder that passwd calls home (/, /dev, /usr/sbin).
  return yes(world.env("CHOWN_HOME")) && /^\/home\/[^/]+$/.test(home);
}

/**
 * The paths CHOWN_EXTRA names, split as docker-stacks' start.sh splits them:
 * at commas and at blanks (`tr ',' ' '`, then the shell's word splitting).
 */
function chownExtra(world: World): string[] {
  return (world.env("CHOWN_EXTRA") ?? "").split(/[\s,]+/).filter((p) => p !== "");
}

/**
 * Whether chown options (`CHOWN_HOME_OPTS`, `CHOWN_EXTRA_OPTS`) ask for a recursive chown, as
 * docker-stacks passes them: `-R` alone, in a cluster (`-Rv`), or spelt out. Word by word: the
 * pattern over the whole value, `/(^|\s)(-[A-Za-z]*R[A-Za-z]*|--recursive)(\s|$)/`, went back
 * over a long word's letters from each R in it (`-RR...R1` of 10,000 characters: 55 ms).
 */
export function chownOptsRecursive(opts: string): boolean {
  return opts.split(/\s/).some((w) =>
    w === "--recursive" || (/^-[A-Za-z]+$/.test(w) && w.includes("R"))
  );
}

/** docker-stacks ownership requests (CHOWN_HOME, CHOWN_EXTRA), skipping paths already owned right. */
function chownSteps(world: World, u: UserPlan): Step[] {
  const recursive = (opts: string | undefined) => chownOptsRecursive(opts ?? "");
  const want: [string, boolean, string][] = [];
  if (chownsHome(world, u.home)) {
    want.push([u.home, recursive(world.env("CHOWN_HOME_OPTS")), "CHOWN_HOME"]);
  }
  for (const p of chownExtra(world)) {
    want.push([p, recursive(world.env("CHOWN_EXTRA_OPTS")), "CHOWN_EXTRA"]);
  }
  return want.flatMap(([path, rec, reason]): Step[] => {
    const s = world.stat(path);
    if (!rec && s.uid === u.uid && s.gid === u.gid && world.snapshot.stat[path] !== undefined) {
      return [];
    }
    return [{ step: "chown", path, uid: u.uid, gid: u.gid, recursive: rec, reason }];
  });
}

/**
 * The user a root start switches to for `t`, with warnings about its name.
 * Its own function: V8 compiles a function whole on its first call, and most
 * starts switch to no one.
 */
function switchPlan(world: World, t: Target, runtimeDir: string, warnings: string[]): UserPlan {
  if (t.named) checkUserName(t.name!);
  const entry = world.user(t.uid);
  // A default name (the config's, jovyan) that passwd gives another uid would make a second
  // entry of that name, which name lookups never reach: the uid's own name instead.
  if (t.named) warnings.push(...takenNameWarnings(world, t.name!, t.uid));
  const member = memberName(world, t.uid, t.name);
  const name = (t.named ? t.name : member) ?? `user${t.uid}`;
  const granted = t.exactGroups ? [] : grantedGroups(world);
  const group = world.file("/etc/group");
  if ((t.groups === undefined || t.derivedGroups) && group.kind === "unreadable") {
    // Supplementary groups are never silently none: the memberships cannot be known.
    warnings.push(
      `/etc/group: ${group.reason}: uid ${t.uid}'s supplementary groups cannot be read from it`,
    );
  }
  return {
    uid: t.uid,
    gid: t.gid,
    groups: [...new Set([...(t.groups ?? groupsOf(world, member, t.gid)), ...granted])],
    name,
    // An anonymous uid gets no invented /home entry: its HOME is the per-uid runtime folder.
    home: (t.named ? t.home : passwdHome(entry) ?? t.home) ?? `${runtimeDir}/home/${t.uid}`,
  };
}

/**
 * The per-uid homes' folder, planned only where the runtime dir is open to
 * its group (not to others): an image prepares `/run/chameleon` writable by
 * group 0 for OpenShift's random uids, and a 0755 folder of one start's uid
 * there (a root start's, kept by a restart, a commit or a `docker exec -u`)
 * would keep every other uid of the group from making its home. It is as
 * open as the runtime dir, and root's with the runtime dir's group when root
 * makes it (which also mends one an earlier root start made 0755).
 */
function homesFolder(world: World, runtimeDir: string): PlanDir[] {
  if (!world.isDir(runtimeDir)) return [];
  const rt = world.stat(runtimeDir);
  if ((rt.mode & 0o022) !== 0o020) return [];
  const root = world.snapshot.uid === 0;
  return [{
    path: `${runtimeDir}/home`,
    mode: "0775",
    ...(root ? { owner: { uid: 0, gid: rt.gid } } : {}),
  }];
}

/** Why the runtime dir cannot take a uid's HOME and nss_wrapper files, and what to do about it. */
interface RuntimeClosed {
  /** What the runtime dir is: "is on a read-only file system". */
  readonly why: string;
  /** What that means for nss_wrapper's files: "cannot be written". */
  readonly filesWhy: string;
  readonly hint: string;
}

/**
 * Why the runtime dir cannot hold what uid's command uses (its HOME, the
 * nss_wrapper files it reads): it is on a read-only file system, or a folder
 * at or above it, as the snapshot found it, is closed to the uid (no search
 * bit for it); undefined when it can.
 */
function runtimeClosed(
  world: World,
  runtimeDir: string,
  uid: number,
  gid: number,
  groups: readonly number[],
): RuntimeClosed | undefined {
  if (world.onReadOnly(runtimeDir)) {
    return {
      why: "is on a read-only file system",
      filesWhy: "cannot be written",
      hint: "mount a writable /tmp, or set CHAMELEON_RUNTIME_DIR",
    };
  }
  const closed = world.closedOnTheWay(runtimeDir, uid, gid, groups);
  if (closed === undefined) return undefined;
  return {
    why: `is out of reach of uid ${uid} (${closed} is ${modeAndOwner(world.stat(closed))})`,
    filesWhy: "would be out of its reach",
    hint: "set CHAMELEON_RUNTIME_DIR to a folder it can reach",
  };
}

/** Where {@linkcode addPasswdEntry} adds its variables, files, steps and warnings. */
interface PlanParts {
  readonly env: EnvOp[];
  readonly files: PlanFile[];
  readonly steps: Step[];
  readonly warnings: string[];
}

/**
 * A passwd entry for a uid that has none (whoami and ~user lookups need one):
 * through nss_wrapper when its library is there, else a line for a writable
 * /etc/passwd, else a warning. Its own function: most starts have the entry,
 * and V8 compiles a function whole on its first call.
 */
function addPasswdEntry(
  world: World,
  runtimeDir: string,
  closed: RuntimeClosed | undefined,
  who: {
    readonly uid: number;
    readonly gid: number;
    readonly name: string;
    readonly home: string;
    readonly givenHome: string | undefined;
  },
  { env, files, steps, warnings }: PlanParts,
): void {
  const { uid, gid, name, home, givenHome } = who;
  const snap = world.snapshot;
  if (/[:\n\r\0]/.test(home)) {
    const what = home === givenHome ? "Variable HOME" : "Home (from CHAMELEON_RUNTIME_DIR)";
    throw new InputError(
      `${what} ${
        JSON.stringify(home)
      }: expected a path without ":" or line breaks (it goes into the passwd entry of uid ${uid})`,
    );
  }
  const line = `${name}:x:${uid}:${gid}:${name}:${home}:/bin/sh`;
  // A passwd or group file there but unreadable (over the read limit, an I/O error) hides the
  // entries: the uid may have one, and nss_wrapper's copies would hold none of the others.
  const passwd = world.file("/etc/passwd");
  if (passwd.kind === "unreadable") {
    warnings.push(
      `/etc/passwd: ${passwd.reason}: whether uid ${uid} has a passwd entry is unknown, so none is added`,
    );
    return;
  }
  const group = world.file("/etc/group");
  const lib = group.kind === "unreadable"
    ? undefined
    : NSS_WRAPPER_PATHS.find((p) => world.exists(p));
  if (group.kind === "unreadable") {
    // A switch has warned of the file already (its groups): one line says both.
    const head = `/etc/group: ${group.reason}: `;
    const nss = "nss_wrapper's group file would hold none of its groups, so it is not used";
    const said = warnings.findIndex((w) => w.startsWith(head));
    if (said < 0) warnings.push(head + nss);
    else warnings[said] += `, and ${nss}`;
  }
  // nss_wrapper's files go into the runtime dir, which a read-only file system cannot take, and
  // which must be within the uid's reach (nss_wrapper reads them as the command).
  if (lib !== undefined && closed === undefined) {
    const passwdCopy = `${runtimeDir}/passwd`;
    const groupCopy = `${runtimeDir}/group`;
    const etcGroup = world.read("/etc/group") ?? "";
    const groupLine = world.groups().some((g) => g.gid === gid) ? "" : `${name}:x:${gid}:\n`;
    files.push(
      {
        path: passwdCopy,
        content: withNewline(world.read("/etc/passwd") ?? "") + line + "\n",
        mode: "0644",
      },
      { path: groupCopy, content: withNewline(etcGroup) + groupLine, mode: "0644" },
    );
    env.push(
      append("LD_PRELOAD", [lib], " "),
      set("NSS_WRAPPER_PASSWD", passwdCopy),
      set("NSS_WRAPPER_GROUP", groupCopy),
    );
  } else if (world.canWrite("/etc/passwd", snap.uid, snap.gid, snap.groups)) {
    steps.push({ step: "passwd-entry", path: "/etc/passwd", line });
  } else {
    const why = lib === undefined
      ? "there is neither libnss_wrapper.so nor a writable /etc/passwd"
      : `nss_wrapper's files ${closed!.filesWhy} (the runtime dir ${runtimeDir} ${
        closed!.why
      }), nor /etc/passwd`;
    warnings.push(`uid ${uid} has no passwd entry, and ${why}: whoami and ~user lookups will fail`);
  }
}
