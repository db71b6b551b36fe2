/**
 * The snapshot layer: the only code that reads the world. It records the
 * environment, argv, ids, host name, addresses and exactly the declared paths
 * into a `chameleon.snapshot/v1` (design section 4); it also loads one from a file
 * (`--snapshot`) and writes one with secrets redacted (`--capture`).
 *
 * @module
 */

import { configDigest, DEFAULT_CONFIG, digestedConfig, type ImageConfig } from "./config.ts";
import { SA_DIR } from "./contexts/kubernetes.ts";
import { InputError } from "./errors.ts";
import { mergeDecls, type PathDecl, type PathForcing, type PathSource } from "./paths.ts";
import {
  envSecrets,
  hideSecretNumbers,
  hideSecretPairs,
  isSecretName,
  NUMBER_PLACEHOLDER,
  redactArgs,
  redactArgsText,
  REDACTED,
  redactJsonText,
  redactPyValue,
  scrubber,
  secretFileValue,
  secretForms,
  secretsInArgs,
  secretsInJson,
} from "./secrets.ts";
import {
  array,
  bool,
  literal,
  object,
  optional,
  parseJson,
  pointerToken,
  record,
  str,
  uint,
  uintUpTo,
} from "./shape.ts";
import { PyFloat, PyInt, pyLoads, type PyValue } from "./pyjson.ts";
import { writeOutput } from "./sys/files.ts";
import {
  bytesFromOffset,
  type BytesState,
  descriptorIdentity,
  isSymlink,
  listDir,
  type Looked,
  openLook,
  pathIdentity,
  pathKind,
  procStatusField,
  readFileOnly,
  readOpen,
  statPath,
  utf8Text,
} from "./sys/fs.ts";
import { ERRNO, errno, errnoText, SYS, sys } from "./sys/libc.ts";
import { ownDescriptor, readStreamFrom, unreadableDescriptor } from "./sys/stream.ts";
import type { Snapshot, StatEntry } from "./types.ts";
import { isHostAddress, MAX_ID, MAX_VALUE_BYTES, utf8Length, YAML_NAME } from "./types.ts";
import { type FileState, World } from "./world.ts";

/** Files read from the platform are bounded to this many bytes (design section 8). */
export const FILE_LIMIT = 1024 * 1024;
/**
 * The image's user and group files may be larger: an image whose users are
 * synced from a directory service (LDAP) lists tens of thousands (50,000
 * users are some 4 MB). Over 1 MiB they were unreadable, so an OpenShift uid
 * got no passwd entry and a switch none of its groups. Two of these still fit
 * in a snapshot file.
 */
export const IDENTITY_FILE_LIMIT = 16 * 1024 * 1024;
const IDENTITY_FILES: ReadonlySet<string> = new Set(["/etc/passwd", "/etc/group"]);

/** How many bytes of the file at `path` a start reads. */
export function readLimit(path: string): number {
  return IDENTITY_FILES.has(path) ? IDENTITY_FILE_LIMIT : FILE_LIMIT;
}

/** Why a snapshot file's bytes give no text. */
const NOT_UTF8 = "not valid UTF-8 (JSON text must be)";

/** A snapshot file itself may be larger: it holds many files. */
const SNAPSHOT_FILE_LIMIT = 64 * 1024 * 1024;

/** A user or group id as the kernel takes it (2^32 - 1 means "no id"). */
const id = uintUpTo(MAX_ID);

const SNAPSHOT_SHAPE = object({
  schema: literal("chameleon.snapshot/v1"),
  argv: optional(array(str)),
  env: optional(record(str)),
  files: optional(record(str)),
  dirs: optional(array(str)),
  stat: optional(record(object({
    uid: id,
    gid: id,
    mode: str,
    readOnly: optional(bool),
  }, true))),
  uid: optional(id),
  gid: optional(id),
  groups: optional(array(id)),
  hostname: optional(str),
  addresses: optional(array(str)),
  pid: optional(uint),
  unreadable: optional(record(str)),
}, true);

/**
 * The fewest bytes a file could have had for a live start to record `text`:
 * its UTF-8 length, with each U+FFFD as one byte (an invalid byte decodes to
 * one). Not corrected: a capture's `<redacted>` in a file right at the limit
 * may make it a few bytes longer than the one the live start read.
 */
function fewestBytes(text: string): number {
  let replaced = 0;
  for (let i = text.indexOf("\ufffd"); i >= 0; i = text.indexOf("\ufffd", i + 1)) replaced++;
  return utf8Length(text) - 2 * replaced;
}

