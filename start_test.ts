import { deepEqual } from "@std/assert";
import { argvAsShown } from "./start.ts";

/** argvAsShown() as it was, each tail of argv compared again: the oracle. */
function shownAsBefore(
  argv: readonly string[],
  command: readonly string[],
  shown: readonly string[],
): readonly string[] {
  let n = Math.min(argv.length, command.length);
  while (n > 0 && argv.slice(-n).some((w, i) => w !== command[command.length - n + i])) n--;
  return [...argv.slice(0, argv.length - n), ...shown.slice(shown.length - n)];
}

Deno.test("argvAsShown() shows the words argv and the command end in alike as the display has them (4,000 random argvs)", () => {
  let x = 17;
  const next = (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) % n;
  const words = (n: number) =>
    Array.from({ length: n }, () => ["a", "b", "--token", "c"][next(4)]!);
  for (let k = 0; k < 4000; k++) {
    const argv = words(next(7));
    const command = [...words(next(3)), ...argv.slice(next(argv.length + 1))];
    if (next(2) === 0 && command.length > 0) command[next(command.length)] = "z";
    const shown = command.map((w) => w === "c" ? "<redacted>" : w);
    deepEqual(
      argvAsShown(argv, { command, commandDisplay: shown }),
      shownAsBefore(argv, command, shown),
      JSON.stringify({ argv, command }),
    );
  }
  // 20,000 words whose tail differs from the command's at the last word.
  const argv = Array.from({ length: 20_000 }, (_, i) => `w${i}`);
  const command = ["python", ...argv.slice(0, -1), "other"];
  const shown = command.map((w) => w === "w5" ? "<redacted>" : w);
  deepEqual(argvAsShown(argv, { command, commandDisplay: shown }), argv);
  const same = ["python", ...argv];
  deepEqual(
    argvAsShown(argv, { command: same, commandDisplay: same.map((w) => w === "w5" ? "*" : w) }),
    argv.map((w) => w === "w5" ? "*" : w),
  );
});
