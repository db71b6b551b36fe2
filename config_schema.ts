/**
 * The image config's zod schema: the single source of truth for what a config
 * may say (`config.schema.json` is generated from it by `deno task schema`).
 * This module is loaded only when a config must be validated: at image build
 * time (`--check-config`), or at start-up for a YAML file or a JSON file that
 * `--check-config` did not write. Errors name the file, the line and column
 * (YAML) or JSON pointer, the field and what was expected (exit 78).
 *
 * @module
 */

import * as z from "zod";
import { isMap, isPair, isScalar, LineCounter, parseDocument, visit } from "@std/yaml";
import { CONFIG_SCHEMA, configDigest, globMatch, SETTINGS_KEYS, toImageConfig } from "./config.ts";
import { InputError } from "./errors.ts";
import {
  CONTEXT_IDS,
  MAX_ID,
  PLATFORMS,
  tooLargeForExecve,
  unpassable,
  USER_NAME,
  VARIABLE_NAME,
  VARIABLE_NAME_EXPECTED,
  WORKLOADS,
} from "./types.ts";
import { mayQuoteAt, REDACTED } from "./secrets.ts";
import { parseJson, pointerToken } from "./shape.ts";

const absPath = z.string().regex(/^\//, "expected an absolute path");
const envName = z.string().regex(VARIABLE_NAME, VARIABLE_NAME_EXPECTED);
const id = z.number().int().min(0).max(MAX_ID);
const port = z.number().int().min(1).max(65535);
const workload = z.enum(WORKLOADS);

const command = z.strictObject({
  argv: z.array(z.string().min(1)).min(1).describe("the command and its arguments, as a list"),
  cwd: absPath.optional().describe("working directory"),
  shell: z.boolean().optional().describe("run argv joined by spaces through /bin/sh -c"),
});

const commands = z.strictObject(
  Object.fromEntries(WORKLOADS.map((w) => [w, command.optional()])) as Record<
    typeof WORKLOADS[number],
    z.ZodOptional<typeof command>
  >,
).describe("default command per workload");

const settingsShape = {
  commands: commands.optional(),
  switchUser: z.enum(["never", "when-root"]).optional().describe(
    "switch to `user` when started as root",
  ),
  mode: z.enum(["exec", "supervise", "auto"]).optional().describe(
    "exec, supervise, or decide per context",
  ),
  umask: z.string().regex(/^0?[0-7]{3}$/, 'expected octal text such as "0002" (quote it in YAML)')
    .nullable()
    .optional(),
  env: z.strictObject({
    set: z.record(envName, z.string()).optional().describe("always written"),
    fill: z.record(envName, z.string()).optional().describe("written only when unset"),
  }).optional(),
  paths: z.strictObject({
    model: absPath.optional(),
    output: absPath.optional(),
    input: absPath.optional(),
    checkpoint: absPath.optional(),
  }).optional().describe("ML_* paths on platforms that have none"),
  compat: z.strictObject({
    sagemaker: z.strictObject({
      enabled: z.boolean().optional().describe(
        "false turns the layer off (in an override: for the contexts it matches)",
      ),
      hyperparametersFile: absPath.optional().describe(
        "JSON or flat YAML hyperparameters (else env ML_HPS)",
      ),
    }).optional().describe("SM_* variables on every platform"),
  }).optional(),
  hostWait: z.strictObject({ timeoutSeconds: z.number().int().min(0).max(86400) }).optional()
    .describe("how long multi-host jobs wait for every host to resolve"),
  metrics: z.strictObject({
    nodeAgent: z.boolean().optional().describe("fill OTLP/StatsD/Datadog endpoints from HOST_IP"),
    otlpPort: port.optional(),
    statsdPort: port.optional(),
    serviceName: z.string().min(1).optional(),
  }).optional(),
  spark: z.strictObject({
    enabled: z.boolean().optional(),
    home: absPath.optional(),
    jarsDir: absPath.optional(),
    python: absPath.optional(),
    driverMemoryFraction: z.number().min(0.1).max(0.9).optional(),
    kubernetes: z.strictObject({
      executorImage: z.string().min(1).optional(),
      serviceAccount: z.string().min(1).optional(),
      executorInstances: z.number().int().min(0).optional(),
      executorCores: z.number().int().min(1).optional(),
      executorMemory: z.string().regex(/^\d+[kmgt]?$/i, 'expected a JVM size such as "4g"')
        .optional(),
    }).optional(),
    standalone: z.strictObject({
      masterPort: port.optional(),
      webUiPort: port.optional(),
      registerTimeoutSeconds: z.number().int().min(1).optional(),
    }).optional(),
  }).optional(),
  hooksDir: absPath.optional().describe(
    "hook folders: <hooksDir>/before-apply and <hooksDir>/before-run",
  ),
} satisfies Record<typeof SETTINGS_KEYS[number], z.ZodType>;

const override = z.strictObject({
  match: z.string().regex(
    /^[a-z0-9*-]+$/,
    "expected a context id glob such as kubernetes-* or *-serving",
  ),
  ...settingsShape,
});

/** The config file schema (YAML or JSON). */
export const ConfigSchema = z.strictObject({
  schema: z.literal(CONFIG_SCHEMA).optional(),
  user: z.strictObject({
    name: z.string().regex(USER_NAME, "expected a user name"),
    uid: id,
    gid: id,
    groups: z.array(id).optional(),
    home: absPath,
  }).nullable().optional().describe("the unprivileged user of the image"),
  defaultWorkload: z.strictObject(
    Object.fromEntries(PLATFORMS.map((p) => [p, workload.optional()])) as Record<
      typeof PLATFORMS[number],
      z.ZodOptional<typeof workload>
    >,
  ).optional().describe("the workload when a platform's signals name none"),
  secretFiles: z.array(envName).optional().describe("variables whose VAR_FILE holds the value"),
  ...settingsShape,
  overrides: z.array(override).optional().describe("per-context settings, applied in file order"),
  validatedBy: z.string().optional(),
  digest: z.string().optional(),
});

/** A parsed config file. */
export type ConfigFile = z.infer<typeof ConfigSchema>;

/** The JSON Schema for editors (`config.schema.json`). */
export function jsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ConfigSchema, { target: "draft-2020-12" }),
    $id: "https://chameleon.invalid/config.schema.json",
    title: "chameleon image config",
  };
}

