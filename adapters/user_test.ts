import { deepEqual, equal, match, ok } from "@std/assert";
import { DEFAULT_CONFIG, type ImageConfig } from "../config.ts";
import { InputError } from "../errors.ts";
import { configFromYaml } from "../tests/config_yaml.ts";
import {
  caught,
  fixture,
  ownNbEnv,
  planFixture,
  withDir,
  withEnv,
  withFiles,
} from "../tests/helpers.ts";
import { World } from "../world.ts";
import { chownOptsRecursive, user } from "./user.ts";
import type { Plan, Snapshot } from "../types.ts";

/** The snapshot as root (uid 0, gid 0) with the given supplementary groups. */
const asRoot = (groups: number[] = [0]) => (s: Snapshot): Snapshot => ({
  ...s,
  uid: 0,
  gid: 0,
  groups,
});

/** A snapshot with a line added to /etc/passwd. */
const withPasswdLine = (line: string) => (s: Snapshot): Snapshot => ({
  ...s,
  files: { ...s.files, "/etc/passwd": `${s.files["/etc/passwd"] ?? ""}${line}\n` },
});

/** Snapshot changes applied in order. */
const all = (...changes: ((s: Snapshot) => Snapshot)[]) => (s: Snapshot): Snapshot =>
  changes.reduce((acc, f) => f(acc), s);

/** The chown steps of a plan, as [path, recursive]. */
const chowns = (p: Plan) =>
  p.steps.flatMap((s) => s.step === "chown" ? [[s.path, s.recursive] as const] : []);

Deno.test("plan() as root with supplementary groups switches to CHAMELEON_USER=0:0:0: extra groups are never silently kept", () => {
  const p = planFixture(
    "local-unknown/docker",
    all(asRoot([0, 27]), withEnv({ CHAMELEON_USER: "0:0:0" })),
  );
  deepEqual([p.user?.uid, p.user?.gid, p.user?.groups], [0, 0, [0]]);
  // The same groups as asked for: nothing to switch.
  equal(
    planFixture("local-unknown/docker", all(asRoot([0]), withEnv({ CHAMELEON_USER: "0:0:0" })))
      .user,
    null,
  );
});

Deno.test("plan() keeps the groups the platform gave a root start (fsGroup, --group-add) across the switch", () => {
  // A pod with fsGroup 2000 and no runAsUser: root with supplementary 2000, through which the
  // volumes are writable; root's own membership (disk, from /etc/group) is not passed on, nor
  // the overflow gid of a group the user namespace does not map (setgroups would refuse it).
  const granted = all(
    asRoot([0, 6, 2000, 65534]),
    withFiles({ "/etc/group": "root:x:0:\ndisk:x:6:root\nusers:x:100:ml\n" }),
  );
  const p = planFixture(
    "local-unknown/docker",
    all(granted, withEnv({ CHAMELEON_USER: "1000:100" })),
  );
  deepEqual(p.user?.groups, [100, 2000]);
  // NB_* notebooks too.
  const nb = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    all(ownNbEnv({ NB_UID: "1000" }), granted),
  );
  ok(nb.user?.groups.includes(2000), String(nb.user?.groups));
  // Groups CHAMELEON_USER lists are exactly those.
  const exact = planFixture(
    "local-unknown/docker",
    all(granted, withEnv({ CHAMELEON_USER: "1000:100:100" })),
  );
  deepEqual(exact.user?.groups, [100]);
});

Deno.test("plan() switches a notebook started as root when only NB_GID is set", () => {
  const p = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    all(ownNbEnv({ NB_GID: "1234" }), asRoot()),
  );
  // docker-stacks' default uid, the gid asked for.
  deepEqual([p.user?.uid, p.user?.gid], [1000, 1234]);
  equal(p.notes["userReason"], "NB_USER/NB_UID/NB_GID");
});

Deno.test("plan() gives a switched-to user its passwd home unless NB_USER names the user", () => {
  // NB_UID alone: uid 1000 is ml in passwd, whose home /home/ml wins over /home/jovyan.
  const nb = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    all(ownNbEnv({ NB_UID: "1000" }), asRoot(), withDir("/home/ml", 1000, 100)),
  );
  deepEqual([nb.user?.name, nb.user?.home, nb.env["HOME"]], ["ml", "/home/ml", "/home/ml"]);
  // NB_USER given: its /home/NB_USER, as docker-stacks renames the user.
  const named = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    all(ownNbEnv({ NB_UID: "1000", NB_USER: "jovyan" }), asRoot()),
  );
  equal(named.user?.home, "/home/jovyan");
  // The config user's passwd home wins over the config's own home too.
  const config: ImageConfig = {
    ...DEFAULT_CONFIG,
    user: { name: "app", uid: 1234, gid: 1234, groups: [1234], home: "/home/app" },
    settings: { ...DEFAULT_CONFIG.settings, switchUser: "when-root" },
  };
  const cfg = planFixture(
    "local-unknown/docker",
    all(
      withPasswdLine("app:x:1234:1234::/srv/app:/bin/sh"),
      withDir("/srv/app", 1234, 1234),
      withDir("/home/app", 1234, 1234),
    ),
    config,
  );
  deepEqual([cfg.user?.home, cfg.env["HOME"]], ["/srv/app", "/srv/app"]);
});

Deno.test("plan() chowns no CHOWN_HOME home that is not a folder directly under /home, and warns", () => {
  const nested = (owner: number) =>
    planFixture(
      "local-unknown/docker",
      all(
        withEnv({ CHAMELEON_USER: "1500:100", CHOWN_HOME: "yes" }),
        withPasswdLine("svc:x:1500:100::/home/a/b:/bin/sh"),
        withDir("/home/a/b", owner, 100),
      ),
    );
  // Already the user's: it stays HOME, unchanged, with a warning.
  const owned = nested(1500);
  equal(owned.env["HOME"], "/home/a/b");
  deepEqual(chowns(owned), []);
  ok(
    owned.warnings.includes(
      "CHOWN_HOME: HOME /home/a/b is not a folder under /home: left as it is",
    ),
    owned.warnings.join(),
  );
  // Root's: never chowned, so HOME moves to the per-uid folder.
  const rootOwned = nested(0);
  deepEqual(chowns(rootOwned), []);
  equal(rootOwned.env["HOME"], "/run/chameleon/home/1500");
});

Deno.test("plan() chowns a CHOWN_HOME home recursively with CHOWN_HOME_OPTS=-R even when its top is owned right", () => {
  const p = planFixture(
    "local-unknown/docker",
    all(
      withEnv({ CHAMELEON_USER: "1000:100", CHOWN_HOME: "yes", CHOWN_HOME_OPTS: "-R" }),
      withDir("/home/ml", 1000, 100),
    ),
  );
  deepEqual(chowns(p), [["/home/ml", true]]);
  // chown reads -R in a cluster or spelt out, as docker-stacks passes the options to it.
  for (const opts of ["-Rv", "-vR", "-v --recursive", "-R -v"]) {
    const other = planFixture(
      "local-unknown/docker",
      all(
        withEnv({ CHAMELEON_USER: "1000:100", CHOWN_HOME: "yes", CHOWN_HOME_OPTS: opts }),
        withDir("/home/ml", 1000, 100),
      ),
    );
    deepEqual(chowns(other), [["/home/ml", true]], opts);
  }
  // Without -R, a home owned right is skipped.
  const flat = planFixture(
    "local-unknown/docker",
    all(withEnv({ CHAMELEON_USER: "1000:100", CHOWN_HOME: "yes" }), withDir("/home/ml", 1000, 100)),
  );
  deepEqual(chowns(flat), []);
  // An R inside another word (a path after "-") is no -R.
  for (const opts of ["-v", "--reference=/etc", "-h", "--reference=/srv/build-R1"]) {
    const notRecursive = planFixture(
      "local-unknown/docker",
      all(
        withEnv({ CHAMELEON_USER: "1000:100", CHOWN_HOME: "yes", CHOWN_HOME_OPTS: opts }),
        withDir("/home/ml", 1000, 100),
      ),
    );
    deepEqual(chowns(notRecursive), [], opts);
  }
});

