/**
 * Supervise mode: PID 1 duties, signal forwarding to the command's process
 * group, orphan reaping, failure reporting on SageMaker, and the Spark
 * standalone cluster around the command. The command itself starts through
 * the one exec stage (`sys/exec.ts`), in a child started from our own binary.
 *
 * @module
 */

import type { Logger } from "./log.ts";
import { writeWithin } from "./sys/stream.ts";
import type { ExecSpec } from "./sys/exec.ts";
import { stageChild } from "./sys/exec_stage.ts";
import {
  becomeSubreaper,
  concatBytes,
  type Exit,
  exitCode,
  exitWords,
  giveTerminal,
  ignoreSignal,
  kill,
  ownGroup,
  reapEnded,
  runToEnd,
  setpgid,
  sleep,
  spawn,
  SpawnError,
  stopSelf,
  teeStderr,
  terminalForeground,
  waitAnyOrStop,
} from "./sys/process.ts";
import { onSignal, SIGNAL_NUMBERS } from "./sys/signals.ts";
import { ChameleonError, CommandError, EXIT, HostWaitError } from "./errors.ts";
import { ERRNO } from "./sys/libc.ts";
import { resolveHost } from "./sys/dns.ts";
import { failureText, hiddenStderr, stderrKept, writeReport } from "./report.ts";
import { scrubber, secretForms } from "./secrets.ts";
import type { Plan, Step } from "./types.ts";

/**
 * Starts the exec stage. A start that fails (arguments and environment too
 * large for execve, no process left under a pids limit) is exit 126 naming
 * why, as in exec mode, not an internal error.
 */
function spawnStage(stage: ReturnType<typeof stageChild>, spec: ExecSpec, pipeStderr: boolean) {
  try {
    return spawn(stage.argv[0]!, stage.argv, stage.env, { pipeStderr });
  } catch (e) {
    if (!(e instanceof SpawnError)) throw e;
    // Too large for execve, or no process to be had (EAGAIN under a pids limit, ENOMEM).
    const why = e.errno === ERRNO.E2BIG ? " (its arguments and environment together)" : "";
    throw new CommandError(
      `Command ${JSON.stringify(spec.argv[0] ?? "")}: ${e.reason}${why}`,
      EXIT.notExecutable,
    );
  }
}

/** How long the supervisor waits for its stderr to take one of its own lines. */
const OWN_LINE_MS = 1000;
const lineBytes = new TextEncoder();

/** Forwarded signals that ask the command to end: a stopped command is continued after them. */
const STOP_REQUESTS: ReadonlySet<string> = new Set(["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"]);

/**
 * Signals whose default ends a process and that the supervisor does not
 * forward: SIGALRM, SIGSTKFLT, SIGXCPU, SIGXFSZ (the resource limits': an
 * ignored SIGXFSZ makes the write fail with EFBIG instead), SIGVTALRM,
 * SIGPROF, SIGIO, SIGPWR, and the real-time signals glibc leaves to programs
 * (34 to 64).
 */
const UNFORWARDED_FATAL: readonly number[] = [
  14,
  16,
  24,
  25,
  26,
  27,
  29,
  30,
  ...Array.from({ length: 31 }, (_, i) => 34 + i),
];

