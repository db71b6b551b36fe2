/**
 * Signals as data and the one generic evaluator that turns a platform's table
 * of signals into a {@linkcode DetectorResult}. Adding a platform means adding
 * a table (one file) and a fixture, not new control flow.
 *
 * @module
 */

import type { DetectorResult, Evidence, Platform, Workload } from "../types.ts";
import type { World } from "../world.ts";
import { isSecretName, redactArgs, REDACTED } from "../secrets.ts";
import { parseJson, type Reader } from "../shape.ts";

/**
 * A link variable's value: `tcp://10.96.3.4:80`. For every Service of the pod's
 * namespace when the pod starts, Kubernetes gives each container (service links,
 * `enableServiceLinks`, on by default) `<SVC>_SERVICE_HOST`, `<SVC>_SERVICE_PORT`
 * and docker's link variables: `<SVC>_PORT=tcp://<cluster IP>:<port>`,
 * `<SVC>_PORT_<port>_TCP` with its `_PROTO`, `_PORT` and `_ADDR`, the name
 * upper-cased with dashes as underscores; docker's `--link` gives a linked
 * container's the same way. A pod's own `env` replaces one of the same name.
 */
const LINK_VALUE = /^(?:tcp|udp|sctp):\/\/\S+:\d+$/;

/**
 * Whether a variable holds a link variable's value where a port is meant: a name
 * ending in `_PORT` that holds `tcp://<ip>:<port>` was written for a Service (or
 * docker link) named by the rest of it (`MASTER_PORT` for `master`, `STATSD_PORT`
 * for `statsd`), never by anyone giving a port. Such a value counts as not
 * given wherever chameleon reads a port or fills a variable; the plan writes a
 * fill over it (plan.ts). The other names service links make (`_SERVICE_HOST`,
 * `_SERVICE_PORT`, `_PORT_<port>_TCP_...`) meet none that chameleon reads but
 * the `kubernetes` Service's own.
 */
export function isLinkValue(name: string, value: string | undefined): boolean {
  return value !== undefined && name.endsWith("_PORT") && LINK_VALUE.test(value);
}

/** What the value of `<NAME>_PORT` is: the link variable of the Service `<name>`, as it is named. */
function linkNote(name: string): string {
  const service = name.slice(0, -"_PORT".length).toLowerCase().replaceAll("_", "-");
  return `the link variable of a Service (or docker link) named ${service}, not a port`;
}

/**
 * The warning for a link variable the plan writes over or unsets.
 * `outcome` says what happens instead (`set to 8080`).
 */
export function linkWarning(name: string, value: string, outcome: string): string {
  return `${name} ${JSON.stringify(value)} is ${linkNote(name)}: ${outcome}`;
}

/** What an env signal asks of the variable's value besides being set and not empty. */
export interface EnvCondition {
  /** Equals one of these. */
  readonly equals?: readonly string[];
  /** Is a number >= this. */
  readonly atLeast?: number;
  /** Matches a pattern, named in `--explain` by `label`. */
  readonly form?: { readonly pattern: RegExp; readonly label: string };
}

/** One observable fact about the process or its files. */
export type Signal =
  /** An environment variable is set and not empty (and meets its condition, if any). */
  | ({ readonly kind: "env"; readonly name: string } & EnvCondition)
  /** A path exists; with `shape`, a present file is also checked and a problem is reported. */
  | { readonly kind: "path"; readonly path: string; readonly shape?: Reader<unknown> }
  /** A JSON file has a non-empty string `field` (optionally one of `equals`). */
  | {
    readonly kind: "json";
    readonly path: string;
    readonly field: string;
    readonly equals?: readonly string[];
  }
  /** The first argument is one of these words. */
  | { readonly kind: "argv"; readonly oneOf: readonly string[] }
  /** Every inner signal holds. */
  | { readonly kind: "all"; readonly of: readonly Signal[] }
  /** At least one inner signal holds. */
  | { readonly kind: "any"; readonly of: readonly Signal[] }
  /** Always holds (the `local` fallback and catch-all variants). */
  | { readonly kind: "always" };