/** The first path a snapshot holds that is not absolute, if any. */
export function relativePath(
  s: Pick<Partial<Snapshot>, "files" | "dirs" | "stat" | "unreadable">,
): string | undefined {
  return relativeField(s)?.path;
}

/**
 * The first path a snapshot holds that is not absolute, with its field as a JSON pointer and
 * what was expected there (design 4: an error names the key).
 */
function relativeField(
  s: Pick<Partial<Snapshot>, "files" | "dirs" | "stat" | "unreadable">,
): { path: string; problem: string } | undefined {
  for (const name of ["files", "stat", "unreadable"] as const) {
    const key = Object.keys(s[name] ?? {}).find((p) => !p.startsWith("/"));
    if (key !== undefined) {
      return {
        path: key,
        problem: `/${name}${pointerToken(key)}: expected an absolute path as the key, got ${
          JSON.stringify(key)
        }`,
      };
    }
  }
  const i = (s.dirs ?? []).findIndex((p) => !p.startsWith("/"));
  if (i < 0) return undefined;
  const path = s.dirs![i]!;
  return { path, problem: `/dirs/${i}: expected an absolute path, got ${JSON.stringify(path)}` };
}

/** Parses and checks a snapshot file's text; errors name the file and the key (exit 78). */
export function parseSnapshot(text: string, file: string): Snapshot {
  const parsed = parseJson(text, SNAPSHOT_SHAPE);
  if (!parsed.ok) throw new InputError(`Snapshot ${file}: ${parsed.problem}`);
  const s = parsed.value;
  for (const [path, st] of Object.entries(s.stat ?? {})) {
    if (!/^0?[0-7]{3,4}$/.test(st.mode)) {
      throw new InputError(
        `Snapshot ${file}: /stat${
          pointerToken(path)
        }/mode: expected octal text such as "0755", got ${JSON.stringify(st.mode)}`,
      );
    }
  }
  // Design 4: the host's non-loopback IPv4 addresses; a replay would plan any other text as a
  // host another node reaches (a main node's address).
  const address = (s.addresses ?? []).findIndex((a) => !isHostAddress(a));
  if (address >= 0) {
    throw new InputError(
      `Snapshot ${file}: /addresses/${address}: expected a non-loopback IPv4 address such as "10.0.1.23", got ${
        JSON.stringify(s.addresses![address])
      }`,
    );
  }
  // No process has id 0: a snapshot's pid is one the kernel gives (1 in a container's own).
  if (s.pid === 0) {
    throw new InputError(`Snapshot ${file}: /pid: expected a process id from 1, got number 0`);
  }
  const relative = relativeField(s);
  if (relative !== undefined) throw new InputError(`Snapshot ${file}: ${relative.problem}`);
  // A live snapshot records a file as read or as unreadable, never both: either would be a guess.
  const both = Object.keys(s.unreadable ?? {}).find((p) => Object.hasOwn(s.files ?? {}, p));
  if (both !== undefined) {
    throw new InputError(
      `Snapshot ${file}: /unreadable${
        pointerToken(both)
      }: expected a path that is not also in /files (it is read, or it is not)`,
    );
  }
  const gid = s.gid ?? 0;
  // A file over the live limit is what a live start would have found unreadable.
  const files: Record<string, string> = {};
  const unreadable: Record<string, string> = { ...s.unreadable };
  for (const [path, text] of Object.entries(s.files ?? {})) {
    const limit = readLimit(path);
    if (text.length * 3 > limit && fewestBytes(text) > limit) {
      unreadable[path] = `larger than ${limit} bytes`;
    } else files[path] = text;
  }
  return {
    schema: "chameleon.snapshot/v1",
    argv: s.argv ?? [],
    env: s.env ?? {},
    files,
    dirs: s.dirs ?? [],
    stat: s.stat ?? {},
    uid: s.uid ?? 0,
    gid,
    groups: s.groups ?? [gid],
    hostname: s.hostname ?? "localhost",
    addresses: s.addresses ?? [],
    pid: s.pid ?? 1,
    ...(Object.keys(unreadable).length === 0 ? {} : { unreadable }),
  };
}

/**
 * Reads a snapshot file (`--snapshot FILE`), at most SNAPSHOT_FILE_LIMIT
 * bytes, as {@linkcode readNamed} reads what the user names: opened once
 * without waiting, then a regular file is read at once (one over the limit
 * refused unread) and anything else (`-` for standard input, a pipe such as
 * `<(...)`, `/dev/stdin`, a device) as it comes, without waiting on the main
 * thread (SIGTERM still ends a replay whose pipe has no writer yet), and
 * counted: its size says nothing.
 */
