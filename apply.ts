/**
 * Apply: carries out the plan and decides nothing new. In order, each step
 * logged before it acts: `before-apply` hooks, the runtime dir, the plan's
 * folders and files (written atomically, with their modes and owners), its
 * links, the passwd entry, ownership changes, the wait for every host,
 * `before-run` hooks.
 *
 * @module
 */

import { HookError, HostWaitError, InputError } from "./errors.ts";
import type { Logger } from "./log.ts";
import { chownTree, HardLinksLeft, LinkNotFollowed } from "./sys/chown.ts";
import { resolveHost } from "./sys/dns.ts";
import { missingInterpreter } from "./sys/exec.ts";
import { followsLinkOf, readFileOnly, symlinkOwner } from "./sys/fs.ts";
import {
  appendWhole,
  checkFolderChain,
  fileErrorText,
  linkAtomic,
  linkOfAnotherOnTheWay,
  makeFolder,
  type Owner,
  SysError,
  writeFileAtomic,
} from "./sys/files.ts";
import { ERRNO } from "./sys/libc.ts";
import { exitCode, exitWords, runToEnd, sleep } from "./sys/process.ts";
import { hiddenStderr, stderrKept } from "./report.ts";
import { secretForms } from "./secrets.ts";
import { IDENTITY_FILE_LIMIT } from "./snapshot.ts";
import type { HookPhase, Plan, Step } from "./types.ts";
import {
  hookRefusal,
  ownedByAnother,
  parentOf,
  runtimeDirRefusal,
  writableByOthers as othersMayWrite,
  writesInRuntimeDir,
} from "./world.ts";

/** What apply needs besides the plan. */
export interface ApplyContext {
  readonly log: Logger;
  /** The environment hooks run with: the planned one, with what a drop leaves out of the command's. */
  readonly env: Readonly<Record<string, string>>;
  /** The environment as the entrypoint found it. */
  readonly found: Readonly<Record<string, string>>;
}

const NSS_WRAPPER_FILES = ["NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP"];

/**
 * The environment of `before-apply` hooks: the planned one, except for what
 * apply has yet to make. A folder the plan makes (the per-uid home under the
 * runtime dir, Spark's conf folder) does not exist yet: every variable the
 * plan points to it or into it (HOME, the caches, SPARK_CONF_DIR) is as the
 * entrypoint found it. An nss_wrapper the plan
 * adds is not preloaded yet (its passwd and group files are written after
 * these hooks; nss_wrapper fails every lookup without them). Only the plan's
 * own library leaves LD_PRELOAD: what the user or the image config preloads
 * stays.
 */
function beforeApplyEnv(plan: Plan, ctx: ApplyContext): Record<string, string> {
  let env = { ...ctx.env };
  for (const d of plan.dirs) env = asFoundInto(env, ctx.found, d.path);
  const passwd = env["NSS_WRAPPER_PASSWD"];
  if (passwd === undefined || !plan.files.some((f) => f.path === passwd)) return env;
  for (const name of NSS_WRAPPER_FILES) {
    const found = ctx.found[name];
    if (found === undefined) delete env[name];
    else env[name] = found;
  }
  const before = (ctx.found["LD_PRELOAD"] ?? "").split(/[ :]/);
  // ld.so takes blanks or colons between libraries: the user's value may use either.
  const preload = (env["LD_PRELOAD"] ?? "").split(/[ :]/).filter((lib) =>
    lib !== "" && (!/(^|\/)libnss_wrapper\.so/.test(lib) || before.includes(lib))
  );
  if (preload.length > 0) env["LD_PRELOAD"] = preload.join(" ");
  else delete env["LD_PRELOAD"];
  return env;
}

/**
 * The environment of a hook run as root while the command gets another user:
 * every variable the plan points into that user's home (HOME, the caches),
 * and USER and LOGNAME, as the entrypoint found them. A home the user can
 * write, maybe filled in an earlier run (a notebook's volume), must not become
 * root's: its `.local` site-packages or shell files would run as root.
 */
function rootHookEnv(
  env: Record<string, string>,
  plan: Plan,
  found: Readonly<Record<string, string>>,
): Record<string, string> {
  const user = plan.user;
  if (Deno.uid() !== 0 || user === null || user.uid === 0) return env;
  return asFoundInto(env, found, user.home, ["USER", "LOGNAME"]);
}

/**
 * `env` with every variable that points to `folder` or into it, and those
 * named in `also`, as the entrypoint found them (left out when it found none).
 */
function asFoundInto(
  env: Readonly<Record<string, string>>,
  found: Readonly<Record<string, string>>,
  folder: string,
  also: readonly string[] = [],
): Record<string, string> {
  const out = { ...env };
  for (const [name, value] of Object.entries(env)) {
    const into = value === folder || value.startsWith(`${folder}/`);
    if (!into && !also.includes(name)) continue;
    const before = found[name];
    if (before === undefined) delete out[name];
    else out[name] = before;
  }
  return out;
}