/** A workload (and finer variant) that a platform's own signals give. */
export interface WorkloadRule {
  readonly workload: Workload;
  readonly variant: string;
  readonly when: Signal;
}

/** One platform: its signals as data. */
export interface PlatformTable {
  readonly platform: Platform;
  /** Where the signals come from (reference doc section and its sources). */
  readonly source: string;
  /** The platform matches when any of these holds (design section 2 "matches when"). */
  readonly match: readonly Signal[];
  /**
   * Workload rules, first match wins. Rules with workload "unknown" only name
   * a variant; they never count as the platform deciding the workload.
   */
  readonly workloads: readonly WorkloadRule[];
  /** Further signals shown as evidence; they decide nothing. */
  readonly evidence?: readonly Signal[];
}

/** Shorthand constructors, so tables read as data. */
export const env = (name: string, opts: EnvCondition = {}): Signal => ({
  kind: "env",
  name,
  ...opts,
});
/** A path exists. */
export const path = (p: string, shape?: Reader<unknown>): Signal =>
  shape === undefined ? { kind: "path", path: p } : { kind: "path", path: p, shape };
/** A JSON file field. */
export const json = (p: string, field: string, equals?: readonly string[]): Signal =>
  equals === undefined
    ? { kind: "json", path: p, field }
    : { kind: "json", path: p, field, equals };
/** The first argument. */
export const argv = (...oneOf: string[]): Signal => ({ kind: "argv", oneOf });
/** All of. */
export const all = (...of: Signal[]): Signal => ({ kind: "all", of });
/** Any of. */
export const any = (...of: Signal[]): Signal => ({ kind: "any", of });
/** Always. */
export const always: Signal = { kind: "always" };

interface Outcome {
  readonly holds: boolean;
  readonly evidence: Evidence;
}

/** A readable name for a signal, as `--explain` prints it. */
export function label(s: Signal): string {
  switch (s.kind) {
    case "env":
      if (s.equals !== undefined) return `env ${s.name}=${s.equals.join("|")}`;
      if (s.atLeast !== undefined) return `env ${s.name} >= ${s.atLeast}`;
      if (s.form !== undefined) return `env ${s.name} ${s.form.label}`;
      return `env ${s.name}`;
    case "path":
      return `file ${s.path}`;
    case "json":
      return `file ${s.path} field ${s.field}` +
        (s.equals === undefined ? "" : `=${s.equals.join("|")}`);
    case "argv":
      return `argv[0] ${s.oneOf.join("|")}`;
    case "all":
      return s.of.map(label).join(" and ");
    case "any":
      return `(${s.of.map(label).join(" or ")})`;
    case "always":
      return "always";
  }
}