function describeValue(v: unknown, path: readonly (string | number)[]): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  // Under a secret-named key the value is not quoted: exit lines reach logs and failure files.
  // String(), not JSON.stringify: 1e400 is Infinity, which JSON would print as null.
  return `${typeof v} ${
    mayQuoteAt(path, v) ? (typeof v === "number" ? String(v) : JSON.stringify(v)) : REDACTED
  }`;
}

/** The keys a strict object allows at `path`, for "unknown key" messages. */
function allowedKeys(path: readonly PropertyKey[]): string[] {
  // deno-lint-ignore no-explicit-any -- walking zod's definitions
  let s: any = ConfigSchema;
  const unwrap = () => {
    while (s?.def?.type === "optional" || s?.def?.type === "nullable") s = s.def.innerType;
  };
  for (const key of path) {
    unwrap();
    if (s?.def?.type === "object") s = s.def.shape[key as string];
    else if (s?.def?.type === "array") s = s.def.element;
    else if (s?.def?.type === "record") s = s.def.valueType;
  }
  unwrap();
  return s?.def?.type === "object" ? Object.keys(s.def.shape) : [];
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of path) {
    v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  }
  return v;
}

/** One validation problem: where and what. */
export interface Problem {
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** For unknown keys: point at the key itself. */
  readonly key?: string;
}