function mode(text: string): number {
  return parseInt(text, 8);
}

function fail(what: string, e: unknown): never {
  throw new InputError(`${what}: ${fileErrorText(e)}`);
}

// Owners and ownership changes are planned only when the entrypoint runs as
// root (the user adapter decides), so apply follows them as given.
function mkdirs(path: string, m: number, owner?: Owner, guardBelow?: string): void {
  try {
    makeFolder(path, m, owner, guardBelow);
  } catch (e) {
    fail(`Folder ${path}`, e);
  }
}

/** Why `path` (or the link it is) is another user's, not root's or ours; undefined when it is not. */
function anotherUsersOwn(path: string): string | undefined {
  // A link's owner counts as well as its target's.
  const link = symlinkOwner(path);
  if (link !== undefined && !followsLinkOf(link)) return `is a symbolic link of uid ${link}`;
  return ownedByAnother(Deno.statSync(path).uid ?? 0, Deno.uid() ?? 0);
}

/**
 * Why another user could change `path` (links followed): it is theirs, or
 * others may write it; undefined when nobody else can.
 */
function othersCanChange(path: string): string | undefined {
  return anotherUsersOwn(path) ?? writableByOthers(path, false);
}

/** Why others may write `path` (links followed), whoever owns it (world.ts's rule). */
function writableByOthers(path: string, shared: boolean): string | undefined {
  const { gid, mode } = Deno.statSync(path);
  const own = Deno.gid() ?? -1;
  return othersMayWrite(gid ?? own, mode ?? 0, own, shared);
}

/**
 * Refuses (exit 78) a hook root would run that another user could have
 * changed: the hook, its folder or the hooks dir is theirs or writable by
 * others. A hook gone since the snapshot is 127 when `atItsTurn`, as a start
 * that is not root finds it, and left to its turn otherwise.
 */
function checkHook(step: Extract<Step, { step: "hooks" }>, path: string, atItsTurn: boolean) {
  for (const p of [parentOf(step.dir) ?? step.dir, step.dir, path]) {
    let why: string | undefined;
    try {
      why = othersCanChange(p);
    } catch (e) {
      // Gone since the snapshot (an earlier hook removed it): as a start that is not root finds it.
      if (!(e instanceof Deno.errors.NotFound)) fail(`Hook ${path}`, e);
      if (!atItsTurn) return;
      throw new HookError(`Hook ${path} could not start: no such file or directory`, 127);
    }
    if (why !== undefined) throw new InputError(hookRefusal(path, p, why));
  }
}

/** Runs the executables of one hook step in order; a failure stops the start with its code. */
async function runHooks(
  step: Extract<Step, { step: "hooks" }>,
  env: Readonly<Record<string, string>>,
  log: Logger,
  reported: readonly string[] | null,
): Promise<void> {
  for (const name of step.hooks) {
    const path = `${step.dir}/${name}`;
    if (Deno.uid() === 0) checkHook(step, path, true);
    log.info(`running hook ${step.phase}/${name}`);
    const { exit, stderrTail } = await runToEnd(
      path,
      [path],
      env,
      (why, code) => {
        // A script whose interpreter is missing is there: execve's "no such file" names no culprit.
        const interpreter = code === 127 ? missingInterpreter(path) : undefined;
        const more = interpreter === undefined ? "" : `: ${interpreter}`;
        return new HookError(`Hook ${path} could not start: ${why}${more}`, code);
      },
      // Where a failure is reported (SageMaker), a failing hook's last stderr lines go with it,
      // as a failing command's do.
      { forward: true, tailBytes: reported === null ? undefined : stderrKept(reported) },
    );
    const code = exitCode(exit);
    if (code !== 0) {
      const tail = reported === null ? "" : hiddenStderr(stderrTail, reported);
      throw new HookError(`Hook ${path} failed: ${exitWords(exit)}`, code, tail);
    }
  }
}