export async function loadSnapshot(file: string): Promise<Snapshot> {
  const r = await readNamed(
    file,
    SNAPSHOT_FILE_LIMIT,
    (is) => is.kind === "dir" ? "is a folder, expected a file" : undefined,
  );
  if (r.kind !== "ok") {
    throw new InputError(`Snapshot ${file}: ${r.kind === "missing" ? "no such file" : r.reason}`);
  }
  const text = utf8Text(r.bytes);
  if (text === undefined) throw new InputError(`Snapshot ${file}: ${NOT_UTF8}`);
  return parseSnapshot(text, file);
}

interface Recorder {
  files: Record<string, string>;
  dirs: Set<string>;
  stat: Record<string, StatEntry>;
  unreadable: Record<string, string>;
  /** The identities of the service account's token: it is never read, by whatever name. */
  tokens: ReadonlySet<string>;
}

function octal(mode: number): string {
  return "0" + mode.toString(8).padStart(3, "0");
}

function record1(
  rec: Recorder,
  kind: "read" | "exists" | "stat",
  path: string,
  secret = false,
): void {
  if (kind === "read") {
    const r = readChecked(path, rec.tokens);
    // Design section 4: a device node, FIFO or socket is an entry with empty content; but a
    // secret's is there and not read, which the plan that wants its value says.
    if ((r.kind === "special" || r.kind === "changed") && secret) {
      delete rec.files[path];
      rec.unreadable[path] = SPECIAL_NOT_READ;
    } else if (r.kind === "special" || r.kind === "changed") rec.files[path] = "";
    else if (r.kind === "ok") rec.files[path] = r.text;
    else if (r.kind === "unreadable") {
      if (r.reason === "is a directory") rec.dirs.add(path);
      else {
        // Found to exist by an earlier pass: unreadable now says more (never both).
        delete rec.files[path];
        rec.unreadable[path] = r.reason;
      }
    }
    return;
  }
  if (kind === "stat") {
    const st = statPath(path);
    if (st === null) return;
    rec.stat[path] = {
      uid: st.uid,
      gid: st.gid,
      mode: octal(st.mode),
      ...(st.readOnly ? { readOnly: true } : {}),
    };
    if (st.isDir) rec.dirs.add(path);
    else if (!(path in rec.files) && !(path in rec.unreadable)) rec.files[path] = "";
    return;
  }
  const k = pathKind(path);
  if (k === "dir") rec.dirs.add(path);
  else if (k === "file" && !(path in rec.files) && !(path in rec.unreadable)) rec.files[path] = "";
}

/**
 * `path` read as a start reads a platform file. A device node, FIFO or socket
 * is `special` and never opened (a FIFO would block the start, a device may act
 * on being opened); what is opened is asked again, and one that became such a
 * file since its check (a shared volume, a home) is `changed` and not read. A
 * service account's token, reached by its name, a link or a path naming it, is
 * there and not read, which a plan that asked to read it says (a config path,
 * an opted-in VAR_FILE), rather than taking it for an empty file. A link whose
 * target is gone is there but cannot be read: a config or platform file someone
 * put in place, whose absence would otherwise pass for "not given".
 */
function readChecked(
  path: string,
  tokens: ReadonlySet<string>,
): FileState | { readonly kind: "special" } | { readonly kind: "changed" } {
  const at = pathIdentity(path);
  if (at.kind === "missing") {
    return isSymlink(path) ? { kind: "unreadable", reason: DANGLING } : { kind: "missing" };
  }
  if (at.kind === "special") return { kind: "special" };
  if (at.kind === "file" && (SA_TOKEN.test(path) || tokens.has(at.id))) {
    return { kind: "unreadable", reason: TOKEN_NOT_READ };
  }
  const r = readFileOnly(path, readLimit(path), tokens);
  if (r.kind === "special") return { kind: "changed" };
  return r.kind === "missing" && isSymlink(path) ? { kind: "unreadable", reason: DANGLING } : r;
}

/** Why a service account's token at a path read for the snapshot has no content there. */
export const TOKEN_NOT_READ = "a service account's token, which a start never reads";

/**
 * Why a secret's file (an opted-in VAR_FILE) that is a FIFO, socket or device
 * has no content in the snapshot: recorded empty, it would set nothing.
 */
