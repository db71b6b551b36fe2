/**
 * Signal listeners, registered at import time on purpose: Deno as PID 1
 * crashes on SIGTERM/SIGINT unless a listener exists, so `main.ts` imports
 * this module first. Until the supervisor takes over, a signal ends the start
 * with 128 + n (apply writes atomically; a hook that runs gets the signal first
 * and the start ends once it is gone).
 *
 * @module
 */

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
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
};

let handler: (s: ForwardedSignal) => void = (s) => Deno.exit(128 + SIGNAL_NUMBERS[s]!);

for (const s of FORWARDED) Deno.addSignalListener(s, () => handler(s));

let warmed: Promise<void> | undefined;

/**
 * Starts the first async call of the process early: it starts Deno's pool of
 * blocking threads, which costs a few milliseconds here. Called when a real
 * start begins, so the pool is ready by {@linkcode settleSignals}; `--explain`
 * never needs it.
 */
export function warmUpSignals(): void {
  warmed ??= asyncTurn();
}

/** One quick async call (its result does not matter, not even a refusal): a turn of the event loop. */
function asyncTurn(): Promise<void> {
  return Deno.lstat("/").then(() => undefined, () => undefined);
}

/**
 * Gives the listeners of signals that already arrived their turn. Deno runs a
 * listener only on a turn of its event loop, and a start reaches execve
 * through synchronous work and settled promises: a SIGTERM taken by Deno's
 * handler meanwhile would be lost with the process image, and the program
 * would run on until the platform's SIGKILL. The exec stage calls it first,
 * then resets the signals to their defaults at once.
 */
export async function settleSignals(): Promise<void> {
  warmUpSignals();
  await warmed;
  // Two turns: in the first the signal's op completes, in the second its listener has run
  // (measured: with one, a signal that came long before was still lost at execve).
  // (A zero timer would do too, but takes about 2 ms here against 25 us.)
  for (let turn = 0; turn < 2; turn++) await asyncTurn();
}

/** Replaces what happens when a forwarded signal arrives; returns what happened before. */
export function onSignal(h: (s: ForwardedSignal) => void): (s: ForwardedSignal) => void {
  const before = handler;
  handler = h;
  return before;
}