function problemsOf(issues: readonly z.core.$ZodIssue[], input: unknown): Problem[] {
  const out: Problem[] = [];
  for (const i of issues) {
    const path = i.path.filter((p): p is string | number => typeof p !== "symbol");
    if (i.code === "unrecognized_keys") {
      for (const key of i.keys) {
        out.push({
          path: [...path, key],
          key,
          message: `unknown key ${JSON.stringify(key)} (expected one of ${
            allowedKeys(path).join(", ")
          })`,
        });
      }
      continue;
    }
    if (i.code === "invalid_key") {
      const key = String(path[path.length - 1]);
      out.push({
        path,
        key,
        message: `${i.issues[0]?.message ?? "invalid key"}: ${JSON.stringify(key)}`,
      });
      continue;
    }
    const got = describeValue(valueAt(input, path), path);
    let message: string;
    if (i.code === "invalid_type") {
      message = `expected ${i.expected}, got ${got}`;
      // YAML reads `umask: 0002` as the number 2: the leading zeros are gone by now.
      if (i.expected === "string" && typeof valueAt(input, path) === "number") {
        message += ' (quote it to keep it text, as in "0002")';
      }
    } else if (i.code === "invalid_value") {
      message = `expected ${i.values.map((v) => JSON.stringify(v)).join(" or ")}, got ${got}`;
    } else if (i.code === "too_small" || i.code === "too_big") {
      message = `${i.message.replace(/^Too (small|big): /, "")}, got ${got}`;
    } else message = `${i.message}, got ${got}`;
    out.push({ path, message });
  }
  return out;
}

/** Checks beyond the shape: globs that match, no repeated globs, a user to switch to, set/fill clashes. */
/** Variables every start sets (the decision, and the nested-start guard). */
const RESERVED_VARIABLES: ReadonlySet<string> = new Set([
  "CHAMELEON_STARTED",
  "CHAMELEON_CONTEXT",
  "CHAMELEON_PLATFORM",
  "CHAMELEON_WORKLOAD",
]);

function semanticProblems(c: ConfigFile): Problem[] {
  const out: Problem[] = [];
  // A NUL anywhere reaches execve (a variable, a command word, a path made a variable): every
  // start would refuse it, so the check does too. So is a lone surrogate (a `\uD800` escape):
  // it has no UTF-8 form, and the start would silently pass U+FFFD instead.
  const noNul = (v: unknown, path: (string | number)[]) => {
    if (typeof v === "string") {
      const why = unpassable("text", v);
      if (why !== undefined) out.push({ path, message: why });
    } else if (Array.isArray(v)) v.forEach((x, i) => noNul(x, [...path, i]));
    else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        const why = unpassable("a name", k);
        if (why !== undefined) out.push({ path: [...path, k], message: why });
        noNul(x, [...path, k]);
      }
    }
  };
  noNul(c, []);
  const seen = new Map<string, number>();
  (c.overrides ?? []).forEach((o, i) => {
    if (!CONTEXT_IDS.some((id) => globMatch(o.match, id))) {
      out.push({
        path: ["overrides", i, "match"],
        message: `glob ${JSON.stringify(o.match)} matches no context id`,
      });
    }
    const prev = seen.get(o.match);
    if (prev !== undefined) {
      out.push({
        path: ["overrides", i, "match"],
        message: `glob ${
          JSON.stringify(o.match)
        } repeats /overrides/${prev}: two overrides for the same contexts conflict, merge them`,
      });
    } else seen.set(o.match, i);
  });
  const scopes: [(string | number)[], Partial<ConfigFile>][] = [
    [[], c],
    ...(c.overrides ?? []).map((
      o,
      i,
    ): [(string | number)[], Partial<ConfigFile>] => [["overrides", i], o]),
  ];
  for (const [at, s] of scopes) {
    if (s.switchUser === "when-root" && (c.user === undefined || c.user === null)) {
      out.push({
        path: [...at, "switchUser"],
        message: "when-root needs a top-level user to switch to",
      });
    }
    for (const kind of ["set", "fill"] as const) {
      for (const [name, value] of Object.entries(s.env?.[kind] ?? {})) {
        if (RESERVED_VARIABLES.has(name)) {
          out.push({
            path: [...at, "env", kind, name],
            message: `${name} is chameleon's own (every start sets it): leave it out`,
          });
        }
        // `name=value` and its NUL, in UTF-8: what execve takes at most per variable.
        const big = tooLargeForExecve(name, value);
        if (big !== undefined) {
          out.push({ path: [...at, "env", kind, name], message: `would be ${big}` });
        }
      }
    }
    for (const [workload, command] of Object.entries(s.commands ?? {})) {
      if (command === undefined) continue;
      // What execve takes at most per argument, with its NUL: a shell script is one argument.
      const words = command.shell ? [command.argv.join(" ")] : command.argv;
      words.forEach((word, i) => {
        const big = tooLargeForExecve(word);
        if (big !== undefined) {
          out.push({
            path: [...at, "commands", workload, "argv", ...(command.shell ? [] : [i])],
            message: `${command.shell ? "as one shell script, " : ""}would be ${big}`,
          });
        }
      });
    }
    for (const name of Object.keys(s.env?.set ?? {})) {
      if (Object.hasOwn(s.env?.fill ?? {}, name)) {
        out.push({
          path: [...at, "env", "fill", name],
          message: `${name} is both set and filled: give it once`,
        });
      }
    }
  }
  return out;
}

