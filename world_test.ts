import { deepEqual, equal } from "@std/assert";
import { fixture, snap } from "./tests/helpers.ts";
import {
  givenRuntimeDir,
  listItems,
  normalizePath,
  parentOf,
  parseGroup,
  parsePasswd,
  World,
} from "./world.ts";

Deno.test("parsePasswd() skips malformed lines instead of guessing their ids", () => {
  const text = [
    "root:x:0:0:root:/root:/bin/bash",
    "# a comment:x:1:1:::",
    "empty-uid:x::1000:e:/home/e:/bin/sh", // Number("") would be 0: root
    "spaced:x: 7:7:s:/home/s:/bin/sh",
    "exp:x:1e3:1000:x:/home/x:/bin/sh",
    "huge:x:4294967296:1:h:/home/h:/bin/sh",
    "short:x:1001:1001",
    "six:x:1003:1003:s:/home/six", // no shell field
    "badgid:x:1004:staff:b:/home/b:/bin/sh",
    ":x:1002:1002::/:/bin/sh",
    "ml:x:1000:100:ML:/home/ml:/bin/bash",
    "",
  ].join("\n");
  deepEqual(parsePasswd(text).map((e) => [e.name, e.uid, e.gid, e.home]), [
    ["root", 0, 0, "/root"],
    ["ml", 1000, 100, "/home/ml"],
  ]);
});

Deno.test("parseGroup() skips malformed lines and splits members", () => {
  const text = [
    "root:x:0:",
    "users:x:100:ml,ana",
    "nogid:x::ml",
    "bad:x:-5:",
    "short:x:7",
    "# old:x:5:ml",
    ":x:6:ml",
    "",
  ].join("\n");
  deepEqual(parseGroup(text).map((g) => [g.name, g.gid, g.members]), [
    ["root", 0, []],
    ["users", 100, ["ml", "ana"]],
  ]);
});

Deno.test("World.memo() computes a value once per world and key", () => {
  const snapshot = fixture("local-unknown/docker");
  const world = new World(snapshot);
  let made = 0;
  const make = () => ({ n: ++made });
  const first = world.memo("a", make);
  equal(world.memo("a", make), first);
  equal(made, 1);
  equal(world.memo("b", make).n, 2);
  // Another world over the same snapshot has its own answers.
  equal(new World(snapshot).memo("a", make).n, 3);
});

Deno.test("World.env() knows only the snapshot's own variables, not names every object inherits", () => {
  const world = new World(snap({ env: { PATH: "/usr/bin" } }));
  equal(world.env("constructor"), undefined);
  equal(world.hasEnv("toString"), false);
  equal(world.env("PATH"), "/usr/bin");
});

Deno.test("World.file() knows only the snapshot's own unreadable entries, not names every object inherits", () => {
  const world = new World(snap({ unreadable: { "/a": "permission denied" } }));
  deepEqual(world.file("constructor"), { kind: "missing" });
  deepEqual(world.file("/a"), { kind: "unreadable", reason: "permission denied" });
});

Deno.test("World.file() of a folder is unreadable, not missing", () => {
  const world = new World(snap({ dirs: ["/opt/ml/input/config/hyperparameters.json"] }));
  deepEqual(world.file("/opt/ml/input/config/hyperparameters.json"), {
    kind: "unreadable",
    reason: "is a directory",
  });
  deepEqual(world.file("/opt/ml/input/config/nothing.json"), { kind: "missing" });
});

Deno.test("World indexes an unreadable file like any other: its folders exist and list it", () => {
  const world = new World(snap({ unreadable: { "/opt/ml/secret/key.json": "permission denied" } }));
  equal(world.isDir("/opt/ml/secret"), true);
  deepEqual(world.children("/opt/ml/secret"), ["key.json"]);
});

Deno.test("World.canWrite(): root writes whatever the mode, but nobody on a read-only file system", () => {
  const world = new World(snap({
    dirs: ["/home/ml", "/data"],
    stat: {
      "/home/ml": { uid: 1000, gid: 100, mode: "0555" },
      "/data": { uid: 0, gid: 0, mode: "0777", readOnly: true },
    },
  }));
  equal(world.canWrite("/home/ml", 0, 0, [0]), true);
  equal(world.canWrite("/data/out", 0, 0, [0]), false);
  equal(world.canWrite("/data/out", 1000, 100, [100]), false);
});

