/**
 * Which command runs, with which working directory (design section 3): a workload
 * word selects the configured default command (or an executable of that name
 * on PATH, SageMaker's convention); a first argument starting with `-` is
 * appended to the default command; anything else is the command itself. A
 * pod Spark started as `executor` or `driver` runs what Spark's entrypoint
 * script would (adapters/spark_pod.ts).
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
import { isTraining, scriptModeCommand, scriptProgram } from "./sagemaker.ts";
import { sparkPodCommand, sparkPodRole } from "./spark_pod.ts";

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
 * word's start comments out the rest of the line. Where the operators stand
 * (outside quotes and comments) goes into `operators` when it is given.
 */
export function shellWords(script: string, operators?: number[]): ShellWord[] {
  const out: ShellWord[] = [];
  let i = 0;
  while (i < script.length) {
    const c = script[i]!;
    if (/[\s;&|<>()]/.test(c)) {
      if (operators !== undefined && !/\s/.test(c)) operators.push(i);
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
  const script = spec.argv.join(" ");
  const operators: number[] = [];
  const words = shellWords(script, operators);
  // "$@" goes right after the script's last word: after a block's final newline it would
  // run alone, after a trailing comment it would be commented out.
  const at = words.at(-1)?.end ?? script.trimEnd().length;
  const body = `${script.slice(0, at)}${ARGS}${script.slice(at)}`;
  // $0 names the shell in its own messages ("sh: 1: uvicornx: not found"), as in the usual
  // `sh -c SCRIPT sh ARGS...`; a word of the script there would read `exec: 1: exec: ...`.
  const command = ["/bin/sh", "-c", body, "sh", ...extra];
  // A script is often one string: its flags are looked for among its own words, twice: as
  // sh reads them (a quoted value with blanks is one word) and as blank-separated text,
  // which also sees inside a nested quoted script (`sh -c '... --token X'`) and comments;
  // those words end too at an operator sh sees as one, so that hiding `X;` keeps the ";",
  // while a ";" inside quotes or a comment stays part of the word it is in. The shown script
  // has the hidden words replaced where they stand; the command runs as written.
  const blankWords = blankSeparated(script, new Set(operators));
  const spans: ShellWord[] = [];
  const secrets = new Set<string>();
  const extraShown = [...extra];
  let hidden = false;
  for (const list of [words, blankWords]) {
    const shown = shownWords([...list.map((w) => w.text), ...extra]);
    if (shown === undefined) continue;
    hidden = true;
    for (const x of shown.secrets) secrets.add(x);
    list.forEach((w, i) => {
      if (shown.words[i] !== w.text) spans.push({ ...w, text: shown.words[i]! });
    });
    shown.words.slice(list.length).forEach((w, i) => {
      if (w !== extra[i]) extraShown[i] = w;
    });
  }
  if (!hidden) return { command, cwd, shell: true };
  let shownBody = body;
  for (const w of coveringSpans(spans).reverse()) {
    // Past the inserted "$@", positions move by its length (a word around it takes it in).
    const start = w.start >= at ? w.start + ARGS.length : w.start;
    const end = w.end > at ? w.end + ARGS.length : w.end;
    shownBody = shownBody.slice(0, start) + w.text + shownBody.slice(end);
  }
  return {
    command,
    display: ["/bin/sh", "-c", shownBody, "sh", ...extraShown],
    secrets: [...secrets],
    cwd,
    shell: true,
  };
}

/** The runs of a script between blanks and the operator positions given. */
function blankSeparated(script: string, operators: ReadonlySet<number>): ShellWord[] {
  const out: ShellWord[] = [];
  for (const m of script.matchAll(/\S+/g)) {
    let start = m.index!;
    const end = start + m[0].length;
    for (let i = start; i <= end; i++) {
      if (i < end && !operators.has(i)) continue;
      if (i > start) out.push({ text: script.slice(start, i), start, end: i });
      start = i + 1;
    }
  }
  return out;
}

/** What a shell command appends for its extra arguments. */
const ARGS = ' "$@"';

/**
 * Replaced words in order, none inside another: a word inside a longer replaced
 * one goes, and two that overlap become one hidden whole.
 */
function coveringSpans(spans: readonly ShellWord[]): ShellWord[] {
  const out: ShellWord[] = [];
  for (const w of [...spans].sort((x, y) => x.start - y.start || y.end - x.end)) {
    const last = out.at(-1);
    if (last === undefined || w.start >= last.end) out.push(w);
    else if (w.end > last.end) {
      out[out.length - 1] = { start: last.start, end: w.end, text: REDACTED };
    }
  }
  return out;
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

  // A configured training command wins over SageMaker's script mode: said when a program is named.
  const fromSpec = (s: CommandSpec, extra: readonly string[], of: string): CommandPart => {
    const part = specCommand(s, extra);
    const program = of === "training" ? scriptProgram(input) : undefined;
    // The toolkit's own `train` runs the program itself.
    const toolkit = !s.shell && s.argv[0]?.split("/").at(-1) === "train";
    if (program === undefined || toolkit) return part;
    const warning = `${configKey(of)} runs, not the program ${
      JSON.stringify(program)
    } that SageMaker names (SAGEMAKER_PROGRAM or sagemaker_program): script mode runs only without a configured command`;
    return { ...part, warnings: [warning] };
  };

  /**
   * What a workload word runs with the rest of the arguments: its workload's
   * configured command, else an executable of its name on PATH, else script mode
   * (SageMaker training); undefined when none of them is there.
   */
  const byWord = (word: string, rest: readonly string[]): CommandPart | undefined => {
    const wordWorkload = WORKLOAD_WORDS[word]!;
    const wordSpec = settings.commands[wordWorkload];
    if (wordSpec !== undefined) return fromSpec(wordSpec, rest, wordWorkload);
    if (onPath(world, word) !== undefined) {
      return { ...wordsCommand([word, ...rest], (w) => [...w]), cwd: null, shell: false };
    }
    return scriptCommand(input, rest);
  };

  const sparkRole = sparkPodRole(input);
  if (sparkRole !== undefined) {
    return {
      ...wordsCommand(sparkPodCommand(input, sparkRole), (w) => [...w]),
      cwd: null,
      shell: false,
    };
  }
  if (first === undefined) {
    if (spec !== undefined) return fromSpec(spec, [], workload);
    return scriptCommand(input, []) ??
      none(
        `no command given and no default command for workload ${workload}: set ${
          configKey(workload)
        } in the image config`,
      );
  }
  if (Object.hasOwn(WORKLOAD_WORDS, first)) {
    return byWord(first, args.slice(1)) ??
      none(
        `${quoted} has no default command and no executable ${first} is on PATH: set ${
          configKey(WORKLOAD_WORDS[first]!)
        } in the image config`,
      );
  }
  if (first.startsWith("-")) {
    if (spec !== undefined) return fromSpec(spec, args, workload);
    // SageMaker's ContainerArguments without an entrypoint come without `train`: they run as
    // `train --seed 1` would.
    return (isTraining(input) ? byWord("train", args) : undefined) ?? none(
      `arguments ${quoted}... need a default command for workload ${workload}: set ${
        configKey(workload)
      } in the image config`,
    );
  }
  return { ...wordsCommand(args, (w) => [...w]), cwd: null, shell: false };
}

/**
 * A workload word selects its own workload's command even when the workload is
 * forced to another (the word is the user's choice of program): said, since the
 * program then runs in a context set up for a workload it is not.
 */
function wordAgainstForced({ world, detection: { context } }: PlanInput): string[] {
  const first = world.snapshot.argv[0];
  if (first === undefined || !Object.hasOwn(WORKLOAD_WORDS, first)) return [];
  const word = WORKLOAD_WORDS[first]!;
  if (!context.forced.includes("workload") || word === context.workload) return [];
  return [
    `The first argument ${
      JSON.stringify(first)
    } runs the ${word} command, but the workload is forced to ${context.workload}`,
  ];
}

/** The command adapter. */
export const command: Adapter = {
  name: "command",
  dynamicPaths(world: World): PathDecl[] {
    const first = world.snapshot.argv[0];
    // Arguments alone stand for `train ...` on SageMaker training (decideCommand).
    const word = first?.startsWith("-") ? "train" : first;
    if (word === undefined || !Object.hasOwn(WORKLOAD_WORDS, word)) return [];
    return pathDirs(world).map((d) => ({ kind: "stat" as const, path: `${d}/${word}` }));
  },
  plan(input) {
    // Words from hyperparameters are shown redacted by the SageMaker adapter;
    // the user's own words, where they come in, by the functions above.
    const part = decideCommand(input);
    return {
      command: part,
      ...(part.env === undefined ? {} : { env: part.env }),
      ...(part.secrets === undefined ? {} : { secrets: part.secrets }),
      warnings: [...wordAgainstForced(input), ...part.warnings ?? []],
    };
  },
};