/** Evaluates one signal against the world. */
export function evaluate(s: Signal, world: World): Outcome {
  const signal = label(s);
  switch (s.kind) {
    case "env": {
      const v = world.env(s.name);
      // A service link's `<SVC>_PORT=tcp://...` is no platform's signal (Kubernetes gives one
      // for each Service of the namespace): not found, and said why.
      const link = isLinkValue(s.name, v);
      const present = v !== undefined && v !== "" && !link;
      let holds = present;
      if (present && s.equals !== undefined) holds = s.equals.includes(v);
      if (present && s.atLeast !== undefined) holds = Number(v) >= s.atLeast;
      if (present && s.form !== undefined) holds = s.form.pattern.test(v);
      const value = v === undefined ? undefined : isSecretName(s.name) ? REDACTED : v;
      return {
        holds,
        evidence: {
          signal,
          found: holds,
          ...(value === undefined ? {} : { value }),
          ...(link ? { problem: linkNote(s.name) } : {}),
        },
      };
    }
    case "path": {
      if (!world.exists(s.path)) return { holds: false, evidence: { signal, found: false } };
      const problem = s.shape === undefined || world.isDir(s.path)
        ? undefined
        : fileProblem(world, s.path, s.shape);
      return { holds: true, evidence: { signal, found: true, ...(problem ? { problem } : {}) } };
    }
    case "json": {
      const f = world.file(s.path);
      if (f.kind === "missing") return { holds: false, evidence: { signal, found: false } };
      if (f.kind === "unreadable") {
        return { holds: false, evidence: { signal, found: false, problem: f.reason } };
      }
      const parsed = parseJson(f.text, (v) => v);
      if (!parsed.ok) {
        return { holds: false, evidence: { signal, found: false, problem: parsed.problem } };
      }
      const obj = parsed.value;
      const field = obj !== null && typeof obj === "object" && !Array.isArray(obj)
        ? (obj as Record<string, unknown>)[s.field]
        : undefined;
      if (typeof field !== "string" || field === "") {
        return {
          holds: false,
          evidence: { signal, found: false, problem: `file present without ${s.field}` },
        };
      }
      const holds = s.equals === undefined || s.equals.includes(field);
      return { holds, evidence: { signal, found: holds, value: field } };
    }
    case "argv": {
      const first = world.snapshot.argv[0];
      const holds = first !== undefined && s.oneOf.includes(first);
      // The word as the command display shows it: `--hf-token=X` keeps X hidden.
      const value = first === undefined ? undefined : redactArgs([first])[0]!;
      return {
        holds,
        evidence: { signal, found: holds, ...(value === undefined ? {} : { value }) },
      };
    }
    case "all":
    case "any": {
      const inner = s.of.map((x) => evaluate(x, world));
      const holds = s.kind === "all" ? inner.every((o) => o.holds) : inner.some((o) => o.holds);
      const problems = inner.flatMap((o) => o.evidence.problem ?? []);
      const mixed = inner.some((o) => o.evidence.found) && inner.some((o) => !o.evidence.found);
      return {
        holds,
        evidence: {
          signal,
          found: holds,
          ...(problems.length ? { problem: problems.join("; ") } : {}),
          ...(mixed ? { parts: inner.map((o) => o.evidence) } : {}),
        },
      };
    }
    case "always":
      return { holds: true, evidence: { signal, found: true } };
  }
}

function fileProblem(world: World, p: string, shape: Reader<unknown>): string | undefined {
  const f = world.file(p);
  if (f.kind === "unreadable") return f.reason;
  if (f.kind === "missing") return undefined;
  const parsed = parseJson(f.text, shape);
  return parsed.ok ? undefined : parsed.problem;
}

/** One table's result, and its workload rules that hold, in table order. */
export interface TableRun {
  readonly result: DetectorResult;
  /** detect() needs more than the first (a forced platform, a forced or argv workload's variant). */
  readonly holding: readonly WorkloadRule[];
}

/**
 * Runs one platform table: whether it matches, the evidence for every signal it
 * declares (each shown once, a rule's after the first that holds included), the
 * workload and variant its signals give, and every workload rule that holds
 * (each signal evaluated once).
 */
export function runTable(table: PlatformTable, world: World): TableRun {
  const seen = new Map<string, Outcome>();
  const check = (s: Signal): boolean => {
    const key = label(s);
    let o = seen.get(key);
    if (o === undefined) seen.set(key, o = evaluate(s, world));
    return o.holds;
  };
  const matched = table.match.map(check).some(Boolean);
  // Every rule, past the first that holds too: a signal a higher rule outranked is shown.
  const holding = table.workloads.filter((r) => check(r.when));
  const rule = holding[0];
  for (const s of table.evidence ?? []) check(s);
  const evidence = [...seen.values()].filter((o) => o.evidence.signal !== "always").map((o) =>
    o.evidence
  );
  if (!matched) return { result: { platform: table.platform, matched, evidence }, holding };
  return {
    result: {
      platform: table.platform,
      matched,
      evidence,
      ...(rule === undefined ? {} : { workload: rule.workload, variant: rule.variant }),
    },
    holding,
  };
}