export const SPECIAL_NOT_READ =
  "not a regular file (a FIFO, socket or device), which a start never reads for a secret";

/** Why a dangling symbolic link cannot be read. */
export const DANGLING = "a symbolic link whose target does not exist";

/** A service account's token (Kubernetes, EKS): its content is never read. */
const SA_TOKEN = /\/serviceaccount\/token$/;

/**
 * Whether a file found in a listed folder is a service account's token by
 * where its links lead (a folder the user names, such as SPARK_CONF_DIR, may
 * be a token's own or hold a link to one).
 */
function leadsToToken(path: string): boolean {
  try {
    return SA_TOKEN.test(Deno.realPathSync(path));
  } catch {
    return false;
  }
}

/** Token files whose content a snapshot never holds: the pod's own, EKS's and Azure's workload identity. */
const TOKEN_FILES = [
  `${SA_DIR}/token`,
  "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
  "/var/run/secrets/azure/tokens/azure-identity-token",
];

/** Variables that name a token file: AWS web identity and pod identity, Azure workload identity. */
const TOKEN_FILE_VARS = [
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
  "AZURE_FEDERATED_TOKEN_FILE",
];

/**
 * The identities of the token files (those above and the ones the
 * variables name). The pod's folder holds links (`token -> ..data/token`), so
 * a token file itself has another name; a config path may lead to it too.
 */
function tokenIds(env: Readonly<Record<string, string>>): Set<string> {
  const named = TOKEN_FILE_VARS.map((k) => env[k])
    .filter((p): p is string => p !== undefined && p.startsWith("/"));
  const ids = new Set<string>();
  for (const path of [...TOKEN_FILES, ...named]) {
    const t = pathIdentity(path);
    if (t.kind === "file") ids.add(t.id);
  }
  return ids;
}

function recordAll(rec: Recorder, decls: readonly PathDecl[]): void {
  for (const d of mergeDecls(decls)) {
    if (d.kind !== "list") {
      record1(rec, d.kind, d.path, d.kind === "read" && d.secret === true);
      continue;
    }
    const names = listDir(d.path);
    if (names === null) continue;
    rec.dirs.add(d.path);
    for (const n of names.sort()) {
      if (d.match !== undefined && !d.match.test(n)) continue;
      const path = `${d.path}/${n}`;
      record1(rec, d.each === "read" && leadsToToken(path) ? "exists" : d.each, path);
      // A link to nothing is there (a hook someone put in place): said, rather than passed over.
      if (d.each === "stat" && !(path in rec.stat) && pathIdentity(path).kind === "missing") {
        if (isSymlink(path)) rec.unreadable[path] = DANGLING;
      }
    }
  }
}

/** Supplementary groups, from /proc/self/status (no extra libc symbol needed). */
function liveGroups(gid: number): number[] {
  const line = procStatusField("Groups") ?? "";
  const groups = line.split(/\s+/).filter((g) => g !== "").map(Number);
  return groups.includes(gid) ? groups : [gid, ...groups];
}

function liveAddresses(): string[] {
  try {
    return Deno.networkInterfaces()
      .filter((i) => i.family === "IPv4" && isHostAddress(i.address))
      .map((i) => i.address);
  } catch {
    return [];
  }
}

/**
 * Takes a live snapshot: process facts (`env` is the environment main.ts
 * read once), then the static declarations, then the dynamic ones, which may
 * depend on what the first pass found and on the image config read from it
 * (`configOf` gives the defaults for a broken one).
 */
export async function takeSnapshot(
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  sources: readonly PathSource[],
  configOf: (world: World) => Promise<ImageConfig> = () => Promise.resolve(DEFAULT_CONFIG),
  forcing: PathForcing = {},
): Promise<Snapshot> {
  const uid = Deno.uid() ?? 0;
  const gid = Deno.gid() ?? 0;
  // The process facts are taken once; only the recorded paths grow between the passes.
  const processFacts = {
    schema: "chameleon.snapshot/v1",
    argv: [...argv],
    env: { ...env },
    uid,
    gid,
    groups: liveGroups(gid),
    hostname: Deno.hostname(),
    addresses: liveAddresses(),
    pid: Deno.pid,
  } as const;
  const rec: Recorder = {
    files: {},
    dirs: new Set(),
    stat: {},
    unreadable: {},
    tokens: tokenIds(env),
  };
  recordAll(rec, sources.flatMap((s) => s.paths ?? []));
  const build = (): Snapshot => ({
    ...processFacts,
    files: { ...rec.files },
    dirs: [...rec.dirs].sort(),
    stat: { ...rec.stat },
    ...(Object.keys(rec.unreadable).length ? { unreadable: { ...rec.unreadable } } : {}),
  });
  const first = new World(build());
  const config = await configOf(first);
  recordAll(rec, sources.flatMap((s) => s.dynamicPaths?.(first, config, forcing) ?? []));
  return build();
}