Deno.test("plan() moves a home root cannot make on a read-only /home to the per-uid one, with a warning", () => {
  const readOnlyHome = (s: Snapshot): Snapshot => ({
    ...s,
    dirs: [...s.dirs, "/home"],
    stat: { ...s.stat, "/home": { uid: 0, gid: 0, mode: "0755", readOnly: true } },
  });
  const p = planFixture(
    "local-unknown/docker",
    all(
      asRoot(),
      withEnv({ CHAMELEON_USER: "1500:1500" }),
      withPasswdLine("jane:x:1500:1500::/home/jane:/bin/sh"),
      readOnlyHome,
    ),
  );
  equal(p.dirs.some((d) => d.path === "/home/jane"), false, "no home made on a read-only /home");
  ok(p.env["HOME"]?.endsWith("/home/1500"), p.env["HOME"]);
  ok(p.warnings.some((w) => w.includes("/home cannot be written")), JSON.stringify(p.warnings));
});

// --- Gaps found by mutation testing ---

/** An image config with a user to switch to, and `switchUser` as given. */
const userConfig = (switchUser: "never" | "when-root"): ImageConfig => ({
  ...DEFAULT_CONFIG,
  user: { name: "ml", uid: 1000, gid: 100, groups: [100], home: "/home/ml" },
  settings: { ...DEFAULT_CONFIG.settings, switchUser },
});

Deno.test("plan() keeps the identity when the config names a user but switchUser is never", () => {
  const p = planFixture(
    "local-unknown/docker",
    all(asRoot(), withDir("/home/ml", 1000, 100)),
    userConfig("never"),
  );
  equal(p.user, null);
});

Deno.test("plan() does not warn a non-root start about the config user: only an explicit ask warns", () => {
  const p = planFixture(
    "local-unknown/docker",
    (s) => ({ ...s, uid: 2000, gid: 2000, groups: [2000] }),
    userConfig("when-root"),
  );
  equal(p.user, null);
  deepEqual(p.warnings.filter((w) => /no user switch/.test(w)), []);
});

Deno.test("plan() as root switches groups when CHAMELEON_USER names others of the same count", () => {
  const p = planFixture(
    "local-unknown/docker",
    all(asRoot([0, 27]), withEnv({ CHAMELEON_USER: "0:0:0,5" })),
  );
  deepEqual(p.user?.groups, [0, 5]);
});

Deno.test("plan() keeps root on SageMaker training when the matching override sets no switchUser", () => {
  const config: ImageConfig = {
    ...userConfig("when-root"),
    overrides: [
      { match: "sagemaker-training", settings: { env: { set: { A: "1" }, fill: {} } } },
      { match: "kubernetes-*", settings: { switchUser: "when-root" } },
    ],
  };
  const p = planFixture(
    "sagemaker-training/single-host",
    withDir("/home/ml", 1000, 100),
    config,
  );
  equal(p.user, null);
});

// --- Gaps found by mutation testing (second pass) ---

/** Where Debian puts nss_wrapper on x86_64, the first place the adapter looks. */
const NSS_LIB = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so";
/** Where distributions install nss_wrapper, written out here so that a place dropped in user.ts shows. */
const NSS_PLACES = [
  NSS_LIB,
  "/usr/lib/aarch64-linux-gnu/libnss_wrapper.so",
  "/usr/lib64/libnss_wrapper.so",
  "/usr/lib/libnss_wrapper.so",
];

/** Not root: uid and gid 4321 (no passwd entry, no group), with nss_wrapper at `lib`. */
const asAnonymous = (lib: string | null = NSS_LIB) => (s: Snapshot): Snapshot => ({
  ...s,
  uid: 4321,
  gid: 4321,
  groups: [4321],
  files: { ...s.files, ...(lib === null ? {} : { [lib]: "" }) },
});

Deno.test("plan() gives a uid without a passwd entry nss_wrapper files: the image's lines plus its own", () => {
  const p = planFixture(
    "local-unknown/docker",
    all(
      asAnonymous(),
      withFiles({ "/etc/passwd": "root:x:0:0:root:/root:/bin/sh", "/etc/group": "root:x:0:" }),
    ),
  );
  const home = "/tmp/chameleon/home/4321";
  equal(p.env["HOME"], home);
  deepEqual(p.files, [
    {
      path: "/tmp/chameleon/passwd",
      content: `root:x:0:0:root:/root:/bin/sh\nuser4321:x:4321:4321:user4321:${home}:/bin/sh\n`,
      mode: "0644",
    },
    // The gid has no group either: it gets one of the same name.
    { path: "/tmp/chameleon/group", content: "root:x:0:\nuser4321:x:4321:\n", mode: "0644" },
  ]);
  deepEqual(
    [p.env["LD_PRELOAD"], p.env["NSS_WRAPPER_PASSWD"], p.env["NSS_WRAPPER_GROUP"]],
    [NSS_LIB, "/tmp/chameleon/passwd", "/tmp/chameleon/group"],
  );
  // A gid /etc/group knows adds no group line; an empty /etc/passwd adds no blank line.
  const known = planFixture(
    "local-unknown/docker",
    all(
      asAnonymous(),
      (s) => ({ ...s, gid: 100, groups: [100] }),
      withFiles({ "/etc/passwd": "" }),
    ),
  );
  deepEqual(known.files.map((f) => f.content), [
    `user4321:x:4321:100:user4321:${home}:/bin/sh\n`,
    "root:x:0:\ndaemon:x:1:\nsudo:x:27:ml\nusers:x:100:ml\nnogroup:x:65534:\n",
  ]);
});

Deno.test("plan() adds no passwd entry when /etc/passwd or /etc/group is there but unreadable: it would hide the others", () => {
  /** The file moved from `files` to `unreadable`, as a live start records one over the limit. */
  const unreadable = (path: string) => (s: Snapshot): Snapshot => {
    const { [path]: _, ...files } = s.files;
    return { ...s, files, unreadable: { ...s.unreadable, [path]: "larger than 1048576 bytes" } };
  };
  const passwd = planFixture("local-unknown/docker", all(asAnonymous(), unreadable("/etc/passwd")));
  deepEqual([passwd.files, "NSS_WRAPPER_PASSWD" in passwd.env], [[], false]);
  ok(
    passwd.warnings.some((w) =>
      w.startsWith("/etc/passwd: larger than 1048576 bytes: whether uid 4321 has a passwd entry")
    ),
    passwd.warnings.join("; "),
  );
  const group = planFixture("local-unknown/docker", all(asAnonymous(), unreadable("/etc/group")));
  deepEqual([group.files, "NSS_WRAPPER_GROUP" in group.env], [[], false]);
  ok(
    group.warnings.some((w) => w.startsWith("/etc/group: larger than 1048576 bytes: nss_wrapper")),
    group.warnings.join("; "),
  );
});