/** Supervises the command; resolves to its exit code (or 128 + signal). */
export async function supervise(plan: Plan, spec: ExecSpec, log: Logger): Promise<number> {
  // A background group writing to the terminal must not stop the supervisor.
  ignoreSignal(SIGNAL_NUMBERS["SIGTTOU"]!);
  ignoreSignal(SIGNAL_NUMBERS["SIGTTIN"]!);
  // Signals that would end the supervisor by default and are not forwarded: dropped, as they
  // are for a PID 1, rather than leave the command running without its supervisor. (The
  // command starts with every signal at its default.)
  for (const n of UNFORWARDED_FATAL) ignoreSignal(n);
  if (Deno.pid !== 1 && !becomeSubreaper()) log.warn("could not become a child subreaper");
  const stage = stageChild(spec, plan.secrets);
  const pending: number[] = [];
  let childPid = 0;
  onSignal((s) => {
    const n = SIGNAL_NUMBERS[s]!;
    if (childPid === 0) {
      pending.push(n);
      return;
    }
    log.debug(`forwarding ${s} to process group ${childPid}`);
    if (!kill(-childPid, n)) kill(childPid, n);
    // A stopped command would not act on a stop request until someone continued it.
    if (STOP_REQUESTS.has(s) && !kill(-childPid, SIGCONT)) kill(childPid, SIGCONT);
  });
  const child = spawnStage(stage, spec, plan.failureReport !== null);
  // From here a line of the supervisor's own that its stderr does not take within a second is
  // dropped: a reader that stopped reading held it up in a blocking write for good, after the
  // command ended too (its exit with it). The command's own stderr still waits for that reader.
  log.redirect((line) => void writeWithin(2, lineBytes.encode(`${line}\n`), OWN_LINE_MS));
  childPid = child.pid;
  setpgid(child.pid);
  for (const n of pending.splice(0)) kill(-childPid, n);

  // Tee the program's stderr: it still reaches the log unchanged, and its tail
  // goes into the failure report.
  // Only a failure report hides secrets in the tail (and only then is stderr teed).
  const forms = plan.failureReport === null ? [] : secretForms(plan.secrets);
  const tee = child.stderr === undefined ? undefined : teeStderr(child.stderr, stderrKept(forms));

  let exit: Exit | undefined;
  let waitingForFg: ReturnType<typeof setInterval> | undefined;
  while (exit === undefined) {
    const w = await waitAnyOrStop();
    if (w === null) break;
    if (w.pid !== child.pid) {
      if ("exit" in w) log.debug(`reaped orphan ${w.pid}`);
    } else if ("exit" in w) exit = w.exit;
    else if (followStop(child.pid, w.stopped, log) && waitingForFg === undefined) {
      // Continued by `bg`: the shell's `fg` sends no signal to a running job, so look.
      const timer = setInterval(() => {
        if (!handOn(child.pid)) return;
        clearInterval(timer);
        waitingForFg = undefined;
      }, 250);
      waitingForFg = timer;
    }
  }
  clearInterval(waitingForFg);
  const tail = tee === undefined ? new Uint8Array(0) : await tee.end();
  if (exit === undefined) log.error("waitpid found no child: how the command ended is not known");
  const result = exit ?? { kind: "exited" as const, code: 70 };
  const code = exitCode(result);
  if (code !== 0 && plan.failureReport !== null) {
    const hide = scrubber(forms);
    writeReport(
      plan.failureReport.path,
      // The program's own stderr may print a secret the plan knows: the report becomes the job's
      // FailureReason, which anyone who may describe the job reads.
      failureText(
        (plan.commandDisplay ?? spec.argv).map(hide),
        result,
        hiddenStderr(tail, forms),
      ),
      log,
    );
  }
  log.debug(`command ended with ${code}`);
  return code;
}

const SIGCONT = SIGNAL_NUMBERS["SIGCONT"]!;
/** Stops for touching the terminal from the background. */
const BACKGROUND_STOPS: ReadonlySet<number> = new Set(
  ["SIGTTIN", "SIGTTOU"].map((s) => SIGNAL_NUMBERS[s]!),
);

/**
 * Job control on a terminal. When the command (process group `pgid`) stops
 * while it has the terminal (Ctrl-Z, or a program such as `top` that stops
 * itself with SIGSTOP for it), or on touching the terminal from the
 * background, the supervisor takes the terminal back and stops too, so the
 * shell above sees its job stopped; once continued it hands the terminal on
 * when it has it (`fg`) and continues the command (`bg` too). As PID 1 nothing
 * above can continue the supervisor, and Ctrl-Z does nothing to a command
 * that is PID 1 itself: the command is continued at once. Any other stop (a
 * SIGSTOP from elsewhere, no terminal) is left to whoever sent it. Returns
 * whether the command goes on in the background (`bg`).
 */