function appendPasswd(path: string, line: string, log: Logger): void {
  const uid = line.split(":")[2];
  const cannot = (why: string) =>
    log.warn(`could not add uid ${uid} to ${path} (${why}): whoami and ~user lookups will fail`);
  // Read as the snapshot reads it: bounded, and only while it is a regular file once opened (a
  // FIFO put there is not waited on, a device not read nor written). One that is not, or grew past
  // the limit since the snapshot, is what the plan warns of when the snapshot finds it so: the uid
  // may have an entry, so none is added. The bound is the identity files' (16 MiB: LDAP-synced).
  const read = readFileOnly(path, IDENTITY_FILE_LIMIT);
  if (read.kind === "special") return cannot("not a regular file");
  if (read.kind === "unreadable") return cannot(read.reason);
  if (read.kind === "missing") fail(`File ${path}`, new Error("no such file"));
  const current = read.text;
  if (current.split("\n").some((l) => l.split(":")[2] === uid)) {
    log.debug(`${path} already has uid ${uid}`);
    return;
  }
  const text = (current === "" || current.endsWith("\n") ? "" : "\n") + line + "\n";
  try {
    // One append, whole or not at all: /etc/passwd may be group-writable while /etc is not,
    // so no rename.
    if (!appendWhole(path, text)) cannot("not a regular file");
  } catch (e) {
    // A read-only root file system (root can write any file, but not there): the
    // planned fall-back when nothing can name the uid is a warning, and so is this.
    const code = e instanceof SysError ? e.errno : undefined;
    if (code !== ERRNO.EACCES && code !== ERRNO.EPERM && code !== ERRNO.EROFS) {
      fail(`File ${path}`, e);
    }
    cannot((e as Error).message);
  }
}

/**
 * Waits until every host resolves (getaddrinfo: /etc/hosts and NSS count),
 * retrying with backoff, with a progress line every 10 s; exit 69 naming the
 * hosts that never resolved.
 */
export async function waitForHosts(
  hosts: readonly string[],
  timeoutSeconds: number,
  log: Logger,
  progressEveryMs = 10_000,
  resolve: (host: string) => Promise<string | null> = resolveHost,
): Promise<void> {
  const start = Date.now();
  const deadline = start + timeoutSeconds * 1000;
  const pending = new Set(hosts);
  // At most one lookup per host at a time: a pass whose wait ends before a lookup does leaves it
  // running for the next pass (which waits on it again) rather than starting another, so a
  // resolver that hangs does not pile a lookup per host and pass into Deno's blocking pool; one
  // that ends between passes counts at the next.
  const running = new Map<string, Promise<string | null>>();
  const resolved = new Set<string>();
  const lookup = (h: string): Promise<string | null> => {
    let p = running.get(h);
    if (p === undefined) {
      p = resolve(h);
      running.set(h, p);
      p.then((addr) => {
        running.delete(h);
        if (addr !== null) resolved.add(h);
      }, () => running.delete(h));
    }
    return p;
  };
  let delay = 100;
  let lastProgress = start;
  for (let first = true;; first = false) {
    // All at once, each lookup up to 5 s; the first pass gives every host a whole lookup,
    // however short the timeout (0 included), and costs 5 s at most.
    const left = first ? 5000 : Math.max(0, deadline - Date.now());
    const found = await Promise.all([...pending].map(async (h) => {
      if (resolved.has(h)) return h;
      const addr = await Promise.race([lookup(h), sleep(Math.min(left, 5000)).then(() => null)]);
      return addr === null ? null : h;
    }));
    for (const h of found) if (h !== null) pending.delete(h);
    if (pending.size === 0) return;
    const now = Date.now();
    if (now >= deadline) {
      throw new HostWaitError(
        `Hosts never resolved within ${timeoutSeconds} s: ${[...pending].join(", ")} (resolved ${
          hosts.length - pending.size
        } of ${hosts.length})`,
      );
    }
    if (now - lastProgress >= progressEveryMs) {
      log.info(
        `waiting for ${pending.size} of ${hosts.length} hosts to resolve: ${
          [...pending].join(", ")
        }`,
      );
      lastProgress = now;
    }
    await sleep(Math.min(delay, deadline - now));
    delay = Math.min(delay * 2, 5000);
  }
}

function hookStep(plan: Plan, phase: HookPhase) {
  return plan.steps.find((s): s is Extract<Step, { step: "hooks" }> =>
    s.step === "hooks" && s.phase === phase
  );
}