Deno.test("plan() warns when a switch's supplementary groups come from an unreadable /etc/group", () => {
  const unreadable = (s: Snapshot): Snapshot => {
    const { ["/etc/group"]: _, ...files } = s.files;
    return { ...s, files, unreadable: { "/etc/group": "input/output error" } };
  };
  const p = planFixture(
    "local-unknown/docker",
    all(asRoot(), unreadable, withEnv({ CHAMELEON_USER: "1000:100" })),
  );
  deepEqual(p.user?.groups, [100]);
  ok(
    p.warnings.includes(
      "/etc/group: input/output error: uid 1000's supplementary groups cannot be read from it",
    ),
    p.warnings.join("; "),
  );
  // Groups given: nothing is read from /etc/group, nothing to warn of.
  const given = planFixture(
    "local-unknown/docker",
    all(asRoot(), unreadable, withEnv({ CHAMELEON_USER: "1000:100:100" })),
  );
  deepEqual(given.warnings.filter((w) => w.startsWith("/etc/group")), []);
  // A switch to a uid without a passwd entry: the groups and nss_wrapper, one warning of the file.
  const anonymous = planFixture(
    "local-unknown/docker",
    all(
      asRoot(),
      unreadable,
      withEnv({ CHAMELEON_USER: "4321:4321" }),
      withFiles({ [NSS_LIB]: "" }),
    ),
  );
  deepEqual(anonymous.warnings.filter((w) => w.startsWith("/etc/group")), [
    "/etc/group: input/output error: uid 4321's supplementary groups cannot be read from it, and nss_wrapper's group file would hold none of its groups, so it is not used",
  ]);
});

Deno.test("plan() preloads nss_wrapper from each place distributions install it, after an LD_PRELOAD given", () => {
  for (const lib of NSS_PLACES) {
    equal(planFixture("local-unknown/docker", asAnonymous(lib)).env["LD_PRELOAD"], lib, lib);
  }
  const given = planFixture(
    "local-unknown/docker",
    all(asAnonymous(), withEnv({ LD_PRELOAD: "/usr/lib/libjemalloc.so" })),
  );
  equal(given.env["LD_PRELOAD"], `/usr/lib/libjemalloc.so ${NSS_LIB}`);
});

Deno.test("plan() adds no nss_wrapper files for a uid that has a passwd entry", () => {
  // bare-metal runs as alice (uid 1000); nss_wrapper is there but not needed.
  const p = planFixture("local-unknown/bare-metal", withFiles({ [NSS_LIB]: "" }));
  deepEqual(p.files, []);
  equal("LD_PRELOAD" in p.env, false);
  // A non-root uid as low as 1 without an entry gets one like any other.
  const one = planFixture(
    "local-unknown/docker",
    all(asAnonymous(), (s) => ({ ...s, uid: 1, files: { ...s.files, "/etc/passwd": "" } })),
  );
  ok(one.files[0]?.content.startsWith("user1:x:1:4321:"), one.files[0]?.content);
});

Deno.test("plan() on a read-only file system with no writable /run or /tmp keeps HOME and writes nothing, with warnings", () => {
  // A pod with readOnlyRootFilesystem and no emptyDir: the runtime dir /tmp/chameleon cannot be
  // made, so a plan that moved HOME there or wrote nss_wrapper files into it would fail the start.
  const readOnly = (s: Snapshot): Snapshot => ({
    ...s,
    stat: {
      ...s.stat,
      "/run": { uid: 0, gid: 0, mode: "0755", readOnly: true },
      "/tmp": { uid: 0, gid: 0, mode: "1777", readOnly: true },
      "/": { uid: 0, gid: 0, mode: "0755", readOnly: true },
    },
  });
  const p = planFixture("local-unknown/docker", all(asAnonymous(), readOnly));
  equal(p.runtimeDir, "/tmp/chameleon");
  equal(p.env["HOME"], undefined, "HOME stays as given");
  equal(p.env["XDG_CACHE_HOME"], undefined);
  equal(p.env["LD_PRELOAD"], undefined);
  deepEqual(p.dirs, []);
  deepEqual(p.files, []);
  deepEqual(p.warnings, [
    "HOME /root is not writable for uid 4321, and the runtime dir /tmp/chameleon is on a read-only file system: HOME stays /root (mount a writable /tmp, or set CHAMELEON_RUNTIME_DIR)",
    "uid 4321 has no passwd entry, and nss_wrapper's files cannot be written (the runtime dir /tmp/chameleon is on a read-only file system), nor /etc/passwd: whoami and ~user lookups will fail",
  ]);
  // A writable /tmp (the usual emptyDir) still gets both.
  const tmp = planFixture(
    "local-unknown/docker",
    all(asAnonymous(), readOnly, (s) => ({
      ...s,
      stat: { ...s.stat, "/tmp": { uid: 0, gid: 0, mode: "1777" } },
    })),
  );
  equal(tmp.env["HOME"], "/tmp/chameleon/home/4321");
  equal(tmp.env["NSS_WRAPPER_PASSWD"], "/tmp/chameleon/passwd");
  // Root switching to a uid with no home of its own: "/", as docker gives such a uid.
  const root = planFixture(
    "local-unknown/docker",
    all(readOnly, withEnv({ CHAMELEON_USER: "5000:5000" })),
  );
  deepEqual([root.user?.home, root.env["HOME"], root.dirs], ["/", "/", []]);
  equal(
    root.warnings[0],
    "uid 5000 has no home of its own, and the runtime dir /tmp/chameleon is on a read-only file system: HOME is / (mount a writable /tmp, or set CHAMELEON_RUNTIME_DIR)",
  );
});

Deno.test("plan() puts no HOME or nss_wrapper files in a runtime dir the command's uid cannot reach, with a warning", () => {
  // A restarted container whose first start was killed after making /run/chameleon, before its
  // chmod: root's 0700 folder, which a start keeps as it is. The uid could not enter a HOME there,
  // nor read nss_wrapper's files (every name lookup would fail).
  const closed = (mode: string) => (s: Snapshot): Snapshot => ({
    ...s,
    dirs: [...s.dirs, "/run/chameleon"],
    stat: { ...s.stat, "/run/chameleon": { uid: 0, gid: 0, mode } },
  });
  const asked = withEnv({ CHAMELEON_USER: "2000:2000" });
  const p = planFixture(
    "local-unknown/docker",
    all(asRoot(), asked, withFiles({ [NSS_LIB]: "" }), closed("0700")),
  );
  equal(p.runtimeDir, "/run/chameleon");
  deepEqual([p.user?.home, p.env["HOME"], p.dirs, p.files], ["/", "/", [], []]);
  equal(p.env["NSS_WRAPPER_PASSWD"], undefined);
  deepEqual(p.warnings, [
    "uid 2000 has no home of its own, and the runtime dir /run/chameleon is out of reach of uid 2000 (/run/chameleon is 0700, owner 0:0): HOME is / (set CHAMELEON_RUNTIME_DIR to a folder it can reach)",
  ]);
  // Root can still name the uid in /etc/passwd.
  deepEqual(p.steps.map((s) => s.step), ["passwd-entry"]);
  // The same folder open to others: the per-uid home and nss_wrapper's files go there.
  const open = planFixture(
    "local-unknown/docker",
    all(asRoot(), asked, withFiles({ [NSS_LIB]: "" }), closed("0755")),
  );
  equal(open.env["HOME"], "/run/chameleon/home/2000");
  equal(open.env["NSS_WRAPPER_PASSWD"], "/run/chameleon/passwd");
  // A start that is not root, given a runtime dir below a folder closed to it.
  const below = planFixture(
    "local-unknown/docker",
    all(asAnonymous(), withEnv({ CHAMELEON_RUNTIME_DIR: "/srv/closed/rt" }), (s) => ({
      ...s,
      dirs: [...s.dirs, "/srv/closed"],
      stat: {
        ...s.stat,
        "/srv/closed": { uid: 0, gid: 0, mode: "0711" },
        "/srv": { uid: 0, gid: 0, mode: "0700" },
      },
    })),
  );
  deepEqual([below.env["NSS_WRAPPER_PASSWD"], below.dirs], [undefined, []]);
  ok(
    below.warnings.includes(
      "uid 4321 has no passwd entry, and nss_wrapper's files would be out of its reach (the runtime dir /srv/closed/rt is out of reach of uid 4321 (/srv is 0700, owner 0:0)), nor /etc/passwd: whoami and ~user lookups will fail",
    ),
    below.warnings.join("; "),
  );
});