function followStop(pgid: number, signal: number, log: Logger): boolean {
  const tty = terminalForeground();
  if (tty === null) return false;
  const held = tty === pgid;
  if (!held && !BACKGROUND_STOPS.has(signal)) return false;
  if (Deno.pid === 1) {
    if (!held && !giveTerminal(pgid)) {
      log.warn(
        `the command stopped on signal ${signal} and cannot have the terminal: left stopped`,
      );
      return false;
    }
    kill(-pgid, SIGCONT);
    return false;
  }
  if (!held && tty === ownGroup()) {
    // `fg` gave us the terminal a moment ago and the command touched it first: hand it on.
    handOn(pgid);
    kill(-pgid, SIGCONT);
    return false;
  }
  log.debug(`the command stopped on signal ${signal}: stopping with it`);
  if (held) giveTerminal(ownGroup());
  stopSelf(); // returns once continued (at once when the kernel discards the stop)
  const foreground = handOn(pgid);
  kill(-pgid, SIGCONT);
  return !foreground;
}

/** Gives the command's group the terminal when the supervisor has it (continued by `fg`); whether it did. */
function handOn(pgid: number): boolean {
  const tty = terminalForeground();
  return tty !== null && tty === ownGroup() && giveTerminal(pgid);
}

type SparkStep = Extract<Step, { step: "spark-cluster" }>;

async function resolveOrFail(host: string): Promise<string> {
  const addr = await resolveHost(host);
  if (addr === null) throw new HostWaitError(`Spark: host ${host} does not resolve`);
  return addr;
}

/**
 * How long a connection attempt to the master may take: one that nothing
 * answers (a security group that drops the traffic between the job's
 * instances) would otherwise last the kernel's SYN retries, about two
 * minutes, in which neither a SIGTERM nor the worker's own deadline is seen.
 * Long enough for two of those retries (after 1 and 3 s): a busy master that
 * drops a SYN is not taken for gone.
 */
const CONNECT_MS = 5000;

async function portOpen(host: string, port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({
      hostname: host,
      port,
      signal: AbortSignal.timeout(CONNECT_MS),
    });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Runs one of Spark's sbin scripts and waits for it (they daemonize the JVM and return). */
async function sbin(
  step: SparkStep,
  script: string,
  args: readonly string[],
  env: Record<string, string>,
  log: Logger,
) {
  const path = `${step.sparkHome}/sbin/${script}`;
  log.info(`spark: ${script} ${args.join(" ")}`);
  const { exit } = await runToEnd(
    path,
    [path, ...args],
    env,
    (why, code) => new CommandError(`Spark script ${path} could not start: ${why}`, code),
  );
  const code = exitCode(exit);
  if (code !== 0) throw new ChameleonError(`Spark script ${path} failed: ${exitWords(exit)}`, code);
}

interface MasterState {
  readonly workers?: readonly { readonly host?: string; readonly state?: string }[];
}

/** A signal that ended the cluster phase before the command ran: the cluster is stopped, then 128 + n. */
class Stopped extends Error {
  constructor(readonly signal: number) {
    super(`stopped by signal ${signal}`);
  }
}

/** The most of a status page {@linkcode getDirect} reads. */
const MAX_PAGE_BYTES = 4 << 20;

/**
 * The body of an HTTP/1.0 GET of `path` from `hostname:port`, straight over
 * TCP, within `ms`; throws on anything but status 200. Not fetch(): that goes
 * through HTTP_PROXY, and the cluster's own status page is never behind the
 * platform's proxy (which would also learn the cluster's host names).
 */
export async function getDirect(
  hostname: string,
  port: number,
  path: string,
  ms: number,
): Promise<string> {
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new Error(`no answer within ${ms / 1000} s`)),
    ms,
  );
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await Deno.connect({ hostname, port, signal: deadline.signal });
    deadline.signal.throwIfAborted();
    // Closing the connection ends a read or write that waits on it.
    const open = conn;
    deadline.signal.addEventListener("abort", () => open.close(), { once: true });
    const request =
      `GET ${path} HTTP/1.0\r\nHost: ${hostname}:${port}\r\nAccept: application/json\r\n\r\n`;
    for (let rest = new TextEncoder().encode(request); rest.length > 0;) {
      rest = rest.subarray(await conn.write(rest));
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const buf = new Uint8Array(64 * 1024);
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.subarray(0, n));
      size += n;
      if (size > MAX_PAGE_BYTES) throw new Error(`an answer over ${MAX_PAGE_BYTES} bytes`);
    }
    const text = new TextDecoder().decode(concatBytes(chunks, size));
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
    const end = /\r?\n\r?\n/.exec(text);
    if (status !== "200" || end === null) throw new Error(`status ${status ?? "unreadable"}`);
    return text.slice(end.index + end[0].length);
  } catch (e) {
    throw deadline.signal.aborted ? deadline.signal.reason : e;
  } finally {
    clearTimeout(timer);
    if (!deadline.signal.aborted) conn?.close();
  }
}

