/**
 * `--explain` output: `chameleon.explain/v1` JSON (design section 5) and a text view
 * for a terminal. Pure: the caller prints.
 *
 * @module
 */

import { visibleText } from "./errors.ts";
import { shownLine } from "./log.ts";
import { scrubber, scrubDeep, secretForms } from "./secrets.ts";
import type { Detection, DetectorResult, Evidence, Plan } from "./types.ts";

// The text view's marks, escaped: the sources stay ASCII, which Deno loads
// without decoding (a test keeps them so; bench/RESULTS.md has the cost).
const CHOSEN = "\u25b6"; // black right-pointing triangle
const FOUND = "\u2713"; // check mark
const MISSING = "\u2717"; // ballot x
const DOT = "\u00b7"; // middle dot

/** Where the config came from, for the explain header. */
export interface ConfigInfo {
  /** The file used, or null for the built-in defaults. */
  readonly file: string | null;
  /** Whether the normalised JSON was trusted without re-validation. */
  readonly validated?: "digest" | "schema";
}

/** Everything an explanation shows. */
export interface Explanation {
  readonly version: string;
  readonly detection: Detection;
  readonly plan: Plan;
  readonly config: ConfigInfo;
  /** The replayed snapshot file, when replaying. */
  readonly snapshot?: string;
  /** Why a real start would not adapt anything (CHAMELEON_DISABLE, nested start). */
  readonly bypass?: string;
}

function octal(mode: number | null): string | null {
  return mode === null ? null : "0" + mode.toString(8).padStart(3, "0");
}

/** The `chameleon.explain/v1` document. */
export function explainJson(e: Explanation): Record<string, unknown> {
  const { detection: d, plan: p } = e;
  const doc = {
    schema: "chameleon.explain/v1",
    version: e.version,
    context: d.context,
    facts: d.facts,
    detectors: d.detectors,
    config: {
      file: e.config.file,
      validated: e.config.validated ?? null,
      overrides: p.notes["overrides"] ?? [],
    },
    ...(e.snapshot === undefined ? {} : { snapshot: e.snapshot }),
    ...(e.bypass === undefined ? {} : { bypass: e.bypass }),
    plan: {
      env: p.envDisplay,
      unset: p.unset,
      user: p.user,
      files: p.files.map((f) => ({ path: f.path, mode: f.mode, content: f.display ?? f.content })),
      steps: p.steps,
      mode: p.mode,
      modeReason: p.modeReason,
      cwd: p.cwd,
      command: p.commandDisplay,
      warnings: p.warnings,
      shell: p.shell,
      dirs: p.dirs,
      umask: octal(p.umask),
      runtimeDir: p.runtimeDir,
      failureReport: p.failureReport?.path ?? null,
      notes: Object.fromEntries(Object.entries(p.notes).filter(([k]) => k !== "overrides")),
    },
  };
  // Scrubbed value by value: replacing inside the serialised text could break the JSON. In every
  // form, as the text view: a value may hold a secret's JSON-escaped copy (APP_SETTINGS='{...}').
  return scrubDeep(doc, secretForms(p.secrets));
}

interface Paint {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

const plain: Paint = { bold: (s) => s, dim: (s) => s, green: (s) => s, yellow: (s) => s };
// The colours are private-use marks while the lines are made, turned into SGR codes only after
// the control characters of the text were escaped: a value's own ESC stays visible text.
const SGR: Readonly<Record<string, string>> = {
  "\ue000": "\x1b[1m",
  "\ue001": "\x1b[2m",
  "\ue002": "\x1b[22m",
  "\ue003": "\x1b[32m",
  "\ue004": "\x1b[33m",
  "\ue005": "\x1b[39m",
};
// A value's own characters in that range, and the escape mark U+E006 itself, get the escape mark
// before them while the lines are made, and come out as themselves: data never colours.
const MARKED = /[\ue000-\ue006]/g;
const MARKS = /\ue006([\ue000-\ue006])|[\ue000-\ue005]/g;

/** `v` with the colour-mark characters of its strings escaped (plain data: arrays and records). */
function escapeMarks<T>(v: T): T {
  if (typeof v === "string") return v.replace(MARKED, "\ue006$&") as T;
  if (Array.isArray(v)) return v.map(escapeMarks) as T;
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [escapeMarks(k), escapeMarks(x)]),
  ) as T;
}