Deno.test("plan() makes the per-uid homes' folder as open to its group as a runtime dir open to group 0", () => {
  const runDir = (mode: string) => (s: Snapshot): Snapshot => ({
    ...s,
    dirs: [...s.dirs, "/run/chameleon"],
    stat: { ...s.stat, "/run/chameleon": { uid: 0, gid: 0, mode } },
  });
  const asked = withEnv({ CHAMELEON_USER: "2000:2000" });
  const nss = withFiles({ [NSS_LIB]: "" });
  const open = planFixture("local-unknown/docker", all(asRoot(), asked, nss, runDir("0775")));
  deepEqual(open.dirs.map((d) => [d.path, d.mode, d.owner]), [
    ["/run/chameleon/home", "0775", { uid: 0, gid: 0 }],
    ["/run/chameleon/home/2000", "0700", { uid: 2000, gid: 2000 }],
  ]);
  // Closed to the group, or open to all and sticky (no more than the homes themselves): nothing
  // more. (Open to all without the sticky bit, a root start refuses it: plan.ts, apply.ts.)
  for (const mode of ["0755", "1777"]) {
    const p = planFixture("local-unknown/docker", all(asRoot(), asked, nss, runDir(mode)));
    deepEqual(p.dirs.map((d) => d.path), ["/run/chameleon/home/2000"], mode);
  }
});

Deno.test("plan() writes the passwd entry into a writable /etc/passwd when there is no nss_wrapper", () => {
  const p = planFixture(
    "local-unknown/docker",
    all(asAnonymous(null), (s) => ({
      ...s,
      stat: { ...s.stat, "/etc/passwd": { uid: 4321, gid: 0, mode: "0644" } },
    })),
  );
  deepEqual(p.steps.filter((s) => s.step === "passwd-entry"), [
    {
      step: "passwd-entry",
      path: "/etc/passwd",
      line: "user4321:x:4321:4321:user4321:/tmp/chameleon/home/4321:/bin/sh",
    },
  ]);
  deepEqual(p.files, []);
});

Deno.test("plan() moves HOME that is the user's own but lies in a folder the user cannot search", () => {
  // ml's home /home/ml is its own, inside a /home made 0700 for root (an image hardened so).
  const p = planFixture(
    "local-unknown/docker",
    all(
      withEnv({ CHAMELEON_USER: "1000:100" }),
      withDir("/home", 0, 0, "0700"),
      withDir("/home/ml", 1000, 100),
    ),
  );
  equal(p.env["HOME"], "/run/chameleon/home/1000");
  // Searchable, it stays.
  const open = planFixture(
    "local-unknown/docker",
    all(
      withEnv({ CHAMELEON_USER: "1000:100" }),
      withDir("/home", 0, 0),
      withDir("/home/ml", 1000, 100),
    ),
  );
  equal(open.env["HOME"], "/home/ml");
});

Deno.test("plan() moves HOME and every cache folder into a fresh per-uid home the user owns", () => {
  // /home/ml is root's and 0755: uid 1000 cannot write it.
  const p = planFixture(
    "local-unknown/docker",
    all(withEnv({ CHAMELEON_USER: "1000:100" }), withDir("/home/ml", 0, 0)),
  );
  const home = "/run/chameleon/home/1000";
  deepEqual(
    ["HOME", "XDG_CACHE_HOME", "HF_HOME", "TORCH_HOME", "MPLCONFIGDIR", "PIP_CACHE_DIR"].map((
      n,
    ) => p.env[n]),
    [
      home,
      `${home}/.cache`,
      `${home}/.cache/huggingface`,
      `${home}/.cache/torch`,
      `${home}/.config/matplotlib`,
      `${home}/.cache/pip`,
    ],
  );
  deepEqual(p.dirs, [{ path: home, mode: "0700", owner: { uid: 1000, gid: 100 } }]);
  deepEqual(p.warnings, [`HOME /home/ml is not writable for uid 1000: using ${home}`]);
  // Not root: the folder is the process's own already, so no owner is given.
  const own = planFixture("local-unknown/docker", asAnonymous());
  deepEqual(own.dirs, [{ path: "/tmp/chameleon/home/4321", mode: "0700" }]);
});

Deno.test("plan() says which HOME it moves away from: / when there is no home at all", () => {
  // An entry with an empty home field and no HOME given: "/", which uid 4321 cannot write.
  const p = planFixture(
    "local-unknown/docker",
    all(
      asAnonymous(),
      withPasswdLine("svc:x:4321:4321:::/bin/sh"),
      (s) => {
        const { HOME: _, ...env } = s.env;
        return { ...s, env };
      },
    ),
  );
  deepEqual(p.warnings, [
    "HOME / is not writable for uid 4321: using /tmp/chameleon/home/4321",
  ]);
});

Deno.test("plan() gives a passwd entry with a relative home, or one under /nonexistent, the per-uid home", () => {
  for (const home of ["home/svc", "/nonexistent/svc"]) {
    const p = planFixture(
      "local-unknown/docker",
      all(
        withEnv({ CHAMELEON_USER: "1500:1500" }),
        withPasswdLine(`svc:x:1500:1500::${home}:/bin/sh`),
      ),
    );
    equal(p.env["HOME"], "/run/chameleon/home/1500", home);
    deepEqual(p.dirs.map((d) => d.path), ["/run/chameleon/home/1500"], home);
    deepEqual(p.warnings, [], home);
  }
});

Deno.test("plan() makes a missing home as root, 0755 and owned by the user's uid and gid", () => {
  const p = planFixture(
    "local-unknown/docker",
    all(
      withEnv({ CHAMELEON_USER: "1500:1600" }),
      withPasswdLine("jane:x:1500:1600::/home/jane:/bin/sh"),
      withDir("/home", 0, 0),
    ),
  );
  equal(p.env["HOME"], "/home/jane");
  deepEqual(p.dirs, [{ path: "/home/jane", mode: "0755", owner: { uid: 1500, gid: 1600 } }]);
});

Deno.test("plan() refuses a HOME with a line break, a carriage return or NUL in a passwd line, and names a runtime dir's", () => {
  for (const home of ["/data/x\ny", "/data/x\ry", "/data/x\0y"]) {
    const e = caught(() =>
      planFixture(
        "local-unknown/docker",
        all(asAnonymous(), withEnv({ HOME: home }), withDir(home, 4321, 4321)),
      )
    );
    if (!(e instanceof InputError)) throw new Error(`${JSON.stringify(home)}: ${e}`);
    match(e.message, /^Variable HOME /);
  }
  // The per-uid home built on CHAMELEON_RUNTIME_DIR is named as such.
  const e = caught(() =>
    planFixture(
      "local-unknown/docker",
      all(asAnonymous(), withEnv({ CHAMELEON_RUNTIME_DIR: "/tmp/a:b" })),
    )
  );
  if (!(e instanceof InputError)) throw e;
  equal(
    e.message,
    'Home (from CHAMELEON_RUNTIME_DIR) "/tmp/a:b/home/4321": expected a path without ":" or line breaks (it goes into the passwd entry of uid 4321)',
  );
});

/** The notebook fixture as root, without its NB_* variables, with `env` added. */
const notebookAsRoot = (env: Record<string, string>) => all(ownNbEnv(env), asRoot());

