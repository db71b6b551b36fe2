/**
 * The image config as the planner sees it: types, the built-in defaults of
 * design section 3, and the per-context view (overrides matched by id with `*` globs,
 * applied in file order). Pure; parsing and validation live in
 * `config_load.ts` and `config_schema.ts`.
 *
 * @module
 */

import { parseJsonText } from "./json.ts";
import { CONTEXT_IDS, type Platform, type Workload } from "./types.ts";

/** A command in argv form. */
export interface CommandSpec {
  readonly argv: readonly string[];
  readonly cwd?: string;
  /** Run `argv` joined by spaces through `/bin/sh -c` (only when asked). */
  readonly shell?: boolean;
}

/** The unprivileged user of the image. */
export interface UserSpec {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups; absent means initgroups() from /etc/group. */
  readonly groups?: readonly number[];
  readonly home: string;
}

/** When to switch to the configured user. */
export type SwitchUser = "never" | "when-root";

/** Run mode setting. */
export type ModeSetting = "exec" | "supervise" | "auto";

/** The Spark adapter's settings (spark image). */
export interface SparkSettings {
  readonly enabled: boolean;
  readonly home: string;
  readonly jarsDir: string;
  readonly python: string;
  /** Share of the memory limit given to the driver JVM; the rest is left to Python. */
  readonly driverMemoryFraction: number;
  readonly kubernetes: {
    readonly executorImage?: string;
    readonly serviceAccount?: string;
    readonly executorInstances: number;
    readonly executorCores: number;
    readonly executorMemory: string;
  };
  readonly standalone: {
    readonly masterPort: number;
    readonly webUiPort: number;
    readonly registerTimeoutSeconds: number;
  };
}

/** The metrics adapter's settings. */
export interface MetricsSettings {
  /** Fill OTLP/StatsD/Datadog endpoints from the node-local agent at `HOST_IP`. */
  readonly nodeAgent: boolean;
  readonly otlpPort: number;
  readonly statsdPort: number;
  readonly serviceName?: string;
}

/** Everything an override may change. */
export interface Settings {
  readonly commands: Readonly<Partial<Record<Workload, CommandSpec>>>;
  readonly switchUser: SwitchUser;
  readonly mode: ModeSetting;
  /** Octal text such as "0002", or null to leave the umask alone. */
  readonly umask: string | null;
  readonly env: {
    readonly set: Readonly<Record<string, string>>;
    readonly fill: Readonly<Record<string, string>>;
  };
  /** `ML_*` paths on platforms that have none. */
  readonly paths: {
    readonly model?: string;
    readonly output?: string;
    readonly input?: string;
    readonly checkpoint?: string;
  };
  /** Compatibility layers; `sagemaker` provides `SM_*` on every platform. */
  readonly compat: {
    readonly sagemaker?: { readonly enabled?: boolean; readonly hyperparametersFile?: string };
  };
  readonly hostWait: { readonly timeoutSeconds: number };
  readonly metrics: MetricsSettings;
  readonly spark: SparkSettings;
  /** Where hook folders live (`<dir>/before-apply`, `<dir>/before-run`). */
  readonly hooksDir: string;
}

/** An override: settings for the contexts whose id matches `match`. */
export interface Override {
  readonly match: string;
  readonly settings: PartialSettings;
}

/** Settings where every field is optional (overrides). */
export type PartialSettings = { readonly [K in keyof Settings]?: Partial<Settings[K]> };

/** The whole image config, normalised. */
export interface ImageConfig {
  readonly user: UserSpec | null;
  readonly defaultWorkload: Readonly<Partial<Record<Platform, Workload>>>;
  readonly secretFiles: readonly string[];
  readonly settings: Settings;
  readonly overrides: readonly Override[];
}

/** Built-in defaults (design section 3): no user switch, mode auto, no default commands, no layers. */
export const DEFAULT_SETTINGS: Settings = {
  commands: {},
  switchUser: "never",
  mode: "auto",
  umask: null,
  env: { set: {}, fill: {} },
  paths: {},
  compat: {},
  hostWait: { timeoutSeconds: 900 },
  metrics: { nodeAgent: false, otlpPort: 4318, statsdPort: 8125 },
  spark: {
    enabled: false,
    home: "/opt/spark",
    jarsDir: "/opt/spark/extra-jars",
    python: "/usr/bin/python3",
    driverMemoryFraction: 0.5,
    kubernetes: { executorInstances: 2, executorCores: 1, executorMemory: "2g" },
    standalone: { masterPort: 7077, webUiPort: 8080, registerTimeoutSeconds: 300 },
  },
  hooksDir: "/etc/chameleon/hooks.d",
};