/** What a capture hides besides what the snapshot itself shows to be secret. */
export interface CaptureSecrets {
  /** Opted-in secret files: their content is dropped. */
  readonly secretFiles?: readonly string[];
  /** Values hidden wherever they appear (the loaded config's secret-named fields). */
  readonly values?: Iterable<string>;
  /**
   * Values found in files (the config's secret-named fields, an adapter's): a
   * short number among them, hidden nowhere else, is hidden in the text of
   * captured files (its own place is one), but JSON (hidden where it stands)
   * and the system's files, whose numbers are ids and limits.
   */
  readonly fromFiles?: Iterable<string>;
  /**
   * Files whose format an adapter knows (a Spark conf folder's): how each
   * hides its secret-named keys' values where they stand, by path, instead
   * of the generic pair reader.
   */
  readonly hiders?: ReadonlyMap<string, (text: string) => string>;
  /** The image config's path: YAML unless it ends in `.json`, whatever its name. */
  readonly config?: string;
  /** Values hidden in one file only: a configured command's flag values, in the config's text. */
  readonly inFile?: { readonly path: string; readonly values: readonly string[] };
  /** argv as `--explain` shows it (a configured flag's value may be an argument). */
  readonly argv?: readonly string[];
  /**
   * The normalised config the start trusted by its digest: what the capture
   * hides in it gets a digest of its own, so that the replay trusts it alike.
   */
  readonly trustedConfig?: string;
}

/**
 * A copy fit for sharing (`--capture`): secret env values, secret-named JSON
 * fields and the given values replaced wherever they appear, an env value's
 * JSON with a secret-named dict redacted whole, a secret flag's value in its
 * command-line word, and the content of secret files dropped.
 */
export function redactSnapshot(s: Snapshot, hide: CaptureSecrets = {}): Snapshot {
  // A set: each file looked up in a list was files times secret files (8,000 of each: 8 s).
  const secretFiles = new Set(hide.secretFiles ?? []);
  // First gather every secret value: secret-named variables, secret-named
  // fields of JSON values (env values like SM_HPS or ML_HPS, JSON files, read
  // with Python's NaN) and the contents of secret files; then replace each
  // wherever a copy appears.
  const known = envSecrets(s.env, new Set(hide.values ?? []));
  for (const [path, text] of Object.entries(s.files)) {
    if (secretFiles.has(path)) known.add(secretFileValue(text));
    else if (path.endsWith(".json")) secretsInJson(text, known);
  }
  secretsInArgs(s.argv, known);
  const forms = textForms(known);
  const hideForms = scrubber(forms);
  const env: Record<string, string> = {};
  // Secrets shorter than 4 characters would garble unrelated text: only their own variable is
  // replaced. An empty one hides nothing and stays empty: set to "" counts as unset (fills come in,
  // VAR_FILE may be used), and "<redacted>" would replay as a value given.
  for (const [k, v] of Object.entries(s.env)) {
    env[k] = isSecretName(k) && v !== ""
      ? REDACTED
      : hideForms(redactedJsonValue(v) ?? redactArgsText(v) ?? v);
  }
  const files: Record<string, string> = {};
  const local = hide.inFile === undefined ? [] : textForms(hide.inFile.values, true);
  const fromFiles = textForms(hide.fromFiles ?? [], true);
  // Paths and the host name are scrubbed like the values: a secret that is also a user's
  // name stays out of `/home/<name>`, and the paths still meet the scrubbed HOME on replay.
  const path = hideForms;
  const keys = <T>(o: Readonly<Record<string, T>>, value: (v: T) => T = (v) => v) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [path(k), value(v)]));
  // Each file is scrubbed once, with every list that applies to it longest first: one list
  // scrubbed before another cut a longer secret of the other that holds one of its own
  // (`abcd-long-pw` left as `<redacted>-long-pw` by a config's `API_TOKEN: abcd`).
  const longestFirst = (...lists: string[][]) =>
    [...new Set(lists.flat())].sort((a, b) => b.length - a.length);
  // Each indexed once, when a file first needs it.
  const hiderOf = (...lists: string[][]) => {
    let made: ((text: string) => string) | undefined;
    return (text: string) => (made ??= scrubber(longestFirst(...lists)))(text);
  };
  const scrubbedBy = [
    [hideForms, hiderOf(fromFiles, forms)],
    [hiderOf(local, forms), hiderOf(local, fromFiles, forms)],
  ];
  // A file that is not a secret file (whose content is dropped whole, unread).
  const redactedFile = (p: string, text: string) => {
    const json = jsonShaped(p, text) ? redactedJsonFile(text) : undefined;
    const inText = json === undefined && !SYSTEM_FILE.test(p);
    // YAML (the config, whatever its name, is YAML unless .json): a secret-named number stays a
    // number, made so before the scrub would make it the string `<redacted>`.
    const yaml = inText && hide.hiders?.has(p) !== true &&
      (YAML_NAME.test(p) || p === hide.config);
    const own = scrubbedBy[p === hide.inFile?.path ? 1 : 0]![inText ? 1 : 0]!(
      (json ?? (yaml ? hideSecretNumbers(text) : text)).replace(PEM_KEY, REDACTED),
    );
    // A secret-named pair's value is hidden where it stands, however short (design section 8):
    // as the adapter that declares the file reads its format (`key value`, XML), else generically.
    const out = inText
      ? (hide.hiders?.get(p) ?? ((t: string) => hideSecretPairs(t, { yaml })))(own)
      : own;
    return p === hide.trustedConfig && out !== text ? redigested(out) ?? out : out;
  };
  for (const [p, text] of Object.entries(s.files)) {
    files[path(p)] = secretFiles.has(p) ? redactedSecretFile(text) : redactedFile(p, text);
  }
  return {
    ...s,
    argv: redactArgs(hide.argv ?? s.argv, forms),
    env,
    files,
    dirs: s.dirs.map(path),
    stat: keys(s.stat),
    ...(s.unreadable === undefined ? {} : { unreadable: keys(s.unreadable, path) }),
    hostname: path(s.hostname),
  };
}