Deno.test("plan() takes a notebook's uid, gid and name from the config user when NB_* leave them out", () => {
  const config: ImageConfig = {
    ...DEFAULT_CONFIG,
    user: { name: "app", uid: 1234, gid: 1235, groups: [1235], home: "/srv/app" },
  };
  const nb = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    all(notebookAsRoot({ NB_USER: "bob" }), withDir("/home/bob", 1234, 1235)),
    config,
  );
  deepEqual([nb.user?.uid, nb.user?.gid, nb.user?.name, nb.user?.home], [
    1234,
    1235,
    "bob",
    "/home/bob",
  ]);
  // Neither NB_USER nor a config user: docker-stacks' jovyan, uid 1000 (ml here), gid 100.
  const plain = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    notebookAsRoot({ NB_UID: "1234" }),
  );
  deepEqual([plain.user?.name, plain.user?.gid, plain.env["USER"]], ["jovyan", 100, "jovyan"]);
  deepEqual(plain.warnings.filter((w) => w.includes("another uid's name")), []);
});

Deno.test("plan() gives a notebook switch to the config user that user's home unless NB_USER names one", () => {
  const config: ImageConfig = {
    ...DEFAULT_CONFIG,
    user: { name: "app", uid: 1234, gid: 1234, groups: [1234], home: "/srv/app" },
  };
  const homeOf = (env: Record<string, string>) =>
    planFixture(
      "kubernetes-notebook/kubeflow-notebook",
      all(notebookAsRoot(env), withDir("/srv/app", 1234, 1234), withDir("/home", 0, 0)),
      config,
    );
  const p = homeOf({ NB_GID: "1234" });
  deepEqual([p.user?.name, p.user?.home, p.env["HOME"]], ["app", "/srv/app", "/srv/app"]);
  // NB_USER renames the user, home and all, as docker-stacks does.
  equal(homeOf({ NB_USER: "bob" }).user?.home, "/home/bob");
});

Deno.test("plan() gives a notebook user the users group (100) besides its gid", () => {
  const p = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    notebookAsRoot({ NB_UID: "1001", NB_GID: "1234" }),
  );
  deepEqual(p.user?.groups, [1234, 100]);
});

Deno.test("plan() renames a default notebook name another uid has without a warning: only NB_USER warns", () => {
  const config = configFromYaml("user: {name: ml, uid: 1000, gid: 100, home: /home/ml}\n");
  const p = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    notebookAsRoot({ NB_UID: "1234" }),
    config,
  );
  equal(p.user?.name, "user1234");
  deepEqual(p.warnings.filter((w) => w.includes("another uid's name")), []);
  // A free NB_USER is no other uid's name either.
  const free = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    notebookAsRoot({ NB_UID: "1234", NB_USER: "alice" }),
  );
  equal(free.user?.name, "alice");
  deepEqual(free.warnings.filter((w) => w.includes("another uid's name")), []);
});

Deno.test("plan() refuses NB_USER names with a comma, NUL or a leading + or ~, and takes a leading dot", () => {
  for (const bad of ["a,b", "a\0b", "+x", "~x"]) {
    const e = caught(() =>
      planFixture("kubernetes-notebook/kubeflow-notebook", notebookAsRoot({ NB_USER: bad }))
    );
    if (!(e instanceof InputError)) throw new Error(`${JSON.stringify(bad)}: ${e}`);
    match(e.message, /^Variable NB_USER ".*": expected a user name/);
  }
  for (const good of [".jane", "..."]) {
    const p = planFixture(
      "kubernetes-notebook/kubeflow-notebook",
      notebookAsRoot({ NB_USER: good }),
    );
    equal(p.user?.name, good);
  }
});

Deno.test("plan() refuses an NB_UID beyond the largest id, saying what it expects", () => {
  const e = caught(() =>
    planFixture("kubernetes-notebook/kubeflow-notebook", notebookAsRoot({ NB_UID: "4294967295" }))
  );
  if (!(e instanceof InputError)) throw e;
  equal(e.message, 'Variable NB_UID "4294967295": expected an id up to 4294967294');
});

Deno.test("plan() refuses a CHAMELEON_USER with anything around uid:gid, blanks at the ends aside", () => {
  // Blanks alone are a value, not an unset one; an empty group between commas is no group 0.
  for (
    const bad of ["a1000:100", "1000:100x", "1000:100:", " ", "1000:100:100,", "1000:100:100,,5"]
  ) {
    const e = caught(() => planFixture("local-unknown/docker", withEnv({ CHAMELEON_USER: bad })));
    if (!(e instanceof InputError)) throw new Error(`${bad}: ${e}`);
    match(e.message, /^Variable CHAMELEON_USER /);
  }
  const p = planFixture("local-unknown/docker", withEnv({ CHAMELEON_USER: " 1000:100 " }));
  deepEqual([p.user?.uid, p.user?.gid], [1000, 100]);
});

Deno.test("plan() says why it switches user", () => {
  const explicit = planFixture("local-unknown/docker", withEnv({ CHAMELEON_USER: "1000:100" }));
  equal(explicit.notes["userReason"], "CHAMELEON_USER");
  const config = planFixture(
    "local-unknown/docker",
    withDir("/home/ml", 1000, 100),
    userConfig("when-root"),
  );
  equal(config.notes["userReason"], "image config (switchUser: when-root)");
});

Deno.test("plan() keeps root on SageMaker processing, as on training and serving", () => {
  const p = planFixture(
    "sagemaker-processing/processing-job",
    withDir("/home/ml", 1000, 100),
    userConfig("when-root"),
  );
  equal(p.user, null);
});

Deno.test("plan() names the user adapter when a cache folder the config gives cannot be written", () => {
  // HOME moves (root's /home/ml); the config's HF_HOME is root's too, so uid 1000 cannot keep it.
  const config: ImageConfig = {
    ...DEFAULT_CONFIG,
    settings: {
      ...DEFAULT_CONFIG.settings,
      env: { set: { HF_HOME: "/models/hf" }, fill: {} },
    },
  };
  const e = caught(() =>
    planFixture(
      "local-unknown/docker",
      all(
        withEnv({ CHAMELEON_USER: "1000:100" }),
        withDir("/home/ml", 0, 0),
        withDir("/models/hf", 0, 0),
      ),
      config,
    )
  );
  if (!(e instanceof InputError)) throw e;
  equal(
    e.message,
    'Adapters user and config-env disagree on HF_HOME: "/run/chameleon/home/1000/.cache/huggingface" vs "/models/hf"',
  );
});

Deno.test("plan() chowns for CHOWN_HOME=1 or yes only, as docker-stacks does, naming each request", () => {
  const p = (chownHome: string) =>
    planFixture(
      "local-unknown/docker",
      all(
        withEnv({ CHAMELEON_USER: "1000:100", CHOWN_HOME: chownHome, CHOWN_EXTRA: "/data" }),
        withDir("/home/ml", 0, 0),
        withDir("/data", 0, 0),
      ),
    ).steps.filter((s) => s.step === "chown");
  const home = { step: "chown", path: "/home/ml", uid: 1000, gid: 100, recursive: false };
  const data = { step: "chown", path: "/data", uid: 1000, gid: 100, recursive: false };
  for (const on of ["1", "yes"]) {
    deepEqual(p(on), [{ ...home, reason: "CHOWN_HOME" }, { ...data, reason: "CHOWN_EXTRA" }], on);
  }
  for (const off of ["true", "0", "no", ""]) {
    deepEqual(p(off), [{ ...data, reason: "CHOWN_EXTRA" }], off);
  }
});

