/**
 * settleSignals against real signals, in a real process pinned to one CPU (a
 * container with a cpuset of one): Deno's signal thread then has to wait for
 * the main thread, which is when a signal used to be lost at execve.
 */
import { deepEqual, ok } from "@std/assert";
import { entrypointArgv, oneCpu, tempDir } from "../tests/helpers.ts";
import { FORWARDED, MARKER_SIGNALS, SIGNAL_NUMBERS } from "./signals.ts";

Deno.test("settleSignals' markers: both above every forwarded signal, the second below the first", () => {
  const [first, second] = MARKER_SIGNALS.map((s) => SIGNAL_NUMBERS[s]!);
  const forwarded = Math.max(...FORWARDED.map((s) => SIGNAL_NUMBERS[s]!));
  ok(second! > forwarded, `${MARKER_SIGNALS[1]} (${second}) must be above ${forwarded}`);
  ok(
    second! < first!,
    `${MARKER_SIGNALS[1]} (${second}) must be below ${MARKER_SIGNALS[0]} (${first})`,
  );
});

Deno.test("settleSignals: every signal Deno took before it has run its listener when it returns, on a busy CPU", async () => {
  using tmp = tempDir();
  const script = `${tmp.path}/settle.ts`;
  const here = (name: string) => JSON.stringify(new URL(name, import.meta.url).href);
  // Each round: the main thread sends itself SIGTERM, settles, and counts a loss when the
  // listener has not run by then (then waits for it, so the next round starts clean).
  // tgkill, not kill: the handler then runs before the call returns, which is the case
  // settleSignals promises (see its note on a signal another thread takes). A busy loop
  // shares the CPU, so that Deno's signal thread is often stopped in the middle of a sweep.
  Deno.writeTextFileSync(
    script,
    `import { onSignal, settleSignals } from ${here("./signals.ts")};
import { sys } from ${here("./libc.ts")};
const TGKILL = Deno.build.arch === "aarch64" ? 131 : 234;
let seen = 0;
onSignal(() => seen++);
let lost = 0;
const rounds = 20_000;
for (let i = 0; i < rounds; i++) {
  const before = seen;
  sys(TGKILL, Deno.pid, Deno.pid, 15);
  await settleSignals();
  if (seen === before) {
    lost++;
    while (seen === before) await new Promise((r) => setTimeout(r, 5));
  }
}
console.log(JSON.stringify({ rounds, lost, seen }));
`,
  );
  const [cpu, ...cpuArgs] = oneCpu();
  const busy = new Deno.Command(cpu!, { args: [...cpuArgs, "sh", "-c", "while :; do :; done"] })
    .spawn();
  try {
    const out = await new Deno.Command(cpu!, {
      args: [...cpuArgs, ...entrypointArgv(script)],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const result = JSON.parse(new TextDecoder().decode(out.stdout));
    deepEqual(result, { rounds: 20_000, lost: 0, seen: 20_000 });
  } finally {
    busy.kill("SIGKILL");
    await busy.status;
  }
});