function pointer(path: readonly (string | number)[]): string {
  return path.length === 0 ? "top level" : path.map(pointerToken).join("");
}

/** Temporarily hides the env variables that make npm:yaml print its tokens while parsing. */
function withoutYamlDebug<T>(fn: () => T): T {
  const saved: [string, string][] = [];
  for (const n of ["LOG_TOKENS", "LOG_STREAM"]) {
    const v = Deno.env.get(n);
    if (v !== undefined) {
      saved.push([n, v]);
      Deno.env.delete(n);
    }
  }
  try {
    return fn();
  } finally {
    for (const [n, v] of saved) Deno.env.set(n, v);
  }
}

/** Where a problem is: `file:line:col` for YAML, `file` plus the pointer for JSON. */
type Locate = (p: Problem) => string;

/** Parses config text (YAML, or JSON by file name) into a raw value and a locator. */
function parseText(file: string, text: string): { value: unknown; locate: Locate } {
  if (/\.json$/i.test(file)) {
    const parsed = parseJson(text, (v) => v);
    if (!parsed.ok) throw new InputError(`Config ${file}: ${parsed.problem}`);
    return { value: parsed.value, locate: () => `Config ${file}` };
  }
  const lines = new LineCounter();
  const doc = withoutYamlDebug(() =>
    // No YAML 1.1 types (!!set, !!omap, !!timestamp, !!binary): a config is plain data, and
    // those become a Set, a Map, a Date or bytes that the schema's checks would take as empty.
    parseDocument(text, {
      lineCounter: lines,
      // Checked below instead: the parser's own check compares every key with every key
      // before it, minutes for a 1 MiB file of variables (design section 8 bounds its size).
      uniqueKeys: false,
      prettyErrors: false,
      resolveKnownTags: false,
    })
  );
  // A tag the schema does not know (`!!set`, `!custom`) is only a warning to the parser, which
  // then reads the node as if untagged: here it is an error, as the author meant something else.
  // `%YAML 1.1` brings the 1.1 types back, tags or not (`env: 2020-01-01` a Date): 1.2 only.
  if (doc.directives?.yaml.version !== undefined && doc.directives.yaml.version !== "1.2") {
    throw new InputError(
      `Config ${file}:1:1: not valid YAML (%YAML ${doc.directives.yaml.version} is not supported: expected YAML 1.2, the default)`,
    );
  }
  const err = doc.errors[0] ?? doc.warnings.find((w) => w.code === "TAG_RESOLVE_FAILED");
  if (err !== undefined) {
    const pos = err.linePos?.[0] ?? lines.linePos(err.pos[0]);
    const why = err.code === "TAG_RESOLVE_FAILED"
      ? `tag ${
        err.message.split("\n")[0]!.replace(/^Unresolved tag: /, "").replace(
          /^tag:yaml\.org,2002:/,
          "!!",
        )
      } is not supported: expected plain YAML values`
      : parserProblem(err.code, err.message);
    throw new InputError(
      `Config ${file}${pos ? `:${pos.line}:${pos.col}` : ""}: not valid YAML (${why})`,
    );
  }
  // A key that is itself a collection (`? {password: hunter2} : x`) would be named by its
  // text, secrets and all, in every problem about it: keys are names, so plain scalars only.
  // A key the core schema reads as true, false or null (`TRUE:`, `False:`, `~:`) would become
  // the text "true", "false" or "" when converted: `env.set.TRUE` would set a variable `true`.
  // Values of those types are refused by the schema; a key must be refused here, before the
  // conversion hides it (design section 7: the file, the line and what was expected).
  let complexKey: number | undefined;
  let typedKey: { at: number; source: string; value: unknown } | undefined;
  // A key repeated in a mapping, as the converted object would name it (`1` and `"1"` too).
  let repeatedKey: number | undefined;
  visit(doc, {
    Map(_, map) {
      if (repeatedKey !== undefined) return;
      const names = new Set<string>();
      for (const { key } of map.items) {
        // Collections, and true, false and null, are refused as keys below.
        if (!isScalar(key) || key.value === null || typeof key.value === "boolean") continue;
        const name = String(key.value);
        if (names.has(name)) {
          repeatedKey = key.range?.[0] ?? 0;
          return;
        }
        names.add(name);
      }
    },
    Pair(_, pair) {
      if (complexKey === undefined && pair.key !== null && !isScalar(pair.key)) {
        complexKey = (pair.key as { range?: [number, number, number] }).range?.[0] ?? 0;
      } else if (
        typedKey === undefined && isScalar(pair.key) &&
        (pair.key.value === null || typeof pair.key.value === "boolean")
      ) {
        const { range, source, value } = pair.key as typeof pair.key & { source?: string };
        typedKey = { at: range?.[0] ?? 0, source: source ?? "", value };
      }
    },
  });
  const failAt = (offset: number, why: string): never => {
    const pos = lines.linePos(offset);
    throw new InputError(`Config ${file}:${pos.line}:${pos.col}: ${why}`);
  };
  if (repeatedKey !== undefined) failAt(repeatedKey, "not valid YAML (Map keys must be unique)");
  if (complexKey !== undefined) {
    failAt(complexKey, "not valid YAML (a key is a collection: expected a plain name)");
  }
  if (typedKey !== undefined) {
    failAt(
      typedKey.at,
      typedKey.source === ""
        ? "a key is empty: expected a name"
        : `the key ${typedKey.source} reads as ${
          typedKey.value === null ? "null" : `boolean ${typedKey.value}`
        }: expected a name (quote it to keep it text)`,
    );
  }
  const locate: Locate = (p) => {
    let offset: number | undefined;
    if (p.key !== undefined) {
      const parent = doc.getIn(p.path.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((it) =>
          // A YAML key `1` is the number 1; the problem names it as text.
          isPair(it) && isScalar(it.key) && String(it.key.value) === p.key
        );
        offset = isPair(pair) && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
      }
    } else {
      for (let n = p.path.length; n >= 0 && offset === undefined; n--) {
        const node = doc.getIn(p.path.slice(0, n), true) as
          | { range?: [number, number, number] }
          | undefined;
        offset = node?.range?.[0];
      }
    }
    const pos = offset === undefined ? undefined : lines.linePos(offset);
    return `Config ${file}${pos ? `:${pos.line}:${pos.col}` : ""}`;
  };
  let value: unknown;
  try {
    value = withoutYamlDebug(() => doc.toJS({ maxAliasCount: 100 }));
  } catch (e) {
    // Unresolved aliases and alias bombs surface only when converting.
    // Without the alias's name, which is the text of a value (a secret, for all it knows),
    // but at the first alias with no anchor before it, when that is the problem.
    const why = (e as Error).message.split("\n")[0]!.replace(/\): .*$/, ")");
    let at: number | undefined;
    visit(doc, {
      Alias(_, alias) {
        if (at === undefined && alias.resolve(doc) === undefined) at = alias.range?.[0];
      },
    });
    const pos = at === undefined ? undefined : lines.linePos(at);
    throw new InputError(
      `Config ${file}${pos ? `:${pos.line}:${pos.col}` : ""}: not valid YAML (${why})`,
    );
  }
  return { value: value ?? {}, locate };
}