Deno.test("plan() gives no CHOWN_HOME warning when it chowns the home, or when HOME moved to the per-uid one", () => {
  const chowned = planFixture(
    "local-unknown/docker",
    all(withEnv({ CHAMELEON_USER: "1000:100", CHOWN_HOME: "yes" }), withDir("/home/ml", 0, 0)),
  );
  deepEqual(chowns(chowned), [["/home/ml", false]]);
  deepEqual(chowned.warnings, []);
  // uid 1500 has no passwd entry: its HOME is the per-uid one, which needs no chown.
  const moved = planFixture(
    "local-unknown/docker",
    withEnv({ CHAMELEON_USER: "1500:100", CHOWN_HOME: "yes" }),
  );
  equal(moved.env["HOME"], "/run/chameleon/home/1500");
  deepEqual(moved.warnings.filter((w) => w.startsWith("CHOWN_HOME")), []);
});

Deno.test("plan() warns as root without a switch about CHOWN_HOME alone and CHOWN_EXTRA alone, and not otherwise", () => {
  const warned = (env: Record<string, string>) =>
    planFixture("local-unknown/docker", withEnv(env)).warnings.some((w) =>
      w.includes("no user switch is planned")
    );
  equal(warned({ CHOWN_HOME: "1" }), true);
  equal(warned({ CHOWN_EXTRA: "/data" }), true);
  equal(warned({ CHOWN_HOME: "no", CHOWN_EXTRA: "" }), false);
});

Deno.test("plan() warns a non-root start that CHOWN_HOME and CHOWN_EXTRA need root", () => {
  const warnings = (env: Record<string, string>) =>
    planFixture(
      "local-unknown/docker",
      all(withEnv(env), (s) => ({ ...s, uid: 1000, gid: 100, groups: [100] })),
    ).warnings.filter((w) => w.startsWith("CHOWN_HOME/CHOWN_EXTRA"));
  const needRoot = [
    "CHOWN_HOME/CHOWN_EXTRA ask for ownership changes, which need a root start (this one runs as uid 1000): nothing changes owner",
  ];
  deepEqual(warnings({ CHOWN_HOME: "yes" }), needRoot);
  deepEqual(warnings({ CHOWN_EXTRA: "/data" }), needRoot);
  deepEqual(warnings({ CHOWN_HOME: "no" }), []);
});

Deno.test("user.paths and user.dynamicPaths record what the plan looks at: nss_wrapper, passwd's mode, every HOME candidate", () => {
  const declared = user.paths ?? [];
  for (const lib of NSS_PLACES) {
    ok(declared.some((d) => d.kind === "exists" && d.path === lib), lib);
  }
  // Whether /etc/passwd is writable decides the passwd-entry step.
  ok(declared.some((d) => d.kind === "stat" && d.path === "/etc/passwd"));
  const s = fixture("local-unknown/docker");
  const paths = user.dynamicPaths!(
    new World({
      ...s,
      uid: 1,
      env: {
        ...s.env,
        HOME: "/data/home",
        TORCH_HOME: "/data/torch",
        PIP_CACHE_DIR: "relative/pip",
        NB_USER: "bob",
        CHOWN_EXTRA: "/data/a,/data/b",
      },
    }),
    DEFAULT_CONFIG,
  );
  // Every one is a stat (owner and mode decide what moves and what is chowned).
  deepEqual(paths.filter((d) => d.kind !== "stat"), []);
  const names = paths.map((d) => d.path);
  // HOME and caches as given (absolute only), this uid's passwd home (daemon's), /home/NB_USER,
  // /home, CHOWN_EXTRA's paths.
  for (
    const p of [
      "/data/home",
      "/data/torch",
      "/usr/sbin",
      "/home/bob",
      "/home",
      "/data/a",
      "/data/b",
    ]
  ) {
    ok(names.includes(p), p);
  }
  equal(names.includes("relative/pip"), false);
});

Deno.test("plan() names the gid, not the uid, in the group line nss_wrapper gets for an unknown gid", () => {
  const p = planFixture(
    "local-unknown/docker",
    all(asAnonymous(), (s) => ({ ...s, gid: 4322, groups: [4322] })),
  );
  ok(
    p.files.find((f) => f.path.endsWith("/group"))?.content.endsWith("\nuser4321:x:4322:\n"),
    JSON.stringify(p.files),
  );
});

Deno.test("plan() never chowns /home itself for CHOWN_HOME, even when passwd gives /home/ as the home", () => {
  const p = planFixture(
    "local-unknown/docker",
    all(
      withEnv({ CHAMELEON_USER: "1500:100", CHOWN_HOME: "yes" }),
      withPasswdLine("svc:x:1500:100::/home/:/bin/sh"),
      withDir("/home", 0, 0),
    ),
  );
  deepEqual(chowns(p), []);
});

Deno.test("user.dynamicPaths records the config's HOME and caches, filled or in an override, and its user's passwd home beside NB_UID's", () => {
  const s = fixture("local-unknown/docker");
  const config = configFromYaml(
    "user: {name: app, uid: 1234, gid: 1234, home: /home/app}\n" +
      "env:\n  fill: {HF_HOME: /models/hf}\n" +
      "overrides:\n  - match: kubernetes-*\n    env:\n      set: {HOME: /srv/k8s-home}\n",
  );
  const names = user.dynamicPaths!(
    new World({
      ...s,
      env: { ...s.env, NB_UID: "1000" },
      files: { ...s.files, "/etc/passwd": "app:x:1234:1234::/srv/work/app:/bin/sh\n" },
    }),
    config,
  ).map((d) => d.path);
  // NB_UID names another uid (it only counts on notebooks): the config user's home still counts.
  for (const p of ["/models/hf", "/srv/k8s-home", "/srv/work/app"]) ok(names.includes(p), p);
});

Deno.test("user: JUPYTER_ENV_VARS_TO_UNSET leaves out the variables it lists, and itself (docker-stacks)", () => {
  const p = planFixture(
    "kubernetes-notebook/jupyterhub",
    withEnv({
      JUPYTER_ENV_VARS_TO_UNSET: "SECRET_ANIMAL,UNUSED_ENV SECRET_FRUIT,",
      SECRET_ANIMAL: "cats",
      SECRET_FRUIT: "mango",
    }),
  );
  deepEqual(p.unset, ["SECRET_ANIMAL", "UNUSED_ENV", "SECRET_FRUIT", "JUPYTER_ENV_VARS_TO_UNSET"]);
  // Empty: nothing to leave out, as start.sh's `-n` test.
  deepEqual(
    planFixture("kubernetes-notebook/jupyterhub", withEnv({ JUPYTER_ENV_VARS_TO_UNSET: "" })).unset,
    [],
  );
});

Deno.test("user: JUPYTER_ENV_VARS_TO_UNSET may name what every object inherits: no variable is set under it", () => {
  const p = planFixture(
    "local-unknown/docker",
    withEnv({ JUPYTER_ENV_VARS_TO_UNSET: "constructor,toString" }),
  );
  deepEqual(p.unset, ["constructor", "toString", "JUPYTER_ENV_VARS_TO_UNSET"]);
});

Deno.test("user: a notebook warns of the docker-stacks variables a start does not act on", () => {
  const warned = (env: Record<string, string>, id = "kubernetes-notebook/jupyterhub") =>
    planFixture(id, withEnv(env)).warnings.filter((w) =>
      w.includes("docker-stacks' start scripts")
    );
  deepEqual(warned({}), []);
  deepEqual(warned({ GRANT_SUDO: "yes", NOTEBOOK_ARGS: "--log-level=DEBUG" }), [
    "GRANT_SUDO, NOTEBOOK_ARGS: docker-stacks' start scripts act on these; chameleon does not (the notebook command comes from commands.notebook)",
  ]);
  // Each one the README lists warns on its own.
  for (
    const name of [
      "GRANT_SUDO",
      "NB_GROUP",
      "RESTARTABLE",
      "DOCKER_STACKS_JUPYTER_CMD",
      "NOTEBOOK_ARGS",
    ]
  ) {
    const value = name === "GRANT_SUDO" ? "yes" : "x";
    equal(warned({ [name]: value })[0]?.startsWith(`${name}: docker-stacks'`), true, name);
  }
  // A value docker-stacks does not act on: GRANT_SUDO other than 1 or yes.
  deepEqual(warned({ GRANT_SUDO: "no" }), []);
  deepEqual(warned({ GRANT_SUDO: "1" }).length, 1);
  // What docker-stacks' Jupyter server config applies, not its start scripts (reference C.1,
  // NB_UMASK): an image built on docker-stacks keeps that config, so these act as before.
  deepEqual(warned({ NB_UMASK: "002", GEN_CERT: "yes", JUPYTER_PORT: "9999" }), []);
  // Not a notebook: not docker-stacks' business.
  deepEqual(warned({ GRANT_SUDO: "yes" }, "kubernetes-training/pytorchjob"), []);
});