/** The schema tag of a config file. */
export const CONFIG_SCHEMA = "chameleon.config/v1";

/** The config used when no file exists. */
export const DEFAULT_CONFIG: ImageConfig = {
  user: null,
  defaultWorkload: {},
  secretFiles: [],
  settings: DEFAULT_SETTINGS,
  overrides: [],
};

/** Where the image config is looked for, in order (design section 3). */
export const CONFIG_CANDIDATES = ["/etc/chameleon/config.json", "/etc/chameleon/config.yaml"];

/**
 * Whether a context id matches a glob where `*` stands for any run of characters.
 * Each part between stars is found at its leftmost place after the one before
 * (the prefix and suffix pinned): linear in the id for any number of stars,
 * where the regular expression it replaced backtracked (eleven stars and a
 * `z` took 8.7 s against the context ids, fifteen 207 s).
 */
export function globMatch(glob: string, id: string): boolean {
  const parts = glob.split("*");
  if (parts.length === 1) return glob === id;
  const first = parts[0]!, last = parts[parts.length - 1]!;
  const end = id.length - last.length;
  if (end < first.length || !id.startsWith(first) || !id.endsWith(last)) return false;
  let at = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const found = id.indexOf(parts[i]!, at);
    if (found === -1 || found + parts[i]!.length > end) return false;
    at = found + parts[i]!.length;
  }
  return true;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Deep-merges `over` into `base`: objects key by key, everything else (arrays too) replaced. */
export function deepMerge<T>(base: T, over: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(over)) return (over === undefined ? base : over) as T;
  const writable = copyOnWrite();
  const out = writable(base);
  mergeInto(out, over, writable);
  return out as T;
}

/**
 * A copier for building a merge in place: each object is copied the first time it is asked
 * for, and a copy it made is given back as it is. Spread as object spreads do: an absent value
 * is an empty object.
 */
function copyOnWrite(): (o: unknown) => Record<string, unknown> {
  const copies = new Set<object>();
  return (o) => {
    if (copies.has(o as object)) return o as Record<string, unknown>;
    const copy = { ...o as object } as Record<string, unknown>;
    copies.add(copy);
    return copy;
  };
}

/** Merges `over` into `into` key by key, objects through `writable` (see {@linkcode deepMerge}). */
function mergeInto(
  into: Record<string, unknown>,
  over: Record<string, unknown>,
  writable: (o: unknown) => Record<string, unknown>,
): void {
  for (const [k, v] of Object.entries(over)) {
    const here = into[k];
    if (isPlainObject(here) && isPlainObject(v)) mergeInto(into[k] = writable(here), v, writable);
    else into[k] = v === undefined ? here : v;
  }
}

/** The settings for one context, and which overrides matched. */
export interface ContextSettings {
  readonly settings: Settings;
  readonly matched: readonly string[];
}

/**
 * Overrides applied over settings in order, as {@linkcode deepMerge} would one
 * by one, with what only overrides do: a workload's command replaced whole (an
 * override's command must not inherit the cwd or shell of the one it
 * replaces), and a variable an override sets or fills taking that kind (it is
 * never both). The result is built in place, each object copied once, when it
 * is first written to: merging each override into a fresh copy of the whole
 * copied every earlier override's variables again (800 overrides of one
 * variable each, all matching: 80 ms).
 */
function applyOverrides(base: Settings, overs: readonly PartialSettings[]): Settings {
  if (overs.length === 0) return base;
  const writable = copyOnWrite();
  const out = writable(base);
  for (const over of overs) {
    const { commands, ...rest } = over;
    out["commands"] = Object.assign(writable(out["commands"]), commands);
    mergeInto(out, rest, writable);
    const vars = out["env"] = writable(out["env"]);
    const set = vars["set"] = writable(vars["set"]);
    const fill = vars["fill"] = writable(vars["fill"]);
    for (const name of Object.keys(over.env?.fill ?? {})) delete set[name];
    for (const name of Object.keys(over.env?.set ?? {})) delete fill[name];
  }
  return out as unknown as Settings;
}