/**
 * The YAML parser's description of a syntax error, without the source text some
 * of its messages quote (`Invalid escape sequence \Uzz...`, `Block scalar header
 * includes extra characters: >-...`): that text may be a secret's value, and the
 * line goes to logs and SageMaker's failure file.
 */
function parserProblem(code: string, message: string): string {
  const first = message.split(" at line")[0]!;
  if (code === "BAD_DQ_ESCAPE") return "Invalid escape sequence in a double-quoted value";
  if (first.startsWith("Block scalar header includes extra characters")) {
    return "Block scalar header includes extra characters";
  }
  return first;
}

/**
 * Where the parsed config holds a `__proto__` key: the schema's objects are made
 * by assignment, where that name sets the prototype instead of a key, so the
 * entry (a variable `__proto__`) would vanish without a word.
 */
function protoKey(value: unknown): Problem | undefined {
  // A stack of its own, not recursion: the parsed text may nest deeper than the call stack.
  // Each entry keeps its parent's index, so a path is built only for the key found.
  const seen: { up: number; key: string | number }[] = [];
  const todo: [unknown, number][] = [[value, -1]];
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    const [v, at] = next;
    if (v === null || typeof v !== "object") continue;
    if (!Array.isArray(v) && Object.hasOwn(v, "__proto__")) {
      const path: (string | number)[] = ["__proto__"];
      for (let i = at; i >= 0; i = seen[i]!.up) path.unshift(seen[i]!.key);
      return { path, key: "__proto__", message: "expected another name than __proto__" };
    }
    for (const [k, x] of Object.entries(v)) {
      if (x === null || typeof x !== "object") continue;
      seen.push({ up: at, key: Array.isArray(v) ? Number(k) : k });
      todo.push([x, seen.length - 1]);
    }
  }
  return undefined;
}

