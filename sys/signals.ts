/**
 * Signal listeners, registered at import time on purpose: Deno as PID 1
 * crashes on SIGTERM/SIGINT unless a listener exists, so `main.ts` imports
 * this module first. Until the supervisor takes over, a signal ends the start
 * with 128 + n (nothing has been started yet, and apply writes atomically).
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
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGTERM: 15,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTTIN: 21,
  SIGTTOU: 22,
};

let handler: (s: ForwardedSignal) => void = (s) => Deno.exit(128 + SIGNAL_NUMBERS[s]!);

for (const s of FORWARDED) Deno.addSignalListener(s, () => handler(s));

/** Replaces what happens when a forwarded signal arrives. */
export function onSignal(h: (s: ForwardedSignal) => void): void {
  handler = h;
}