/**
 * An env value's JSON with the values of its secret-named keys replaced
 * whole, re-serialised as Python reads it (the plan reads ML_HPS so): ints of
 * any size and floats (`1.0`) as they were, keys in their order (NaN and the
 * infinities come back as null). Undefined when it is not JSON or holds no
 * such key.
 */
function redactedJsonValue(text: string): string | undefined {
  const hidden = redactJsonText(text);
  if (hidden === undefined || hidden === REDACTED) return hidden;
  let value: PyValue;
  try {
    value = pyLoads(text);
  } catch {
    return hidden;
  }
  return dumpInOrder(redactPyValue(value));
}

/**
 * A normalised config's text with its digest made anew over its values (see
 * config_load.ts `trustedJson`); undefined when it no longer parses or has no
 * digest.
 */
function redigested(text: string): string | undefined {
  const config = digestedConfig(text);
  if (config === undefined) return undefined;
  const { digest, body } = config;
  const old = JSON.stringify(digest);
  const at = text.lastIndexOf(old);
  if (at < 0) return undefined;
  return text.slice(0, at) + JSON.stringify(configDigest(JSON.stringify(body))) +
    text.slice(at + old.length);
}

/** Files of the system, whose numbers are ids, limits and counts: no secret of a file is one. */
const SYSTEM_FILE = /^\/(?:etc\/(?:passwd|group)$|proc\/|sys\/|dev\/)/;

/**
 * Whether a captured file may be JSON: named so, or opening as JSON does (the
 * hyperparameters file the config names may have any name), but the system's.
 */