Deno.test("user: JUPYTER_ENV_VARS_TO_UNSET wins over a value the plan gives, with a warning (start.sh unsets last)", () => {
  const p = planFixture(
    "kubernetes-notebook/jupyterhub",
    withEnv({ JUPYTER_ENV_VARS_TO_UNSET: "ML_PORT,SECRET_X", SECRET_X: "s3cr3t" }),
  );
  equal("ML_PORT" in p.env, false);
  equal("ML_PORT" in p.envDisplay, false);
  ok(p.unset.includes("ML_PORT") && p.unset.includes("SECRET_X"), p.unset.join());
  // Hooks run before start.sh's unset: they get the plan's value and the environment's.
  deepEqual(p.hookOnlyEnv, {
    ML_PORT: "8888",
    SECRET_X: "s3cr3t",
    JUPYTER_ENV_VARS_TO_UNSET: "ML_PORT,SECRET_X",
  });
  ok(
    p.warnings.includes(
      "ML_PORT: left out of the command's environment as JUPYTER_ENV_VARS_TO_UNSET asks, though the plan gives it a value",
    ),
    p.warnings.join("\n"),
  );
});

Deno.test("user.dynamicPaths() records every folder above a home: each one's search bit decides whether it is reachable", () => {
  const world = new World({ ...fixture("local-unknown/docker"), env: { HOME: "/data/users/ml" } });
  const declared = user.dynamicPaths!(world, DEFAULT_CONFIG).map((d) => d.path);
  for (const path of ["/data/users/ml", "/data/users", "/data", "/"]) {
    ok(declared.includes(path), `${path} in ${declared.join()}`);
  }
});

// --- Gaps found by mutation testing (third pass) ---

Deno.test("plan() as root switches the gid alone when CHAMELEON_USER keeps the uid and names no groups", () => {
  const p = planFixture("local-unknown/docker", withEnv({ CHAMELEON_USER: "0:100" }));
  // root is in no /etc/group list: its groups are the new gid alone.
  deepEqual([p.user?.uid, p.user?.gid, p.user?.groups], [0, 100, [100]]);
  // Not root: another gid for the same uid is a request it cannot carry out, so it warns.
  const asUser = planFixture(
    "local-unknown/docker",
    all(asAnonymous(), withEnv({ CHAMELEON_USER: "4321:100" })),
  );
  ok(
    asUser.warnings.includes(
      "CHAMELEON_USER asks for 4321:100, but the entrypoint runs as uid 4321, not root: no user switch",
    ),
    asUser.warnings.join("\n"),
  );
});

Deno.test("plan() moves a HOME that a start that is not root cannot write, CHOWN_HOME or not: nobody chowns it", () => {
  const p = planFixture(
    "local-unknown/docker",
    all(
      (s) => ({ ...s, uid: 1000, gid: 100, groups: [100] }),
      withEnv({ HOME: "/home/ml", CHOWN_HOME: "yes" }),
      withDir("/home/ml", 0, 0),
    ),
  );
  equal(p.user, null);
  deepEqual(chowns(p), []);
  const home = "/tmp/chameleon/home/1000";
  equal(p.env["HOME"], home);
  ok(
    p.warnings.includes(`HOME /home/ml is not writable for uid 1000: using ${home}`),
    p.warnings.join("\n"),
  );
});

Deno.test("plan() leaves a root start that switches to no one as it is without a passwd line for uid 0", () => {
  // A distroless image: /etc/passwd lists no root, nss_wrapper is there, /etc/passwd is root's.
  const p = planFixture(
    "local-unknown/docker",
    withFiles({ "/etc/passwd": "ml:x:1000:100::/home/ml:/bin/sh\n", [NSS_LIB]: "" }),
  );
  equal(p.user, null);
  deepEqual(p.files, []);
  deepEqual(
    ["LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP"].filter((n) => n in p.env),
    [],
  );
  deepEqual(p.steps.filter((s) => s.step === "passwd-entry"), []);
  deepEqual(p.warnings.filter((w) => w.includes("passwd")), []);
});

Deno.test("plan() chowns a CHOWN_HOME home whose owner is right but whose group is not", () => {
  const p = planFixture(
    "local-unknown/docker",
    all(
      withEnv({ CHAMELEON_USER: "1000:100", CHOWN_HOME: "yes" }),
      withDir("/home/ml", 1000, 0),
    ),
  );
  deepEqual(chowns(p), [["/home/ml", false]]);
});

Deno.test("plan() chowns a CHOWN_EXTRA path the snapshot has no owner for, even when switching to 0:0", () => {
  // Root keeps its uid and gid but takes group 5: /data was never looked at, so its owner is not known to be 0:0.
  const p = planFixture(
    "local-unknown/docker",
    withEnv({ CHAMELEON_USER: "0:0:0,5", CHOWN_EXTRA: "/data" }),
  );
  deepEqual(chowns(p), [["/data", false]]);
});

Deno.test("plan() gives no taken-name warning when NB_USER is the passwd name of NB_UID itself", () => {
  // ml is uid 1000 in the image's passwd: asking for that user by name is no clash.
  const p = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    notebookAsRoot({ NB_USER: "ml", NB_UID: "1000" }),
  );
  deepEqual([p.user?.uid, p.user?.name], [1000, "ml"]);
  deepEqual(p.warnings.filter((w) => w.includes("another uid's name")), []);
});

Deno.test("plan() moves a HOME that is no folder (HOME=/dev/null, a passwd home on a file), writable or not", () => {
  // A device anyone may write, as the live snapshot records it: a file entry with its stat.
  const devNull = (s: Snapshot): Snapshot => ({
    ...s,
    files: { ...s.files, "/dev/null": "" },
    stat: { ...s.stat, "/dev/null": { uid: 0, gid: 0, mode: "0666" } },
  });
  const p = planFixture(
    "local-unknown/docker",
    all(asAnonymous(), devNull, withEnv({ HOME: "/dev/null" })),
  );
  equal(p.env["HOME"], "/tmp/chameleon/home/4321");
  equal(p.env["XDG_CACHE_HOME"], "/tmp/chameleon/home/4321/.cache");
  deepEqual(p.warnings, [
    "HOME /dev/null is not a folder: using /tmp/chameleon/home/4321",
  ]);
  // A switch to a user whose passwd home is a file the user owns: no HOME either.
  const s = planFixture(
    "local-unknown/docker",
    all(
      withEnv({ CHAMELEON_USER: "1500:1500" }),
      withPasswdLine("svc:x:1500:1500::/srv/svc.db:/bin/sh"),
      withFiles({ "/srv/svc.db": "" }),
      (x) => ({ ...x, stat: { ...x.stat, "/srv/svc.db": { uid: 1500, gid: 1500, mode: "0644" } } }),
    ),
  );
  deepEqual([s.user?.home, s.env["HOME"]], [
    "/run/chameleon/home/1500",
    "/run/chameleon/home/1500",
  ]);
  deepEqual(s.dirs, [{
    path: "/run/chameleon/home/1500",
    mode: "0700",
    owner: { uid: 1500, gid: 1500 },
  }]);
});

