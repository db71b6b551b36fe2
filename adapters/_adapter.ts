/**
 * What every adapter receives and returns. An adapter is a pure function from
 * the detection, the snapshot and the image config to a plan fragment;
 * `plan.ts` merges the fragments and reports conflicts.
 *
 * @module
 */

import type { ImageConfig, Settings } from "../config.ts";
import { isLinkValue } from "../contexts/_signals.ts";
import type { PathSource } from "../paths.ts";
import { secretFileValue } from "../secrets.ts";
import type { Detection, EnvOp, PlanDir, PlanFile, Step, UserPlan } from "../types.ts";
import type { World } from "../world.ts";

/** The inputs of every adapter. */
export interface PlanInput {
  readonly world: World;
  readonly detection: Detection;
  readonly config: ImageConfig;
  /** The settings for this context (overrides applied). */
  readonly settings: Settings;
  /** Where generated files go. */
  readonly runtimeDir: string;
  /** The `match` globs of the overrides that apply to this context, in file order. */
  readonly overridesMatched: readonly string[];
}

/** The command decision (only the command adapter gives one). */
export interface CommandPart {
  readonly command: readonly string[] | null;
  readonly cwd: string | null;
  readonly shell: boolean;
  /** The command as `--explain` shows it (secrets redacted), when it differs. */
  readonly display?: readonly string[];
  /** Why there is no command: names the config key to set (exit 2 on a real start). */
  readonly missing?: string;
  /** Secret values found in the command's words (scrubbed from logs). */
  readonly secrets?: readonly string[];
  /** What the plan warns of about this command. */
  readonly warnings?: readonly string[];
  /** Variables the command needs (script mode's PYTHONPATH). */
  readonly env?: readonly EnvOp[];
}

/** What one adapter contributes to the plan. */
export interface Fragment {
  readonly env?: readonly EnvOp[];
  readonly unset?: readonly string[];
  /**
   * Variables the user asks to be left out of the command's environment,
   * whatever the plan gives them, and what asks (docker-stacks'
   * `JUPYTER_ENV_VARS_TO_UNSET`, which its start.sh carries out last): unset,
   * and a value the plan sets is dropped with a warning rather than a conflict.
   * Hooks still get them, as start.sh's hooks do.
   */
  readonly drop?: { readonly names: readonly string[]; readonly askedBy: string };
  readonly dirs?: readonly PlanDir[];
  readonly files?: readonly PlanFile[];
  readonly steps?: readonly Step[];
  readonly user?: UserPlan;
  readonly command?: CommandPart;
  readonly warnings?: readonly string[];
  /** Extra explain sections, keyed by name. */
  readonly notes?: Readonly<Record<string, unknown>>;
  /** Secret values this adapter handled (scrubbed from logs). */
  readonly secrets?: readonly string[];
  /**
   * The exit 78's line when the merge finds this adapter's variable `name`
   * too large for execve, for an adapter that can name what the variable is
   * made from (a file the user wrote); undefined leaves the merge's own line.
   * `given` tells the names whose fills the merge leaves out (a value the user
   * gave). Asked only on that error: the merge counts each value once.
   */
  readonly oversized?: Oversized;
}

/** {@linkcode Fragment.oversized}. */
export type Oversized = (
  name: string,
  value: string,
  given: (name: string) => boolean,
) => string | undefined;

/** One concern of the plan. */
export interface Adapter extends PathSource {
  readonly name: string;
  plan(input: PlanInput): Fragment;
  /**
   * Secret values in the files this adapter declares, found in the files
   * themselves: a capture hides them whether or not a plan comes out.
   */
  readonly captureSecrets?: (world: World, config: ImageConfig) => string[];
  /**
   * For files this adapter declares whose format it knows: how a capture
   * hides the values of their secret-named keys where they stand, however
   * short (by path).
   */
  readonly captureHiders?: (
    world: World,
    config: ImageConfig,
  ) => ReadonlyMap<string, (text: string) => string>;
}

/**
 * A variable's value once the image config's env is applied (adapters/config_env.ts):
 * its `set` is always written, else the user's or platform's value stays, else its
 * `fill` comes in. What the config gives is the image's own choice, as binding
 * for other adapters as the user's (a proxy, a service name), and so is a value
 * an opted-in `VAR_FILE` gives. Undefined when empty. A service link's
 * `<SVC>_PORT=tcp://...` is nobody's choice: not given, as the plan's merge takes
 * it (it fills over it).
 */
export function givenEnv(
  { world, settings, config }: Pick<PlanInput, "world" | "settings" | "config">,
  name: string,
): string | undefined {
  if (Object.hasOwn(settings.env.set, name)) return settings.env.set[name] || undefined;
  const own = world.envValue(name);
  return (isLinkValue(name, own) ? undefined : own) ?? secretFileGives(world, config, name) ??
    (settings.env.fill[name] || undefined);
}

/** Variables whose `VAR_FILE` is honoured (design section 8): the config's list plus `CHAMELEON_SECRET_FILES`. */
export function secretFileVars(world: World, config: ImageConfig): string[] {
  return [...optedIn(world, config)];
}

/**
 * The variables opted in, built once per world and config: built anew for each
 * variable asked about, 4,000 of them with files made a plan take 1.7 s.
 */
function optedIn(world: World, config: ImageConfig): ReadonlySet<string> {
  const byConfig = world.memo("secretFileVars", () => new WeakMap<ImageConfig, Set<string>>());
  let names = byConfig.get(config);
  if (names === undefined) {
    names = new Set([...config.secretFiles, ...world.envList("CHAMELEON_SECRET_FILES")]);
    byConfig.set(config, names);
  }
  return names;
}

/** The variables an opted-in `VAR_FILE` gives a value: the user's own, as binding as the environment's. */
export function secretFileGiven(world: World, config: ImageConfig): string[] {
  return secretFileVars(world, config).filter((n) =>
    secretFileGives(world, config, n) !== undefined
  );
}

/**
 * The value an opted-in `VAR_FILE` gives `name` (adapters/credentials.ts sets
 * it from the file); undefined when there is none, or the file cannot be read,
 * which that adapter reports.
 */
function secretFileGives(world: World, config: ImageConfig, name: string): string | undefined {
  const path = world.env(`${name}_FILE`);
  if (!path || !optedIn(world, config).has(name)) return undefined;
  const f = world.file(path);
  return f.kind === "ok" ? secretFileValue(f.text) || undefined : undefined;
}

/** Whether the image config's env sets or fills the variable. */
export function configGives({ settings }: PlanInput, name: string): boolean {
  return Object.hasOwn(settings.env.set, name) || Object.hasOwn(settings.env.fill, name);
}

/** Whether the image config's env sets the variable (a set wins over what the platform gives). */
export function configSets({ settings }: PlanInput, name: string): boolean {
  return Object.hasOwn(settings.env.set, name);
}

/** A `set` variable; `display` (what `--explain` shows) only when it differs from the value. */
export const set = (name: string, value: string, display?: string): EnvOp =>
  op("set", name, value, display);

/** A `fill` variable; `display` only when it differs from the value. */
export const fill = (name: string, value: string, display?: string): EnvOp =>
  op("fill", name, value, display);

function op(kind: "set" | "fill", name: string, value: string, display?: string): EnvOp {
  return display === undefined || display === value
    ? { name, kind, value }
    : { name, kind, value, display };
}

/** An `append` variable (items joined by `separator`). */
export const append = (name: string, items: readonly string[], separator = ","): EnvOp => ({
  name,
  kind: "append",
  value: items.join(separator),
  separator,
});