Deno.test("World.canWrite() needs every folder above to be searchable, and a folder's own search bit", () => {
  const world = new World(snap({
    dirs: ["/root/work", "/srv/nox", "/srv/open"],
    files: { "/root/work/notes.txt": "" },
    stat: {
      "/root": { uid: 0, gid: 0, mode: "0700" },
      "/root/work": { uid: 1000, gid: 1000, mode: "0755" },
      "/root/work/notes.txt": { uid: 1000, gid: 1000, mode: "0644" },
      "/srv/nox": { uid: 1000, gid: 1000, mode: "0600" },
      "/srv/open": { uid: 1000, gid: 1000, mode: "0700" },
    },
  }));
  // The user's own folder inside root's 0700 /root: unreachable for uid 1000, not for root.
  equal(world.canWrite("/root/work", 1000, 1000, [1000]), false);
  equal(world.canWrite("/root/work/notes.txt", 1000, 1000, [1000]), false);
  equal(world.canWrite("/root/work", 0, 0, [0]), true);
  // A folder without its search bit: nothing can be made in it.
  equal(world.canWrite("/srv/nox", 1000, 1000, [1000]), false);
  equal(world.canWrite("/srv/open", 1000, 1000, [1000]), true);
});

Deno.test("World.canWrite() takes the group bits for a supplementary group", () => {
  const world = new World(snap({
    dirs: ["/shared"],
    stat: { "/shared": { uid: 0, gid: 100, mode: "0775" } },
  }));
  equal(world.canWrite("/shared", 1000, 1000, [1000, 100]), true);
  equal(world.canWrite("/shared", 1000, 1000, [1000]), false);
});

Deno.test("normalizePath() removes trailing slashes but keeps /, and parentOf() knows no parent of a relative path", () => {
  equal(normalizePath("/"), "/");
  equal(normalizePath("/opt/ml//"), "/opt/ml");
  equal(normalizePath("a/"), "a");
  equal(parentOf("/opt/ml"), "/opt");
  equal(parentOf("/opt"), "/");
  equal(parentOf("/"), null);
  equal(parentOf("opt/ml"), null);
  equal(parentOf("opt"), null);
});

Deno.test("World.children() of / lists the top folders by their whole names", () => {
  const world = new World(snap({ dirs: ["/opt/ml"], files: { "/etc/passwd": "" } }));
  deepEqual(world.children("/"), ["etc", "opt"]);
  deepEqual(world.children("/opt/"), ["ml"]);
  equal(world.isDir("/"), true);
  equal(world.exists("/"), true);
});

Deno.test("World.stat() without an entry is root's, 0755 for a folder and 0644 for a file", () => {
  const world = new World(snap({ dirs: ["/opt/ml"], files: { "/opt/ml/run.sh": "" } }));
  deepEqual(world.stat("/opt/ml"), { uid: 0, gid: 0, mode: 0o755 });
  deepEqual(world.stat("/opt/ml/run.sh"), { uid: 0, gid: 0, mode: 0o644 });
  deepEqual(world.stat("/nowhere"), { uid: 0, gid: 0, mode: 0o644 });
  // A file with the default mode runs for nobody, root included.
  equal(world.canExecute("/opt/ml/run.sh", 0, 0, [0]), false);
  equal(world.canExecute("/opt/ml/run.sh", 1000, 1000, [1000]), false);
});

Deno.test("World.memo() keeps an answer of undefined too", () => {
  const world = new World(snap());
  let made = 0;
  const make = () => {
    made++;
    return undefined;
  };
  equal(world.memo("absent", make), undefined);
  equal(world.memo("absent", make), undefined);
  equal(made, 1);
});

Deno.test("listItems() and World.envList() trim the items and drop empty ones", () => {
  deepEqual(listItems(" a, b ,, c ,"), ["a", "b", "c"]);
  deepEqual(listItems(" , "), []);
  deepEqual(new World(snap({ env: { HOSTS: "algo-1 , ,algo-2" } })).envList("HOSTS"), [
    "algo-1",
    "algo-2",
  ]);
});

