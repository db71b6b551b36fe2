/**
 * Which command runs, with which working directory (design section 3): a workload
 * word selects the configured default command (or an executable of that name
 * on PATH, SageMaker's convention); a first argument starting with `-` is
 * appended to the default command; anything else is the command itself.
 *
 * @module
 */

import { WORKLOAD_WORDS } from "../contexts/mod.ts";
import type { CommandSpec } from "../config.ts";
import type { PathDecl } from "../paths.ts";
import { isSecretFlag, redactArgs, secretForms, secretsInArgs } from "../secrets.ts";
import type { World } from "../world.ts";
import type { Adapter, CommandPart, PlanInput } from "./_adapter.ts";
import { onPath, pathDirs } from "./_path.ts";
import { scriptModeCommand } from "./sagemaker.ts";

/**
 * The user's own words (argv, a configured argv) as `--explain` and the logs
 * show them, when a secret is among them: the value of a secret-named flag
 * (`--token X`, `--token=X`) is hidden in its word, and secret-named fields of
 * JSON in a word are hidden and, being values of named keys, scrubbed from
 * logs. Undefined when nothing is secret.
 */
function shownWords(words: readonly string[]): { words: string[]; secrets: string[] } | undefined {
  const inner = secretsInArgs(words);
  if (inner.size === 0 && !words.some(isSecretFlag)) return undefined;
  return { words: redactArgs(words, secretForms(inner)), secrets: [...inner] };
}

/** The command of the user's words, with how it is shown when some are secret. */
function wordsCommand(
  words: readonly string[],
  build: (words: readonly string[]) => readonly string[],
): Pick<CommandPart, "command" | "display" | "secrets"> {
  const shown = shownWords(words);
  const command = build(words);
  if (shown === undefined) return { command };
  return { command, display: build(shown.words), secrets: shown.secrets };
}

/**
 * A configured command plus extra arguments. With `shell: true` the argv is
 * joined into a script for /bin/sh, and the extra arguments arrive as "$@".
 */
function specCommand(spec: CommandSpec, extra: readonly string[]): CommandPart {
  const cwd = spec.cwd ?? null;
  // Redacted as one list: a configured flag's value may be the first extra argument.
  if (!spec.shell) {
    return { ...wordsCommand([...spec.argv, ...extra], (w) => [...w]), cwd, shell: false };
  }
  const script = spec.argv.join(" ");
  const command = ["/bin/sh", "-c", `${script} "$@"`, spec.argv[0]!, ...extra];
  // A script is often one string: its flags are looked for among its blank-separated
  // words, so `--token X` inside it is hidden as in the argv form. Only the display
  // is rebuilt from those words; the command runs as written.
  const blanks = (w: string) => w.split(/\s+/).filter((x) => x !== "");
  const words = spec.argv.flatMap(blanks);
  const shown = shownWords([...words, ...extra]);
  if (shown === undefined) return { command, cwd, shell: true };
  const s = shown.words;
  const n = words.length;
  return {
    command,
    display: [
      "/bin/sh",
      "-c",
      `${s.slice(0, n).join(" ")} "$@"`,
      s.slice(0, blanks(spec.argv[0]!).length).join(" "),
      ...s.slice(n),
    ],
    secrets: shown.secrets,
    cwd,
    shell: true,
  };
}

/** Script mode with extra arguments, those shown redacted when secret. */
function scriptCommand(input: PlanInput, extra: readonly string[]): CommandPart | undefined {
  const part = scriptModeCommand(input, extra);
  const shown = shownWords(extra);
  if (part === undefined || part.command === null || shown === undefined) return part;
  const base = part.display ?? part.command;
  return {
    ...part,
    display: [...base.slice(0, base.length - extra.length), ...shown.words],
    secrets: shown.secrets,
  };
}

function configKey(workload: string): string {
  return `commands.${workload}`;
}

/** Decides the command. */
export function decideCommand(input: PlanInput): CommandPart {
  const { world, detection, settings } = input;
  const args = world.snapshot.argv;
  const workload = detection.context.workload;
  const spec = settings.commands[workload];
  const first = args[0];
  // The first argument as messages may quote it.
  const quoted = JSON.stringify(shownWords(args)?.words[0] ?? first);
  const none = (why: string): CommandPart => ({
    command: null,
    cwd: null,
    shell: false,
    missing: why,
  });

  if (first === undefined) {
    if (spec !== undefined) return specCommand(spec, []);
    return scriptCommand(input, []) ??
      none(
        `no command given and no default command for workload ${workload}: set ${
          configKey(workload)
        } in the image config`,
      );
  }
  if (Object.hasOwn(WORKLOAD_WORDS, first)) {
    const rest = args.slice(1);
    const wordWorkload = WORKLOAD_WORDS[first]!;
    const wordSpec = settings.commands[wordWorkload];
    if (wordSpec !== undefined) return specCommand(wordSpec, rest);
    if (onPath(world, first) !== undefined) {
      return { ...wordsCommand(args, (w) => [...w]), cwd: null, shell: false };
    }
    return scriptCommand(input, rest) ??
      none(
        `${quoted} has no default command and no executable ${first} is on PATH: set ${
          configKey(wordWorkload)
        } in the image config`,
      );
  }
  if (first.startsWith("-")) {
    if (spec !== undefined) return specCommand(spec, args);
    return none(
      `arguments ${quoted}... need a default command for workload ${workload}: set ${
        configKey(workload)
      } in the image config`,
    );
  }
  return { ...wordsCommand(args, (w) => [...w]), cwd: null, shell: false };
}

/** The command adapter. */
export const command: Adapter = {
  name: "command",
  dynamicPaths(world: World): PathDecl[] {
    const first = world.snapshot.argv[0];
    if (first === undefined || !Object.hasOwn(WORKLOAD_WORDS, first)) return [];
    return pathDirs(world).map((d) => ({ kind: "stat" as const, path: `${d}/${first}` }));
  },
  plan(input) {
    // Words from hyperparameters are shown redacted by the SageMaker adapter;
    // the user's own words, where they come in, by the functions above.
    const part = decideCommand(input);
    return { command: part, ...(part.secrets === undefined ? {} : { secrets: part.secrets }) };
  },
};