/** Config text parsed (YAML, or JSON by file name) but not validated; throws when it does not parse. */
export function configValue(file: string, text: string): unknown {
  return parseText(file, text).value;
}

/** Validates config text; throws the first problem as one line (exit 78). */
export function validateConfig(file: string, text: string): ConfigFile {
  const { value, locate } = parseText(file, text);
  const proto = protoKey(value);
  const r = ConfigSchema.safeParse(value);
  const problems = proto !== undefined
    ? [proto]
    : r.success
    ? semanticProblems(r.data)
    : problemsOf(r.error.issues, value);
  const first = problems[0];
  if (first !== undefined) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    throw new InputError(`${locate(first)}: ${pointer(first.path)}: ${first.message}${more}`);
  }
  return r.data!;
}

/** The normalised form `--write-json` writes: every default filled in, plus who validated it and a digest. */
export function normalizeConfig(c: ConfigFile, version: string): Record<string, unknown> {
  const ic = toImageConfig(c);
  const body: Record<string, unknown> = {
    schema: CONFIG_SCHEMA,
    validatedBy: `chameleon ${version}`,
    user: ic.user,
    defaultWorkload: { ...ic.defaultWorkload },
    secretFiles: [...ic.secretFiles],
    ...ic.settings,
    overrides: c.overrides ?? [],
  };
  return { ...body, digest: configDigest(JSON.stringify(body)) };
}
