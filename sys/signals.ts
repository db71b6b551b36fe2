/**
 * Signal listeners, registered at import time on purpose: Deno as PID 1
 * crashes on SIGTERM/SIGINT unless a listener exists, so `main.ts` imports
 * this module first. Until the supervisor takes over, a signal ends the start
 * with 128 + n (apply writes atomically; a hook that runs gets the signal first
 * and the start ends once it is gone).
 *
 * @module
 */

import { SYS, sys } from "./libc.ts";

/** Signals forwarded to the command's process group (issue: running). */
export const FORWARDED = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;

/** A forwarded signal name. */
export type ForwardedSignal = typeof FORWARDED[number];

/** Linux signal numbers (x86_64 and aarch64 share these). */
export const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  // Also named so that a program they end is named so (a CPU or file size limit, a seccomp kill).
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

let handler: (s: ForwardedSignal) => void = (s) => Deno.exit(128 + SIGNAL_NUMBERS[s]!);

for (const s of FORWARDED) Deno.addSignalListener(s, () => handler(s));

/**
 * The two signals {@linkcode settleSignals} sends the process itself, in this
 * order: both are ignored by default, numbered above every forwarded signal,
 * and the second below the first (see there why). The kernel sends SIGURG on
 * its own only to the owner of a socket with out-of-band data, which the
 * entrypoint never sets up; a terminal sends SIGWINCH on a resize, which only
 * ends the first round early, and that round needs no particular moment.
 */
export const MARKER_SIGNALS = ["SIGWINCH", "SIGURG"] as const;

/** Sends this process `marker` and resolves once its listener has run. */
function markerRound(marker: typeof MARKER_SIGNALS[number]): Promise<void> {
  return new Promise((resolve) => {
    const seen = () => {
      Deno.removeSignalListener(marker, seen);
      resolve();
    };
    Deno.addSignalListener(marker, seen);
    // The system call itself: the libc symbols already bound (binding more takes about 3 ms).
    sys(SYS.kill, Deno.pid, SIGNAL_NUMBERS[marker]!);
  });
}

/** Both marker rounds, in order, then a third that only makes one more turn of the event loop. */
async function markerRounds(): Promise<void> {
  for (const marker of [...MARKER_SIGNALS, MARKER_SIGNALS[0]]) await markerRound(marker);
}

/** Where Deno starts its inspector on SIGUSR1 (see {@linkcode holdInspectorAddress}). */
export const INSPECTOR_ADDRESS = { hostname: "127.0.0.1", port: 9229 } as const;

let inspectorHold: Deno.Listener | undefined;
let inspectorRetry: ReturnType<typeof setInterval> | undefined;

/** How often a start whose hold failed tries again (the window Deno's inspector has once the address frees). */
export const INSPECTOR_RETRY_MS = 250;

function tryHold(): string | undefined {
  try {
    inspectorHold = Deno.listen(INSPECTOR_ADDRESS);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Keeps Deno's SIGUSR1 inspector from starting, for the rest of this process.
 * Deno (2.9.2 on, denoland/deno#35738) starts a V8 inspector on
 * {@linkcode INSPECTOR_ADDRESS} when a process that has run for 500 ms gets
 * SIGUSR1, a listener of its own or not, and has no switch to turn that off.
 * An inspector runs any code with the entrypoint's permissions, as root, for
 * whatever can reach the loopback: the command after its privilege drop, a
 * sidecar. A real start lives that long (a supervisor, a wait for hosts) and
 * forwards SIGUSR1, so it holds the address itself: Deno's attempt then fails
 * with one line on stderr ("Failed to start inspector server"). The listener
 * is never accepted on and closes at execve. When the address is taken (by
 * another process in a shared network namespace, which stops Deno's attempt
 * while it lasts) the start tries again every {@linkcode INSPECTOR_RETRY_MS}
 * until it holds it, and returns why it does not yet.
 */
export function holdInspectorAddress(): string | undefined {
  if (inspectorHold !== undefined || inspectorRetry !== undefined) return undefined;
  const why = tryHold();
  if (why === undefined) return undefined;
  inspectorRetry = setInterval(() => {
    if (tryHold() !== undefined) return;
    clearInterval(inspectorRetry);
  }, INSPECTOR_RETRY_MS);
  // The retry must not keep a process alive that has nothing else to do.
  Deno.unrefTimer(inspectorRetry);
  return `${INSPECTOR_ADDRESS.hostname}:${INSPECTOR_ADDRESS.port} not held (${why}); ` +
    `trying again every ${INSPECTOR_RETRY_MS} ms`;
}

let warmed: Promise<void> | undefined;

/**
 * Runs the marker rounds once early, while a real start does its work: the
 * first ones cost about a millisecond more than later ones (measured in the
 * bundle), and the exec stage then waits only for quick ones.
 */
export function warmUpSignals(): void {
  warmed ??= markerRounds();
}

/**
 * Gives the listeners of signals that already arrived their turn, so that a
 * SIGTERM taken by Deno's handler is not lost with the process image at
 * execve (the program would run on until the platform's SIGKILL). The caller
 * resets the forwarded signals to their defaults first, so none is taken after
 * this starts; afterwards the caller resets the {@linkcode MARKER_SIGNALS} too.
 *
 * Deno's handler only notes the signal in a slot per signal number and wakes a
 * thread of its own, which sweeps the slots upwards from the lowest and hands
 * each signal it finds to the event loop. Counting turns of the loop is not
 * enough, as that thread may not have run yet (measured on one CPU: 1,133 of
 * 2,000 signals lost after two turns). A marker goes the same way, so its
 * listener running shows the thread has handed over what its sweep passed
 * before the marker. One marker is not enough either: the thread may be in
 * the middle of a sweep that began before the SIGTERM came and has passed its
 * slot; that sweep finds a marker numbered above it first (measured on a busy
 * CPU with the same marker each round: 1 signal in 2,000 to 10,000 still
 * unseen, with two, three or four rounds alike; with the two below, none of
 * 120,000). So the first marker leaves the sweep past its own number, and the
 * second, numbered lower, can only be found by a sweep that begins after the
 * first was handed over, which is after the SIGTERM was noted, and meets every
 * forwarded signal (all numbered lower) first. The third round makes one more
 * turn of the event loop, in which the listeners of signals handed over just
 * before the second marker have run. (A signal that another thread of Deno
 * took just before the reset, and whose handler that thread has not yet run
 * to its end, is out of reach of any check: the window is the handler's few
 * instructions.)
 */
export async function settleSignals(): Promise<void> {
  // A warm-up round still under way could take this call's marker as its own.
  await warmed;
  await markerRounds();
}

/** Replaces what happens when a forwarded signal arrives; returns what happened before. */
export function onSignal(h: (s: ForwardedSignal) => void): (s: ForwardedSignal) => void {
  const before = handler;
  handler = h;
  return before;
}