function jsonShaped(path: string, text: string): boolean {
  return path.endsWith(".json") || (/^\s*[[{]/.test(text) && !SYSTEM_FILE.test(path));
}

/**
 * JSON text of a decoded value, keys in their order. NaN and the infinities
 * come back as null, as the README says of env values; with `python`, as
 * Python's json writes them (a file keeps what it held).
 */
function dumpInOrder(v: PyValue, python = false): string {
  // Into one list of pieces joined once: a container's text joined on its own was copied again
  // at each level above it (a JSON variable 500 deep over 8,000 keys took 238 ms to capture).
  const out: string[] = [];
  const write = (x: PyValue): void => {
    if (x instanceof PyInt) out.push(x.text);
    else if (x instanceof PyFloat) {
      out.push(
        Number.isFinite(x.value)
          ? x.repr
          : !python
          ? "null"
          : Number.isNaN(x.value)
          ? "NaN"
          : x.value > 0
          ? "Infinity"
          : "-Infinity",
      );
    } else if (Array.isArray(x)) {
      out.push("[");
      x.forEach((item, i) => {
        if (i > 0) out.push(",");
        write(item);
      });
      out.push("]");
    } else if (x instanceof Map) {
      out.push("{");
      let first = true;
      x.forEach((item, k) => {
        out.push(first ? "" : ",", JSON.stringify(k), ":");
        first = false;
        write(item);
      });
      out.push("}");
    } else out.push(JSON.stringify(x));
  };
  write(v);
  return out.join("");
}

/** The number a JSON file's secret-named number becomes, as a YAML one does. */
const JSON_NUMBER_PLACEHOLDER = new PyInt(NUMBER_PLACEHOLDER);

/**
 * A captured JSON file with the values under its secret-named keys (inside
 * JSON held in its strings too) replaced by the string `<redacted>`, where
 * they stand: scrubbed as text, `"api_key": 12345` would become
 * `"api_key": <redacted>`, which is no JSON (the replay would refuse the file
 * the live start read), and a value the text scrub does not find would stay:
 * one of fewer than 4 characters, a plain word or a short number (hidden
 * nowhere else), one the file escapes otherwise than Python does
 * (`"ab\/cd"`, `"\u0070w"`). Re-serialised with its keys in order, numbers
 * as written and NaN as Python writes it; the text itself when it holds no
 * such value (its layout stays), undefined when it is no JSON.
 */
function redactedJsonFile(text: string): string | undefined {
  // In JSON held in a string (a variable's value, as --explain shows it hidden), a dict or list
  // under a secret-named key is hidden whole, as --explain does: its items need not have secret
  // names (`"credentials": {"user": ..., "pw": ...}`). The file's own dicts stay: a channel
  // named tokenizer, the config's secretFiles (names of variables) are no secrets.
  const whole = (x: PyValue, inString: boolean) =>
    inString && ((x instanceof Map && x.size > 0) || (Array.isArray(x) && x.length > 0));
  const walk = (v: PyValue, inString = false): PyValue => {
    if (typeof v === "string") {
      if (!/^\s*[[{]/.test(v)) return v;
      let inner: PyValue;
      try {
        inner = pyLoads(v);
      } catch {
        return v;
      }
      const hidden = walk(inner, true);
      return hidden === inner ? v : dumpInOrder(hidden, true);
    }
    if (Array.isArray(v)) {
      const out = v.map((x) => walk(x, inString));
      return out.some((x, i) => x !== v[i]) ? out : v;
    }
    if (!(v instanceof Map)) return v;
    let out: Map<string, PyValue> | undefined;
    for (const [k, x] of v) {
      const scalar = (typeof x === "string" && x !== "") || x instanceof PyInt ||
        x instanceof PyFloat;
      // A number stays a number (see hideSecretNumbers): the replay reads the type the live start read.
      const hidden = isSecretName(k) && (scalar || whole(x, inString))
        ? (x instanceof PyInt || x instanceof PyFloat ? JSON_NUMBER_PLACEHOLDER : REDACTED)
        : walk(x, inString);
      if (hidden !== x) (out ??= new Map(v)).set(k, hidden);
    }
    return out ?? v;
  };
  try {
    const value = pyLoads(text);
    const hidden = walk(value);
    if (hidden === value) return text;
    return dumpInOrder(hidden, true) + (text.endsWith("\n") ? "\n" : "");
  } catch {
    // Not JSON, or nested too deep: the text scrub does what it can.
    return undefined;
  }
}

/**
 * The forms of secret values a capture scrubs from text: a value's trailing
 * line ends are no part of it there (a YAML block scalar's value ends with the
 * one that ends its line, which must stay), and a value of several lines is
 * scrubbed line by line too (a block scalar's lines are indented in the text:
 * a private key would be found nowhere whole).
 */
function textForms(values: Iterable<string>, numbers = false): string[] {
  const out: string[] = [];
  for (const v of values) {
    const body = secretFileValue(v);
    out.push(body);
    if (body.includes("\n")) out.push(...body.split("\n").map((line) => line.trim()));
  }
  return secretForms(out, { numbers });
}

/**
 * What a capture keeps of an opted-in secret file: `<redacted>` for its
 * value, so the replay plans what the live start planned. A file with no
 * value (line ends only) sets nothing and hides nothing: it stays as it is;
 * a value that is not UTF-8 keeps its U+FFFD, and one with a NUL its NUL,
 * which the replay refuses as the live start did. A value of half execve's
 * limit or more (a blob, whose length says nothing of it) keeps its length in
 * bytes: one too large for execve is refused alike, naming the same size.
 */
function redactedSecretFile(text: string): string {
  const value = secretFileValue(text);
  if (value === "") return text;
  if (value.includes("\uFFFD")) return `${REDACTED}\uFFFD`;
  if (value.includes("\0")) return `${REDACTED}\0`;
  const bytes = utf8Length(value);
  return bytes * 2 >= MAX_VALUE_BYTES ? REDACTED.padEnd(bytes, "x") : REDACTED;
}

/**
 * A private key in PEM form, from its BEGIN line to its END line (or to the
 * end of a file cut short): a listed folder (Spark's conf) may hold one beside
 * the configuration a capture is for.
 */
const PEM_KEY =
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[\s\S]*$)/g;

/** Writes a snapshot file atomically (temp file + rename). */
export async function writeSnapshotFile(file: string, s: Snapshot): Promise<void> {
  await writeOutput("Capture", file, JSON.stringify(s, null, 2) + "\n", 0o600);
}

/**
 * A live file the user named (`--check-config`), read like a snapshot's
 * files; but a pipe (`<(...)`) or device is read as it comes, without waiting
 * on the main thread (SIGTERM and Ctrl-C still end a check whose pipe has no
 * writer yet), and a service account's token is not read (its content would be
 * quoted in the error that says it is no config). Read by {@linkcode readNamed}.
 */
export async function readLiveFile(
  path: string,
  env: Readonly<Record<string, string>>,
): Promise<FileState> {
  const tokens = tokenIds(env);
  const r = await readNamed(
    path,
    FILE_LIMIT,
    (is) =>
      is.kind === "dir"
        ? errnoText(ERRNO.EISDIR)
        : is.kind === "file" && (SA_TOKEN.test(path) || tokens.has(is.id))
        ? TOKEN_NOT_READ
        : undefined,
  );
  if (r.kind === "missing" && isSymlink(path)) return { kind: "unreadable", reason: DANGLING };
  return r.kind === "ok" ? { kind: "ok", text: new TextDecoder().decode(r.bytes) } : r;
}

/**
 * What a path the user named holds (`--snapshot`, `--check-config`), at most
 * `limit` bytes: opened once, without waiting (a FIFO's open does not wait for
 * a writer), and what the descriptor is decides: what `refuse` gives a reason
 * for is not read, a regular file is read at once (one over `limit` refused
 * unread), anything else as it comes, off the main thread. A token, FIFO or
 * other file put at the path after it was opened is not what is read. The
 * process's own descriptors by name (`-`, `/dev/stdin`, `<(...)`'s
 * `/dev/fd/63`) are read as they are: a socket cannot be opened anew.
 */
async function readNamed(
  path: string,
  limit: number,
  refuse: (is: Looked["is"]) => string | undefined,
): Promise<BytesState> {
  const own = ownDescriptor(path, 0);
  const opened = own === undefined ? openLook(path) : ownLook(own);
  if (opened.kind === "special") return { kind: "unreadable", reason: errnoText(ERRNO.ENXIO) };
  if (opened.kind !== "open") return opened;
  try {
    const { fd, is } = opened;
    const why = refuse(is);
    if (why !== undefined) return { kind: "unreadable", reason: why };
    if (is.kind !== "file") return await readStreamFrom(fd, limit);
    if ((bytesFromOffset(fd) ?? 0) > limit) {
      return { kind: "unreadable", reason: `larger than ${limit} bytes` };
    }
    return readOpen(fd, limit);
  } finally {
    if (own === undefined) sys(SYS.close, opened.fd);
  }
}

/** What one of the process's own descriptors is, as {@linkcode openLook} tells of a path. */
function ownLook(fd: number): ReturnType<typeof openLook> {
  const unusable = unreadableDescriptor(fd);
  if (unusable !== undefined) return { kind: "unreadable", reason: unusable };
  const is = descriptorIdentity(fd);
  if (!("id" in is)) {
    return { kind: "unreadable", reason: errnoText(errno()) };
  }
  return { kind: "open", fd, is };
}

/**
 * Whether a live path exists, without opening it: a dangling link does, as a
 * snapshot records one at a read path (the config's), and so does one that a
 * folder on the way hides (no search permission): a snapshot records it as
 * unreadable, and a read then says why.
 */
export function liveExists(path: string): boolean {
  // Anything but "missing": there, or there behind a folder it may not search.
  return pathIdentity(path).kind !== "missing" || isSymlink(path);
}