/**
 * Reaps the orphans that ended, then waits `ms`: the pauses of the cluster
 * phase, in which no script of ours runs. As PID 1 (an entrypoint that
 * replaces tini, as SageMaker's `ContainerEntrypoint` can) the daemonized
 * Spark JVMs are our children, and so is whatever outlives its parent under
 * them; a worker host waits in these pauses for the whole job, and its zombies
 * would pile up until it ends (reference/platforms.md 0.2: PID 1 reaps).
 */
async function waitReaping(ms: number): Promise<void> {
  reapEnded();
  await sleep(ms);
}

/** Throws {@linkcode Stopped} once a signal came. */
type StopCheck = () => void;

/**
 * Polls the master's JSON status page until ALIVE workers stand at as many
 * distinct addresses as there are hosts (a host may run two); exit 69 naming
 * the hosts not seen. Workers register by the address they resolve their own
 * name to, which need not be the one the primary resolves it to: the count
 * decides, the names are for the message.
 */
async function waitForWorkers(
  step: SparkStep,
  master: string,
  addresses: ReadonlyMap<string, string>,
  log: Logger,
  stopped: StopCheck,
) {
  const deadline = Date.now() + step.timeoutSeconds * 1000;
  let alive: string[] = [];
  let lastLog = Date.now();
  // Why the last poll saw no status page (the master still starting, or something else answering).
  let problem = "";
  for (;;) {
    stopped();
    try {
      const state = JSON.parse(
        await getDirect(master, step.webUiPort, "/json/", 2000),
      ) as MasterState;
      alive = (state.workers ?? []).filter((w) => w.state === "ALIVE").map((w) => w.host ?? "");
      problem = "";
    } catch (e) {
      const now = `http://${master}:${step.webUiPort}/json/: ${(e as Error).message}`;
      if (now !== problem) log.debug(now);
      problem = now;
    }
    // Distinct addresses: one host running two workers (SPARK_WORKER_INSTANCES) is still one host.
    const seen = new Set(alive);
    if (seen.size >= step.hosts.length) return;
    const missing = step.hosts.filter((h) => !seen.has(addresses.get(h) ?? h) && !seen.has(h));
    const named = missing.length > 0 ? missing.join(", ") : "(each address is known)";
    if (Date.now() >= deadline) {
      throw new HostWaitError(
        `Spark: ${seen.size} of ${step.hosts.length} hosts have a worker registered within ${step.timeoutSeconds} s; missing: ${named}` +
          (problem === "" ? "" : ` (last poll: ${problem})`),
      );
    }
    if (Date.now() - lastLog >= 10_000) {
      log.info(
        `spark: ${seen.size} of ${step.hosts.length} hosts have a worker registered; waiting for ${named}`,
      );
      lastLog = Date.now();
    }
    await waitReaping(500);
  }
}

/**
 * A standalone Spark cluster across a SageMaker job's hosts: the primary
 * starts a master and a worker, waits for every worker, runs the command and
 * stops the cluster; every other host starts a worker and exits 0 once the
 * master is gone (every container must exit for the job to end). A signal
 * before the command runs (SageMaker stops a job with SIGTERM) stops what
 * was started and ends with 128 + n; during the command, the command gets it.
 */
