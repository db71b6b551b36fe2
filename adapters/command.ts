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
import { isSecretFlag, redactArgs, REDACTED, secretForms, secretsInArgs } from "../secrets.ts";
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

/** A word of a shell script: its text once unquoted, and where it stands in the script. */
interface ShellWord {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/**
 * The words of a shell script, as far as hiding flag values needs: blanks,
 * newlines and the operators `; & | < > ( )` separate words; single quotes keep
 * everything; double quotes and a bare backslash escape what follows; `#` at a
 * word's start comments out the rest of the line.
 */
export function shellWords(script: string): ShellWord[] {
  const out: ShellWord[] = [];
  let i = 0;
  while (i < script.length) {
    const c = script[i]!;
    if (/[\s;&|<>()]/.test(c)) {
      i++;
      continue;
    }
    if (c === "#") {
      while (i < script.length && script[i] !== "\n") i++;
      continue;
    }
    const start = i;
    let text = "";
    while (i < script.length && !/[\s;&|<>()]/.test(script[i]!)) {
      const d = script[i]!;
      if (d === "'") {
        const close = script.indexOf("'", i + 1);
        const stop = close < 0 ? script.length : close;
        text += script.slice(i + 1, stop);
        i = stop + 1;
      } else if (d === '"') {
        for (i++; i < script.length && script[i] !== '"'; i++) {
          if (script[i] === "\\" && i + 1 < script.length) i++;
          text += script[i];
        }
        i++;
      } else if (d === "\\" && i + 1 < script.length) {
        text += script[i + 1];
        i += 2;
      } else {
        text += d;
        i++;
      }
    }
    out.push({ text, start, end: Math.min(i, script.length) });
  }
  return out;
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
  // A YAML block script ends in a newline: "$@" must stay on its last line.
  const script = spec.argv.join(" ").trimEnd();
  const command = ["/bin/sh", "-c", `${script} "$@"`, spec.argv[0]!, ...extra];
  // A script is often one string: its flags are looked for among the script's own
  // words, so `--token X` inside it is hidden as in the argv form. The shown script
  // is the script with those words replaced where they stand; the command runs as written.
  const words = shellWords(script);
  const shown = shownWords([...words.map((w) => w.text), ...extra]);
  if (shown === undefined) return { command, cwd, shell: true };
  const hide = (text: string) => {
    let out = text;
    for (let i = words.length - 1; i >= 0; i--) {
      const w = words[i]!;
      if (shown.words[i] === w.text || w.start >= text.length) continue;
      // A replaced word that runs past this text ($0 is the script's first part): hide it all.
      if (w.end > text.length) return REDACTED;
      out = out.slice(0, w.start) + shown.words[i] + out.slice(w.end);
    }
    return out;
  };
  return {
    command,
    display: [
      "/bin/sh",
      "-c",
      `${hide(script)} "$@"`,
      hide(spec.argv[0]!),
      ...shown.words.slice(words.length),
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
