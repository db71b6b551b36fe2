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
import { isSecretFlag, redactArgs, secretsInJson } from "../secrets.ts";
import type { World } from "../world.ts";
import type { Adapter, CommandPart, PlanInput } from "./_adapter.ts";
import { onPath, pathDirs } from "./_path.ts";
import { scriptModeCommand } from "./sagemaker.ts";

/**
 * A configured command plus extra arguments. With `shell: true` the argv is
 * joined into a script for /bin/sh, and the extra arguments arrive as "$@".
 */
function specCommand(spec: CommandSpec, extra: readonly string[]): CommandPart {
  const cwd = spec.cwd ?? null;
  if (!spec.shell) return { command: [...spec.argv, ...extra], cwd, shell: false };
  return {
    command: ["/bin/sh", "-c", `${spec.argv.join(" ")} "$@"`, spec.argv[0]!, ...extra],
    cwd,
    shell: true,
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
  const none = (why: string): CommandPart => ({
    command: null,
    cwd: null,
    shell: false,
    missing: why,
  });

  if (first === undefined) {
    if (spec !== undefined) return specCommand(spec, []);
    return scriptModeCommand(input, []) ??
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
    if (onPath(world, first) !== undefined) return { command: [...args], cwd: null, shell: false };
    return scriptModeCommand(input, rest) ??
      none(
        `${
          JSON.stringify(first)
        } has no default command and no executable ${first} is on PATH: set ${
          configKey(wordWorkload)
        } in the image config`,
      );
  }
  if (first.startsWith("-")) {
    if (spec !== undefined) return specCommand(spec, args);
    return none(
      `arguments ${JSON.stringify(first)}... need a default command for workload ${workload}: set ${
        configKey(workload)
      } in the image config`,
    );
  }
  return { command: [...args], cwd: null, shell: false };
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
    const part = decideCommand(input);
    // A secret on the command line (`--token X`, `--token=X`, from argv or a
    // configured command) is shown redacted and scrubbed from logs. Words that
    // come from hyperparameters are redacted by the SageMaker adapter already,
    // and only the few given words are looked at unless one is a secret flag.
    const given = [
      ...input.world.snapshot.argv,
      ...Object.values(input.settings.commands).flatMap((c) => c?.argv ?? []),
    ];
    if (part.command === null || !given.some(isSecretFlag)) return { command: part };
    return {
      command: { ...part, display: redactArgs(part.display ?? part.command) },
      secrets: [...secretsInJson(part.command)],
    };
  },
};