Deno.test("World.user() is the first passwd entry of a uid, as getpwuid() answers", () => {
  const world = new World(snap({
    files: { "/etc/passwd": "ml:x:1000:100::/home/ml:/bin/sh\nalias:x:1000:100::/tmp:/bin/sh\n" },
  }));
  equal(world.user(1000)?.name, "ml");
  equal(world.user(1001), undefined);
});

Deno.test("World.canWrite() takes the group bits for the primary group, which the groups list may not repeat", () => {
  const world = new World(snap({
    dirs: ["/shared"],
    stat: { "/shared": { uid: 0, gid: 100, mode: "0775" } },
  }));
  equal(world.canWrite("/shared", 1000, 100, []), true);
  equal(world.canWrite("/shared", 1000, 1000, []), false);
});

Deno.test("World.canWrite() of a path known only by its stat uses that stat, not its folder's", () => {
  const world = new World(snap({
    stat: { "/data/out": { uid: 1000, gid: 1000, mode: "0644" } },
  }));
  equal(world.canWrite("/data/out", 1000, 1000, [1000]), true);
  equal(world.canWrite("/data/out", 1001, 1001, [1001]), false);
});

Deno.test("World.canWrite() checks every folder above with a stat, past one without", () => {
  const world = new World(snap({
    dirs: ["/root/a/b"],
    stat: {
      "/root": { uid: 0, gid: 0, mode: "0700" },
      "/root/a/b": { uid: 1000, gid: 1000, mode: "0755" },
    },
  }));
  equal(world.canWrite("/root/a/b", 1000, 1000, [1000]), false);
});

Deno.test("World.canWrite() of a relative path, with no folder to go by, is no for a user", () => {
  const world = new World(snap());
  equal(world.canWrite("out/file", 1000, 1000, [1000]), false);
});

Deno.test("World.canExecute() lets root run a file with any execute bit, the others' included", () => {
  const world = new World(snap({
    files: { "/opt/run.sh": "", "/opt/group.sh": "" },
    stat: {
      "/opt/run.sh": { uid: 1000, gid: 1000, mode: "0641" },
      "/opt/group.sh": { uid: 1000, gid: 1000, mode: "0654" },
    },
  }));
  equal(world.canExecute("/opt/run.sh", 0, 0, [0]), true);
  equal(world.canExecute("/opt/group.sh", 0, 0, [0]), true);
});

Deno.test("World.stat() and canWrite() take a folder named with a trailing slash as the folder", () => {
  const world = new World(snap({
    dirs: ["/home/ml", "/data"],
    stat: {
      "/home/ml": { uid: 1000, gid: 100, mode: "0700" },
      "/data": { uid: 0, gid: 0, mode: "0777", readOnly: true },
    },
  }));
  deepEqual(world.stat("/home/ml/"), { uid: 1000, gid: 100, mode: 0o700 });
  equal(world.canWrite("/home/ml/", 1000, 100, [100]), true);
  equal(world.canWrite("/data/", 0, 0, [0]), false, "read-only, however it is named");
});

Deno.test("normalizePath() cuts as their patterns did (4,000 random paths), keep / of ///, and read 100,000 inner slashes", () => {
  let x = 99;
  const next = (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) % n;
  for (let k = 0; k < 4000; k++) {
    let p = "";
    for (let n = next(12); n > 0; n--) p += ["/", "/", "a", "."][next(4)];
    equal(normalizePath(p), p.replace(/(?<=.)\/+$/, ""), JSON.stringify(p));
    // Slashes alone were cut to nothing, which is no path: they keep their first, "/".
    const old = p.length > 1 && p.endsWith("/") ? p.replace(/\/+$/, "") || "/" : p;
    equal(normalizePath(p), old, JSON.stringify(p));
  }
  equal(normalizePath("///"), "/");
  const inner = "/a" + "/".repeat(100_000) + "b";
  equal(normalizePath(inner + "//"), inner);
  equal(
    givenRuntimeDir(new World(snap({ env: { CHAMELEON_RUNTIME_DIR: inner + "/" } }))),
    inner,
  );
});