Deno.test("plan() makes no home behind a folder the user cannot search, nor keeps one CHOWN_HOME would chown", () => {
  // jane's home is missing; root could make it, but /srv/private (or /srv above it) is root's 0700.
  for (const closed of ["/srv/private", "/srv"]) {
    const p = planFixture(
      "local-unknown/docker",
      all(
        withEnv({ CHAMELEON_USER: "1500:1500" }),
        withPasswdLine("jane:x:1500:1500::/srv/private/jane:/bin/sh"),
        withDir("/srv", 0, 0, closed === "/srv" ? "0700" : "0755"),
        withDir("/srv/private", 0, 0, closed === "/srv/private" ? "0700" : "0755"),
      ),
    );
    equal(p.env["HOME"], "/run/chameleon/home/1500", closed);
    deepEqual(p.dirs.map((d) => d.path), ["/run/chameleon/home/1500"], closed);
    deepEqual(p.warnings, [
      "HOME /srv/private/jane of uid 1500 does not exist, and uid 1500 cannot search a folder above it: using /run/chameleon/home/1500",
    ], closed);
  }
  // CHOWN_HOME makes /home/ml the user's, but a 0700 /home keeps the user out of it all the same.
  const chowned = planFixture(
    "local-unknown/docker",
    all(
      withEnv({ CHAMELEON_USER: "1000:100", CHOWN_HOME: "yes" }),
      withDir("/home", 0, 0, "0700"),
      withDir("/home/ml", 0, 0),
    ),
  );
  equal(chowned.env["HOME"], "/run/chameleon/home/1000");
  deepEqual(chowned.warnings, [
    "HOME /home/ml is not writable for uid 1000: using /run/chameleon/home/1000",
  ]);
  // A /home the user can search: the home is made, or chowned and kept, as before.
  const made = planFixture(
    "local-unknown/docker",
    all(
      withEnv({ CHAMELEON_USER: "1500:1500" }),
      withPasswdLine("jane:x:1500:1500::/srv/private/jane:/bin/sh"),
      withDir("/srv/private", 0, 0),
    ),
  );
  deepEqual(made.dirs.map((d) => d.path), ["/srv/private/jane"]);
  const kept = planFixture(
    "local-unknown/docker",
    all(withEnv({ CHAMELEON_USER: "1000:100", CHOWN_HOME: "yes" }), withDir("/home/ml", 0, 0)),
  );
  deepEqual([kept.env["HOME"], chowns(kept)], ["/home/ml", [["/home/ml", false]]]);
});

Deno.test("plan() warns a start that is not root that NB_USER's name and home cannot be given, as start.sh does", () => {
  const notRoot = (env: Record<string, string>) =>
    planFixture(
      "kubernetes-notebook/kubeflow-notebook",
      all(ownNbEnv({ NB_UID: "1000", NB_GID: "100", ...env }), withDir("/home/jovyan", 1000, 100)),
    );
  const renamed = (p: Plan) => p.warnings.filter((w) => w.startsWith("NB_USER "));
  // uid 1000 is ml in passwd, and only root could rename it (docker-stacks warns the same).
  deepEqual(renamed(notRoot({ NB_USER: "alice" })), [
    "NB_USER alice asks for that user name and the home /home/alice, but the entrypoint runs as uid 1000, not root: the command runs as ml with HOME /home/jovyan",
  ]);
  // The default name (the image's, as docker-stacks' jovyan) and the uid's own name ask nothing.
  deepEqual(renamed(notRoot({ NB_USER: "jovyan" })), []);
  deepEqual(renamed(notRoot({ NB_USER: "ml" })), []);
  // docker-stacks' jovyan, which an image built on it keeps in NB_USER, asks nothing beside a
  // config user either; the config user's name asks nothing.
  const config = configFromYaml("user: {name: app, uid: 1000, gid: 100, home: /home/app}\n");
  for (const name of ["jovyan", "app"]) {
    const p = planFixture(
      "kubernetes-notebook/kubeflow-notebook",
      all(
        ownNbEnv({ NB_USER: name, NB_UID: "1000", NB_GID: "100" }),
        withDir("/home/jovyan", 1000, 100),
      ),
      config,
    );
    deepEqual(renamed(p), [], name);
  }
  // A uid without a passwd entry takes the name, not the home.
  const anonymous = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    all(
      ownNbEnv({ NB_USER: "kitten" }),
      asAnonymous(),
      withDir("/home/jovyan", 4321, 4321),
    ),
  );
  deepEqual(renamed(anonymous), [
    "NB_USER kitten asks for that user name and the home /home/kitten, but the entrypoint runs as uid 4321, not root: the command runs as kitten with HOME /home/jovyan",
  ]);
});

Deno.test("plan() does not warn a start that is not root of NB_UID and NB_GID at the image's defaults, as start.sh does not", () => {
  // docker-stacks images set NB_UID=1000 and NB_GID=100 themselves: a random uid asks for neither.
  const asRandomUid = (env: Record<string, string>) =>
    planFixture(
      "kubernetes-notebook/kubeflow-notebook",
      all(ownNbEnv(env), (s) => ({ ...s, uid: 1000650000, gid: 0, groups: [0] })),
    );
  const noSwitch = (p: Plan) => p.warnings.filter((w) => w.includes("no user switch"));
  deepEqual(noSwitch(asRandomUid({ NB_USER: "jovyan", NB_UID: "1000", NB_GID: "100" })), []);
  // An NB_GID that is the start's own gid asks for nothing either.
  deepEqual(noSwitch(asRandomUid({ NB_UID: "1000", NB_GID: "0" })), []);
  // Ids other than the defaults and the start's own are asked for.
  deepEqual(noSwitch(asRandomUid({ NB_UID: "1500" })), [
    "NB_USER/NB_UID/NB_GID asks for 1500:100:100, but the entrypoint runs as uid 1000650000, not root: no user switch",
  ]);
  deepEqual(noSwitch(asRandomUid({ NB_GID: "1500" })).length, 1);
  // The defaults are the config user's when there is one.
  const config = configFromYaml("user: {name: app, uid: 1234, gid: 1235, home: /srv/app}\n");
  const withConfig = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    all(
      ownNbEnv({ NB_UID: "1234", NB_GID: "1235" }),
      (s) => ({ ...s, uid: 1000650000, gid: 0, groups: [0] }),
    ),
    config,
  );
  deepEqual(noSwitch(withConfig), []);
  // An image built on docker-stacks keeps its NB_UID=1000 and NB_GID=100 beside a config user.
  const inherited = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    all(
      ownNbEnv({ NB_USER: "jovyan", NB_UID: "1000", NB_GID: "100" }),
      (s) => ({ ...s, uid: 1000650000, gid: 0, groups: [0] }),
    ),
    config,
  );
  deepEqual(noSwitch(inherited), []);
});

Deno.test("chownOptsRecursive() answers as its pattern did (4,000 random option strings), and reads a 100,000-letter word", () => {
  const old = /(^|\s)(-[A-Za-z]*R[A-Za-z]*|--recursive)(\s|$)/;
  const pieces = ["-", "--recursive", "R", "v", " ", "\t", "1", "--", "\u00a0", "r"];
  let x = 31;
  const next = (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) % n;
  for (let k = 0; k < 4000; k++) {
    let t = "";
    for (let n = next(8); n > 0; n--) t += pieces[next(pieces.length)];
    equal(chownOptsRecursive(t), old.test(t), JSON.stringify(t));
  }
  equal(chownOptsRecursive("-" + "R".repeat(100_000) + "1"), false);
  equal(chownOptsRecursive("-v " + "-" + "R".repeat(100_000)), true);
});