const ansi: Paint = {
  bold: (s) => `\ue000${s}\ue002`,
  dim: (s) => `\ue001${s}\ue002`,
  green: (s) => `\ue003${s}\ue005`,
  yellow: (s) => `\ue004${s}\ue005`,
};

/** Quotes an argv word for display when it needs it. */
export function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

function bytes(n: number | null): string {
  if (n === null) return "unlimited";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) [v, u] = [v / 1024, u + 1];
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

/** Wraps `items` after a prefix so each line stays within `width` columns. */
function wrap(prefix: string, items: readonly string[], width = 100): string[] {
  const lines: string[] = [];
  let line = prefix;
  for (const it of items) {
    const sep = line === prefix ? "" : ` ${DOT} `;
    if (line !== prefix && line.length + sep.length + it.length > width) {
      lines.push(line);
      line = " ".repeat(prefix.length) + it;
    } else line += sep + it;
  }
  lines.push(line);
  return lines;
}

function detectorLines(r: DetectorResult, chosen: boolean, c: Paint): string[] {
  const mark = chosen ? c.green(CHOSEN) : r.matched ? FOUND : c.dim(MISSING);
  const state = chosen ? c.green("matched, chosen") : r.matched ? "matched" : c.dim("no match");
  const lines = [`  ${mark} ${r.platform.padEnd(11)}${state}`];
  if (r.error) lines.push(c.yellow(`      detector failed: ${r.error}`));
  // A line of its own for what was found, and for what is there without holding (a value that
  // does not match, a file with a problem, a composite with one half missing).
  const shown = (e: Evidence) =>
    e.found || e.problem !== undefined || e.parts !== undefined || (e.value ?? "") !== "";
  for (const ev of r.evidence.filter(shown)) {
    // A value that is there without holding (`env X=true` set to false) says so.
    const value = ev.value === undefined ? "" : ev.found ? ` = ${ev.value}` : `  (is ${ev.value})`;
    const problem = ev.problem !== undefined ? c.yellow(`  (${ev.problem})`) : "";
    lines.push(
      `      ${ev.found ? c.green(FOUND) : c.dim(MISSING)} ${ev.signal}${value}${problem}`,
    );
    // A composite with one half missing: which half, each part with its value.
    for (const part of ev.parts ?? []) {
      const v = part.value !== undefined ? ` = ${part.value}` : "";
      lines.push(c.dim(`          ${part.found ? "found" : "not found"}: ${part.signal}${v}`));
    }
  }
  const missing = r.evidence.filter((e) => !shown(e)).map((e) => e.signal);
  if (missing.length > 0) lines.push(...wrap(`      ${MISSING} not found: `, missing).map(c.dim));
  return lines;
}