export async function sparkCluster(
  step: SparkStep,
  plan: Plan,
  spec: ExecSpec,
  log: Logger,
): Promise<number> {
  let signal = 0;
  onSignal((s) => {
    signal ||= SIGNAL_NUMBERS[s]!;
    log.info(`spark: ${s}: stopping the cluster`);
  });
  const stopped: StopCheck = () => {
    if (signal !== 0) throw new Stopped(signal);
  };
  const env: Record<string, string> = { ...spec.env };
  delete env["SPARK_NO_DAEMONIZE"]; // the scripts must return once the JVM is up
  try {
    return step.role === "primary"
      ? await primary(step, plan, spec, env, log, stopped)
      : await worker(step, plan, env, log, stopped);
  } catch (e) {
    if (e instanceof Stopped) return 128 + e.signal;
    throw e;
  }
}

/** Every host's address, and this host's and the master's among them. */
async function resolveAll(step: SparkStep, stopped: StopCheck) {
  const addresses = new Map<string, string>();
  for (const h of step.hosts) {
    addresses.set(h, await resolveOrFail(h));
    stopped();
  }
  return {
    addresses,
    self: addresses.get(step.currentHost)!,
    master: addresses.get(step.master)!,
  };
}

function workerArgs(step: SparkStep, master: string, self: string): string[] {
  return [
    `spark://${master}:${step.masterPort}`,
    "--host",
    self,
    "--cores",
    String(step.workerCores),
    ...(step.workerMemory ? ["--memory", step.workerMemory] : []),
  ];
}

async function primary(
  step: SparkStep,
  plan: Plan,
  spec: ExecSpec,
  env: Record<string, string>,
  log: Logger,
  stopped: StopCheck,
): Promise<number> {
  const { addresses, self, master } = await resolveAll(step, stopped);
  try {
    await sbin(
      step,
      "start-master.sh",
      ["--host", self, "--port", String(step.masterPort), "--webui-port", String(step.webUiPort)],
      env,
      log,
    );
    stopped();
    await sbin(step, "start-worker.sh", workerArgs(step, master, self), env, log);
    await waitForWorkers(step, master, addresses, log, stopped);
    log.info(`spark: each of the ${step.hosts.length} hosts has a worker registered`);
    stopped();
    return await supervise(plan, spec, log);
  } finally {
    await sbin(step, "stop-worker.sh", [], env, log).catch((e) => log.warn(e.message));
    await sbin(step, "stop-master.sh", [], env, log).catch((e) => log.warn(e.message));
  }
}

async function worker(
  step: SparkStep,
  plan: Plan,
  env: Record<string, string>,
  log: Logger,
  stopped: StopCheck,
): Promise<number> {
  const { self, master } = await resolveAll(step, stopped);
  // The primary may still be waiting for every host to resolve before it starts the master.
  const hostWait = plan.steps.find((s) => s.step === "wait-for-hosts")?.timeoutSeconds ?? 0;
  const patience = hostWait + step.timeoutSeconds;
  const deadline = Date.now() + patience * 1000;
  while (!(await portOpen(master, step.masterPort))) {
    stopped();
    if (Date.now() >= deadline) {
      throw new HostWaitError(
        `Spark: the master ${step.master} (${master}:${step.masterPort}) never came up within ${patience} s`,
      );
    }
    await waitReaping(500);
  }
  stopped();
  try {
    await sbin(step, "start-worker.sh", workerArgs(step, master, self), env, log);
    log.info(`spark: worker of ${step.master} running; waiting for the master to finish`);
    // Three misses in a row, a second apart: one failed connection is no reason to leave the job.
    for (let misses = 0; misses < 3;) {
      stopped();
      await waitReaping(1000);
      misses = (await portOpen(master, step.masterPort)) ? 0 : misses + 1;
    }
    log.info("spark: the master is gone; stopping the worker");
  } finally {
    await sbin(step, "stop-worker.sh", [], env, log).catch((e) => log.warn(e.message));
  }
  return 0;
}