/** Carries out everything before the command starts. */
export async function apply(plan: Plan, ctx: ApplyContext): Promise<void> {
  const { log } = ctx;
  const before = hookStep(plan, "before-apply");
  const last = hookStep(plan, "before-run");
  // Every hook a root start would refuse is refused before the first one runs or anything is
  // written, so a refusal leaves nothing half-done; each is checked again at its turn.
  if (Deno.uid() === 0) {
    for (const step of [before, last]) {
      if (step === undefined) continue;
      for (const name of step.hooks) checkHook(step, `${step.dir}/${name}`, false);
    }
  }
  // Where a failure is reported, the secret forms a failing hook's stderr tail is hidden of:
  // made only when there are hooks to run.
  const reported = (before === undefined && last === undefined) || plan.failureReport === null
    ? null
    : secretForms(plan.secrets);
  if (before) {
    await runHooks(before, rootHookEnv(beforeApplyEnv(plan, ctx), plan, ctx.found), log, reported);
  }

  const inRuntime = writesInRuntimeDir(plan.runtimeDir, [
    ...plan.dirs,
    ...plan.files,
    ...plan.steps,
  ]);
  // What another uid could have prepared in the runtime dir (a persistent /tmp, a volume, a
  // runtime dir its group shares) is refused: root would write through its links or hand out its
  // files, and any start would take a home that uid keeps (a .pth or a .profile in it runs as the
  // command) or write a Spark config into a folder that uid could swap. Any start refuses a
  // runtime dir another user owns (a /tmp users share), for the same reason.
  const root = Deno.uid() === 0;
  const under = (p: string) => p.startsWith(`${plan.runtimeDir}/`);
  // A home outside the runtime dir (a passwd or config home on a volume) is made by root through no
  // link another uid planted above it (it would be made, and handed out, where they chose): looked
  // at before anything is made.
  for (const d of root ? plan.dirs : []) {
    if (d.path.startsWith(`${plan.runtimeDir}/`)) continue; // the runtime dir's own checks, below
    const way = linkOfAnotherOnTheWay(parentOf(d.path) ?? "/");
    if (way !== undefined) fail(`Folder ${d.path}`, new Error(way));
  }
  if (inRuntime) {
    // The folders above it are looked at before anything is made: a link there would lead it
    // elsewhere. The runtime dir itself once it is there (a chain of links that it is too).
    const refuseWay = (path: string) => {
      const way = linkOfAnotherOnTheWay(path);
      if (way === undefined) return;
      fail(
        `Runtime dir ${plan.runtimeDir}`,
        new Error(`${way} (it could lead what a start makes anywhere)`),
      );
    };
    refuseWay(parentOf(plan.runtimeDir) ?? "/");
    log.debug(`creating runtime dir ${plan.runtimeDir}`);
    mkdirs(plan.runtimeDir, 0o755);
    const theirs = anotherUsersOwn(plan.runtimeDir);
    if (theirs === undefined) refuseWay(plan.runtimeDir);
    const why = theirs ?? writableByOthers(plan.runtimeDir, true);
    if (why !== undefined && (root || theirs !== undefined)) {
      throw new InputError(runtimeDirRefusal(plan.runtimeDir, why, root));
    }
    if (why !== undefined) {
      log.warn(`runtime dir ${plan.runtimeDir} ${why}: what is written there could be replaced`);
    }
  }
  for (const d of plan.dirs) {
    log.info(
      `creating folder ${d.path} (${d.mode}${
        d.owner ? `, owner ${d.owner.uid}:${d.owner.gid}` : ""
      })`,
    );
    mkdirs(d.path, mode(d.mode), d.owner, under(d.path) ? plan.runtimeDir : undefined);
  }
  for (const f of plan.files) {
    log.info(`writing ${f.path} (${f.mode})`);
    try {
      if (under(f.path)) checkFolderChain(plan.runtimeDir, parentOf(f.path) ?? f.path);
      writeFileAtomic(f.path, f.content, mode(f.mode), f.owner);
    } catch (e) {
      fail(`File ${f.path}`, e);
    }
  }
  for (const s of plan.steps) {
    if (s.step !== "link") continue;
    log.info(`linking ${s.path} to ${s.target}`);
    try {
      if (under(s.path)) checkFolderChain(plan.runtimeDir, parentOf(s.path) ?? s.path);
      linkAtomic(s.target, s.path);
    } catch (e) {
      fail(`Link ${s.path}`, e);
    }
  }
  for (const s of plan.steps) {
    if (s.step === "passwd-entry") {
      log.info(`adding ${s.line.split(":")[0]} to ${s.path}`);
      appendPasswd(s.path, s.line, log);
    }
  }
  for (const s of plan.steps) {
    if (s.step !== "chown") continue;
    log.info(`${s.reason}: chown ${s.recursive ? "-R " : ""}${s.uid}:${s.gid} ${s.path}`);
    try {
      const n = chownTree(s.path, s.uid, s.gid, s.recursive);
      log.debug(`${n} entries changed owner`);
    } catch (e) {
      // A link a user planted where a path is named: its target keeps its owner, the start goes on;
      // so do files with other hard links where the kernel does not protect them.
      if (e instanceof LinkNotFollowed || e instanceof HardLinksLeft) {
        log.warn(`ownership of ${e.message}`);
      } else {
        // Named by the variable that asked (CHOWN_HOME, CHOWN_EXTRA): a path it names may be missing.
        fail(`${s.reason}: ownership of ${s.path}`, e);
      }
    }
  }
  for (const s of plan.steps) {
    if (s.step !== "wait-for-hosts") continue;
    log.info(`waiting up to ${s.timeoutSeconds} s for ${s.hosts.length} hosts to resolve`);
    await waitForHosts(s.hosts, s.timeoutSeconds, log);
  }
  if (last) await runHooks(last, rootHookEnv({ ...ctx.env }, plan, ctx.found), log, reported);
}