/** The text view. */
export function explainText(shown: Explanation, color: boolean): string {
  const c = color ? ansi : plain;
  const e = escapeMarks(shown);
  const { detection: d, plan: p } = e;
  const ctx = d.context;
  const out: string[] = [];
  const section = (title: string) => out.push("", c.bold(title));
  // A name longer than the column still gets a blank before its value.
  const row = (k: string, v: string) => out.push(`  ${k.padEnd(10)} ${v}`);
  const hideInWord = scrubber(p.secrets);

  out.push(
    c.bold(`chameleon ${e.version} --explain`) +
      (e.snapshot ? `  (replaying ${e.snapshot})` : "  (live system)"),
  );
  if (e.bypass) out.push(c.yellow(`  note: ${e.bypass}`));
  section("Context");
  row("id", c.green(ctx.id) + (ctx.variant ? `  (${ctx.variant})` : ""));
  const why = ctx.source === "forced"
    ? `the ${
      ctx.forced.join(" and ")
    } by --context/--workload or CHAMELEON_CONTEXT/CHAMELEON_WORKLOAD`
    : ctx.source === "argv"
    ? "the first argument is a workload word"
    : ctx.source === "config"
    ? "the image config's default workload for the platform"
    : ctx.workload === "unknown"
    ? "no signal, argument or config default names a workload"
    : "the platform's own signals";
  row("source", `${ctx.source}: ${why}`);
  row(
    "config",
    e.config.file === null
      ? "built-in defaults (no config file)"
      : `${e.config.file} (${
        e.config.validated === "digest" ? "normalised by --check-config" : "validated now"
      })`,
  );
  const overrides = (p.notes["overrides"] ?? []) as string[];
  if (overrides.length > 0) row("overrides", overrides.join(", "));

  section("Detectors (in precedence order; the first match wins)");
  for (const r of d.detectors) {
    out.push(
      ...detectorLines(r, r.platform === ctx.platform && !ctx.forced.includes("platform"), c),
    );
  }

  section("Facts");
  const f = d.facts;
  row("pid1", f.pid1 ? "yes" : "no");
  row("init", f.init ?? "none");
  row("container", f.container ?? "none detected");
  row("openshift", f.openshift ? "yes" : "no");
  row("cpus", f.cpus === null ? "no quota" : `${f.cpus} (quota, cgroup ${f.cgroup})`);
  row("online", `${f.onlineCpus} CPU${f.onlineCpus === 1 ? "" : "s"}`);
  row("memory", bytes(f.memoryBytes));
  row("gpus", String(f.gpus));
  for (const problem of f.problems ?? []) row("problem", problem);

  section("Plan");
  row("mode", `${p.mode}: ${p.modeReason}`);
  row(
    "command",
    p.commandDisplay === null
      ? c.yellow(`none (${p.notes["commandMissing"] ?? "nothing to run"})`)
      // Scrubbed before quoting, which would change how a secret holding a quote is written.
      : p.commandDisplay.map((w) => shellWord(hideInWord(w))).join(" "),
  );
  row("cwd", p.cwd ?? "unchanged");
  row(
    "user",
    p.user === null
      ? "unchanged"
      : `${p.user.name} (${p.user.uid}:${p.user.gid}, groups ${
        p.user.groups.join(",")
      }, home ${p.user.home})`,
  );
  if (p.umask !== null) row("umask", octal(p.umask)!);
  row("runtime", p.runtimeDir);
  if (p.failureReport) row("failures", `reported to ${p.failureReport.path}`);
  const names = Object.keys(p.envDisplay).sort();
  out.push(`  env${names.length === 0 ? "        (no changes)" : ""}`);
  for (const n of names) out.push(`    ${n}=${p.envDisplay[n]}`);
  if (p.unset.length > 0) row("unset", p.unset.join(", "));
  for (const dir of p.dirs) row("folder", `${dir.path} (${dir.mode})`);
  for (const file of p.files) row("file", `${file.path} (${file.mode})`);
  for (const s of p.steps) row("step", stepText(s as unknown as Record<string, unknown>));
  for (const [k, v] of Object.entries(p.notes)) {
    if (k === "overrides" || k === "commandMissing") continue;
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      row(k, typeof v === "string" ? v : JSON.stringify(v));
      continue;
    }
    // A section (such as spark): one line per entry, nested one level.
    out.push(`  ${k}`);
    for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) {
      if (v2 !== null && typeof v2 === "object" && !Array.isArray(v2)) {
        out.push(`    ${k2}`);
        for (const [k3, v3] of Object.entries(v2)) {
          out.push(`      ${k3} = ${typeof v3 === "string" ? v3 : JSON.stringify(v3)}`);
        }
      } else out.push(`    ${k2} = ${Array.isArray(v2) ? v2.join(", ") : String(v2)}`);
    }
  }
  // Cut as the log cuts a warning line (errors.ts shortLine): one quoting a 128 KiB value would
  // make the line as long. Scrubbed and escaped first, as the log does: a secret cut in two would
  // be found by no scrubbing, and the cut counts the escapes. From the warnings as given (their
  // colour marks not yet escaped), so a cut cannot part an escape mark from its character.
  // explainJson() keeps them whole.
  const forms = secretForms(shown.plan.secrets);
  const hideInWarning = scrubber(forms);
  for (const w of shown.plan.warnings) {
    out.push(c.yellow(escapeMarks(shownLine(hideInWarning(`  warning: ${w}`)))));
  }
  // JSON-escaped forms too: notes print nested values as JSON. Scrubbed line by line before
  // the escaping, which would change how a secret holding a control character is written.
  // Each form of a secret escaped as the lines are: a value written in JSON with `\ue006` (as
  // SM_HPS is) holds no mark to escape, so the forms of the escaped secret would miss it.
  const secrets = forms.map(escapeMarks)
    .sort((a, b) => b.length - a.length);
  const hide = scrubber(secrets);
  const text = out.map((line) => visibleText(hide(line))).join("\n") + "\n";
  return text.replace(MARKS, (m, own?: string) => own ?? (color ? SGR[m]! : ""));
}

function stepText(s: Record<string, unknown>): string {
  const { step, ...rest } = s;
  return `${step} ${
    Object.entries(rest).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`)
      .join(" ")
  }`;
}