/** Applies the overrides whose glob matches the context id, in file order. */
export function settingsFor(config: ImageConfig, contextId: string): ContextSettings {
  const matching = config.overrides.filter((o) => globMatch(o.match, contextId));
  return {
    settings: applyOverrides(config.settings, matching.map((o) => o.settings)),
    matched: matching.map((o) => o.match),
  };
}

/**
 * Every settings some context can get, for the paths a snapshot must record
 * before the context is known: the base settings, and the base with each set
 * of overrides that some context id matches together (settings split across
 * two overrides, `spark.enabled` in one and `jarsDir` in another, meet only
 * there).
 */
export function settingsVariants(config: ImageConfig): readonly Settings[] {
  // Three adapters ask for the same config's variants while the snapshot is taken.
  if (config === variantsOf) return variants;
  variants = allVariants(config);
  variantsOf = config;
  return variants;
}

let variantsOf: ImageConfig | undefined;
let variants: readonly Settings[] = [];

function allVariants(config: ImageConfig): Settings[] {
  const out = [config.settings];
  if (config.overrides.length === 0) return out;
  const seen = new Set<string>();
  for (const id of CONTEXT_IDS) {
    const matching = config.overrides.filter((o) => globMatch(o.match, id));
    const key = matching.map((o) => o.match).join("\n");
    if (matching.length === 0 || seen.has(key)) continue;
    seen.add(key);
    out.push(applyOverrides(config.settings, matching.map((o) => o.settings)));
  }
  return out;
}

/** The settings keys: top-level config keys that overrides may change too. */
export const SETTINGS_KEYS = [
  "commands",
  "switchUser",
  "mode",
  "umask",
  "env",
  "paths",
  "compat",
  "hostWait",
  "metrics",
  "spark",
  "hooksDir",
] as const;

/** A config file's fields as the planner needs them (validated, or trusted by digest). */
export interface ConfigFields {
  readonly user?:
    | { name: string; uid: number; gid: number; groups?: number[] | undefined; home: string }
    | null
    | undefined;
  readonly defaultWorkload?: Partial<Record<Platform, Workload | undefined>> | undefined;
  readonly secretFiles?: string[] | undefined;
  readonly overrides?: readonly ({ match: string } & Record<string, unknown>)[] | undefined;
  readonly [setting: string]: unknown;
}

function settingsOf(c: Readonly<Record<string, unknown>>): PartialSettings {
  const out: Record<string, unknown> = {};
  for (const k of SETTINGS_KEYS) if (c[k] !== undefined) out[k] = c[k];
  return out as PartialSettings;
}

/** The config user; without `groups` the user adapter takes initgroups() from /etc/group. */
function userOf(u: NonNullable<ConfigFields["user"]>): UserSpec {
  const { groups, ...rest } = u;
  return groups === undefined ? rest : { ...rest, groups };
}

/** The planner's view of a config file: defaults under every setting. */
export function toImageConfig(c: ConfigFields): ImageConfig {
  const settings = deepMerge(DEFAULT_SETTINGS, settingsOf(c as Record<string, unknown>));
  return {
    user: c.user ? userOf(c.user) : null,
    defaultWorkload: Object.fromEntries(
      Object.entries(c.defaultWorkload ?? {}).filter(([, w]) => w !== undefined),
    ) as Partial<Record<Platform, Workload>>,
    secretFiles: c.secretFiles ?? [],
    settings,
    overrides: (c.overrides ?? []).map(({ match, ...rest }) => ({
      match,
      settings: settingsOf(rest),
    })),
  };
}

/**
 * A digest of normalised config text (53-bit, hex). It proves the JSON is what
 * `--check-config` wrote, so start-up can trust it without loading the
 * validator; it is an integrity check against hand edits, not a signature.
 */
export function configDigest(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, "0");
}

/**
 * A normalised config's digest and the fields it covers, from its JSON text;
 * undefined when the text is no JSON object with a digest.
 */
export function digestedConfig(
  text: string,
): { readonly digest: string; readonly body: Record<string, unknown> } | undefined {
  let v: unknown;
  try {
    v = parseJsonText(text);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
  const { digest, ...body } = v as Record<string, unknown>;
  return typeof digest === "string" ? { digest, body } : undefined;
}
