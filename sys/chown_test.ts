import { deepEqual, equal, ok, throws } from "@std/assert";
import { ROOT, runProcess, tempDir } from "../tests/helpers.ts";
import { chownTree, HardLinksLeft, hardLinksProtected, LinkNotFollowed } from "./chown.ts";
import { cString, nulEnded, O, SYS, sys } from "./libc.ts";

// These tests change owners: the suite runs as root (the entrypoint's own case).

const ownerOf = (p: string) => {
  const s = Deno.lstatSync(p);
  return `${s.uid}:${s.gid}`;
};

/** A script in `dir` that runs `chownTree(<its argument>, 4242, 4343, true)` in a process of its own. */
function chownScript(dir: string): string {
  const script = `${dir}/chown.ts`;
  Deno.writeTextFileSync(
    script,
    `import { chownTree } from "${ROOT}/sys/chown.ts";\n` +
      `console.log(chownTree(Deno.args[0], 4242, 4343, true));\n`,
  );
  return script;
}

/** A tree `tree/{f, d/g}`, a link `tree/out` to a folder beside it, and that folder's file. */
function treeIn(root: string) {
  Deno.mkdirSync(`${root}/tree/d`, { recursive: true });
  Deno.mkdirSync(`${root}/outside`);
  for (const f of ["tree/f", "tree/d/g", "outside/secret"]) {
    Deno.writeTextFileSync(`${root}/${f}`, f);
  }
  Deno.symlinkSync(`${root}/outside`, `${root}/tree/out`);
  return { tree: `${root}/tree`, outside: `${root}/outside` };
}

Deno.test("chownTree -R changes the tree, follows no link in it, and counts what changed", () => {
  using tmp = tempDir(0o755);
  const { tree, outside } = treeIn(tmp.path);
  equal(chownTree(tree, 4242, 4343, true), 4); // tree, f, d, d/g
  for (const p of ["", "/f", "/d", "/d/g"]) equal(ownerOf(`${tree}${p}`), "4242:4343", p);
  deepEqual([ownerOf(outside), ownerOf(`${outside}/secret`)], ["0:0", "0:0"]);
  equal(chownTree(tree, 4242, 4343, true), 0, "what is owned right is left alone");
});

Deno.test("chownTree leaves an entry owned right alone, so its setuid bit stays", () => {
  using tmp = tempDir(0o755);
  const { tree } = treeIn(tmp.path);
  Deno.chownSync(`${tree}/f`, 4242, 4343);
  Deno.chmodSync(`${tree}/f`, 0o4755);
  chownTree(tree, 4242, 4343, true);
  equal(Deno.statSync(`${tree}/f`).mode! & 0o7777, 0o4755);
});

Deno.test("chownTree follows a link named on its own only without -R", () => {
  using tmp = tempDir(0o755);
  const { outside } = treeIn(tmp.path);
  const link = `${tmp.path}/link`;
  Deno.symlinkSync(outside, link);
  equal(chownTree(link, 4242, 4343, true), 0);
  equal(ownerOf(outside), "0:0");
  equal(chownTree(link, 4242, 4343, false), 1);
  deepEqual([ownerOf(outside), ownerOf(`${outside}/secret`)], ["4242:4343", "0:0"]);
});

Deno.test("chownTree follows no link named on its own that another uid made", async () => {
  using tmp = tempDir(0o755);
  const { outside } = treeIn(tmp.path);
  const link = `${tmp.path}/planted`;
  Deno.symlinkSync(outside, link);
  equal((await runProcess(["chown", "-h", "4242:4242", link])).code, 0);
  throws(() => chownTree(link, 4242, 4343, false), LinkNotFollowed, "a symbolic link of uid 4242");
  equal(ownerOf(outside), "0:0");
});

Deno.test("chownTree -R never follows a link swapped in for an entry while it walks the tree", () => {
  using tmp = tempDir(0o755);
  const { tree, outside } = treeIn(tmp.path);
  Deno.writeTextFileSync(`${tmp.path}/target`, "x");
  // Once each entry is open and looked at, it is renamed away and a link takes its place:
  // a chown or a listing by path would now reach what the link names.
  const swapped: string[] = [];
  chownTree(tree, 4242, 4343, true, (path) => {
    if (path === `${tree}/f` || path === `${tree}/d`) {
      Deno.renameSync(path, `${path}.moved`);
      Deno.symlinkSync(path.endsWith("/f") ? `${tmp.path}/target` : outside, path);
      swapped.push(path);
    }
  });
  deepEqual(swapped.sort(), [`${tree}/d`, `${tree}/f`]);
  deepEqual(
    [ownerOf(`${tmp.path}/target`), ownerOf(outside), ownerOf(`${outside}/secret`)],
    ["0:0", "0:0", "0:0"],
  );
  // What was opened is what changed: the entries themselves, under their new names.
  deepEqual([ownerOf(`${tree}/f.moved`), ownerOf(`${tree}/d.moved/g`)], ["4242:4343", "4242:4343"]);
});

Deno.test("chownTree names the path and the reason when it cannot go on", () => {
  using tmp = tempDir(0o755);
  throws(() => chownTree(`${tmp.path}/missing`, 1, 1, true), Error, "missing: no such file");
});

Deno.test("chownTree -R holds one descriptor per level, so a deep tree fits a small descriptor limit", async () => {
  using tmp = tempDir(0o755);
  const deep = `${tmp.path}/tree${"/d".repeat(150)}`;
  Deno.mkdirSync(deep, { recursive: true });
  const script = chownScript(tmp.path);
  // 256 descriptors: enough for Deno and 150 levels at one each, not at two.
  const r = await runProcess([
    "sh",
    "-c",
    `ulimit -n 256 && exec ${Deno.execPath()} run -A --quiet ${script} ${tmp.path}/tree`,
  ]);
  equal(r.stderr, "");
  equal(r.stdout.trim(), "151");
  equal(ownerOf(deep), "4242:4343");
});

Deno.test("chownTree follows a relative link from the link's folder, and checks a link named with a trailing slash", async () => {
  using tmp = tempDir(0o755);
  const { outside } = treeIn(tmp.path);
  Deno.symlinkSync("outside", `${tmp.path}/rel`);
  equal(chownTree(`${tmp.path}/rel`, 4242, 4343, false), 1);
  equal(ownerOf(outside), "4242:4343");
  Deno.chownSync(outside, 0, 0);
  // `planted/` would resolve the link before anything looked at it.
  const link = `${tmp.path}/planted`;
  Deno.symlinkSync(outside, link);
  equal((await runProcess(["chown", "-h", "4242:4242", link])).code, 0);
  throws(() => chownTree(`${link}//`, 4242, 4343, false), LinkNotFollowed, "of uid 4242");
  throws(() => chownTree(`${link}/`, 4242, 4343, true), LinkNotFollowed, "of uid 4242");
  equal(ownerOf(outside), "0:0");
  // With -R too, `link/` names the folder the link leads to, as the kernel resolves it: root's
  // link is followed and the tree below changes; a file named with a slash is no folder.
  equal(chownTree(`${tmp.path}/rel/`, 4242, 4343, true), 2);
  deepEqual([ownerOf(outside), ownerOf(`${outside}/secret`)], ["4242:4343", "4242:4343"]);
  throws(
    () => chownTree(`${outside}/secret/`, 4242, 4343, false),
    Error,
    "secret/: not a directory",
  );
});

Deno.test("chownTree follows no link that another uid made in a folder on the way to the path named", async () => {
  using tmp = tempDir(0o755);
  const { outside } = treeIn(tmp.path);
  // A home the user owns, where it planted `work -> outside`: `~/work/secret` is what is named.
  const home = `${tmp.path}/home`;
  Deno.mkdirSync(home);
  Deno.chownSync(home, 4242, 4242);
  const work = `${home}/work`;
  Deno.symlinkSync(outside, work);
  equal((await runProcess(["chown", "-h", "4242:4242", work])).code, 0);
  for (const recursive of [false, true]) {
    throws(
      () => chownTree(`${work}/secret`, 4242, 4343, recursive),
      LinkNotFollowed,
      `${work}/secret: on the way, ${work}: a symbolic link of uid 4242, not followed`,
    );
  }
  throws(() => chownTree(`${work}/../..`, 4242, 4343, false), LinkNotFollowed, "uid 4242");
  equal(ownerOf(`${outside}/secret`), "0:0");
  // Root's own link on the way is followed, as the kernel would.
  Deno.symlinkSync(outside, `${tmp.path}/mine`);
  equal(chownTree(`${tmp.path}/mine/secret`, 4242, 4343, false), 1);
  equal(ownerOf(`${outside}/secret`), "4242:4343");
  // A relative path is walked from the working folder the same way.
  Deno.chownSync(`${outside}/secret`, 0, 0);
  const cwd = Deno.cwd();
  Deno.chdir(tmp.path);
  try {
    throws(() => chownTree("home/work/secret", 4242, 4343, false), LinkNotFollowed, "uid 4242");
    equal(ownerOf(`${outside}/secret`), "0:0");
    equal(chownTree("./mine/secret", 4242, 4343, false), 1);
  } finally {
    Deno.chdir(cwd);
  }
});

Deno.test("chownTree checks every link of a chain: root's link to another uid's link is not followed", async () => {
  using tmp = tempDir(0o755);
  const { outside } = treeIn(tmp.path);
  const theirs = `${tmp.path}/theirs`;
  Deno.symlinkSync(outside, theirs);
  equal((await runProcess(["chown", "-h", "4242:4242", theirs])).code, 0);
  Deno.symlinkSync("theirs", `${tmp.path}/mine`);
  throws(
    () => chownTree(`${tmp.path}/mine`, 4242, 4343, false),
    LinkNotFollowed,
    "mine: leads through a symbolic link of uid 4242",
  );
  equal(ownerOf(outside), "0:0");
  // A chain of root's links is followed to its end, relative targets from each link's folder.
  Deno.mkdirSync(`${tmp.path}/sub`);
  Deno.symlinkSync("../outside", `${tmp.path}/sub/up`);
  Deno.symlinkSync("sub/up", `${tmp.path}/two`);
  equal(chownTree(`${tmp.path}/two`, 4242, 4343, false), 1);
  equal(ownerOf(outside), "4242:4343");
  // A loop ends as the kernel ends it.
  Deno.symlinkSync("loop-b", `${tmp.path}/loop-a`);
  Deno.symlinkSync("loop-a", `${tmp.path}/loop-b`);
  throws(
    () => chownTree(`${tmp.path}/loop-a`, 4242, 4343, false),
    Error,
    "loop-a: too many levels of symbolic links",
  );
});

Deno.test("chownTree follows the link it checked, not one swapped in under its name after the check", async () => {
  using tmp = tempDir(0o755);
  const d = tmp.path;
  Deno.writeTextFileSync(`${d}/victim`, "root's");
  Deno.writeTextFileSync(`${d}/harmless`, "root's too");
  Deno.symlinkSync(`${d}/harmless`, `${d}/work`); // root's link: followed
  Deno.symlinkSync(`${d}/victim`, `${d}/alt`);
  equal((await runProcess(["chown", "-h", "4242:4242", `${d}/alt`])).code, 0); // another uid's
  // A process swaps the two names as fast as it can (renameat2 with RENAME_EXCHANGE).
  const swapper = `${d}/swap.ts`;
  Deno.writeTextFileSync(
    swapper,
    `const libc = Deno.dlopen("libc.so.6", { syscall: { parameters: ["i64", "i64", "buffer", "i64", "buffer", "i64"], result: "i64" } });
const c = (s: string) => new TextEncoder().encode(s + "\\0");
const [a, b] = [c(${JSON.stringify(`${d}/work`)}), c(${JSON.stringify(`${d}/alt`)})];
const nr = Deno.build.arch === "aarch64" ? 276n : 316n;
console.log("swapping");
for (;;) libc.symbols.syscall(nr, -100n, a, -100n, b, 2n);
`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-ffi", swapper],
    stdout: "piped",
  }).spawn();
  try {
    const reader = child.stdout.getReader();
    await reader.read(); // "swapping": the loop runs
    let refused = 0, followed = 0, stolen = 0;
    for (let i = 0; i < 20_000; i++) {
      try {
        chownTree(`${d}/work`, 4242, 4242, false);
        followed++;
      } catch (e) {
        if (!(e instanceof LinkNotFollowed)) throw e;
        refused++;
      }
      if (ownerOf(`${d}/victim`) !== "0:0") {
        stolen++;
        Deno.chownSync(`${d}/victim`, 0, 0);
      }
      Deno.chownSync(`${d}/harmless`, 0, 0);
    }
    reader.releaseLock();
    // Both links stood under the name during the run: the race was run.
    ok(refused > 0 && followed > 0, `refused ${refused}, followed ${followed}`);
    equal(stolen, 0, `the other uid's link was followed ${stolen} times`);
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel().catch(() => {});
  }
});

Deno.test("chownTree tells a link's owner by its uid, not its group", async () => {
  using tmp = tempDir(0o755);
  const { outside } = treeIn(tmp.path);
  // Another uid's link in root's group is still another uid's: not followed.
  const planted = `${tmp.path}/planted`;
  Deno.symlinkSync(outside, planted);
  equal((await runProcess(["chown", "-h", "4242:0", planted])).code, 0);
  throws(
    () => chownTree(planted, 4242, 4343, false),
    LinkNotFollowed,
    "a symbolic link of uid 4242",
  );
  equal(ownerOf(outside), "0:0");
  // Root's link in another group is root's: followed.
  const own = `${tmp.path}/own`;
  Deno.symlinkSync(outside, own);
  equal((await runProcess(["chown", "-h", "0:4242", own])).code, 0);
  equal(chownTree(own, 4242, 4343, false), 1);
  equal(ownerOf(outside), "4242:4343");
});

Deno.test("chownTree changes an entry whose owner or group alone differs", () => {
  using tmp = tempDir(0o755);
  const { tree } = treeIn(tmp.path);
  Deno.chownSync(`${tree}/f`, 4242, 0); // the group differs
  Deno.chownSync(`${tree}/d/g`, 0, 4343); // the owner differs
  equal(chownTree(tree, 4242, 4343, true), 4);
  for (const p of ["", "/f", "/d", "/d/g"]) equal(ownerOf(`${tree}${p}`), "4242:4343", p);
});

Deno.test("chownTree -R skips an entry that is gone between the listing and its turn", () => {
  using tmp = tempDir(0o755);
  const tree = `${tmp.path}/tree`;
  Deno.mkdirSync(tree);
  const names = ["a", "b", "c", "d"];
  for (const n of names) Deno.writeTextFileSync(`${tree}/${n}`, n);
  // The first entry reached removes the others: they are listed, then missing when opened.
  const seen: string[] = [];
  const changed = chownTree(tree, 4242, 4343, true, (path) => {
    if (path === tree) return;
    seen.push(path);
    if (seen.length > 1) return;
    for (const n of names) if (`${tree}/${n}` !== path) Deno.removeSync(`${tree}/${n}`);
  });
  equal(seen.length, 1, seen.join(" "));
  equal(changed, 2); // the folder and the one entry left
  equal(ownerOf(seen[0]!), "4242:4343");
});

/** A chain of `levels` folders `d/d/...` made below `root` one name at a time (no long path). */
function deepChain(root: string, levels: number): void {
  let at = sys(SYS.openat, -100, cString(root), O.PATH | O.DIRECTORY | O.CLOEXEC, 0);
  const d = cString("d");
  for (let i = 0; i < levels; i++) {
    if (sys(SYS.mkdirat, at, d, 0o755) !== 0) throw new Error(`mkdirat failed at level ${i}`);
    const next = sys(SYS.openat, at, d, O.PATH | O.DIRECTORY | O.CLOEXEC, 0);
    sys(SYS.close, at);
    if (next < 0) throw new Error(`openat failed at level ${i}`);
    at = next;
  }
  sys(SYS.close, at);
}

Deno.test("chownTree -R walks a tree 20,000 levels deep within 256 descriptors, without a stack overflow", async () => {
  using tmp = tempDir(0o755);
  try {
    Deno.mkdirSync(`${tmp.path}/tree`);
    deepChain(`${tmp.path}/tree`, 20_000);
    Deno.writeTextFileSync(`${tmp.path}/tree/f`, "");
    const script = chownScript(tmp.path);
    const run = () =>
      runProcess([
        "sh",
        "-c",
        `ulimit -n 256 && exec ${Deno.execPath()} run -A --quiet ${script} ${tmp.path}/tree`,
      ]);
    const r = await run();
    equal(r.stderr, "");
    // The top, its file and every level: each changed once, and nothing is left to change.
    equal(r.stdout.trim(), "20002");
    equal(ownerOf(`${tmp.path}/tree/d/d`), "4242:4343");
    const again = await run();
    equal(again.stdout.trim(), "0");
  } finally {
    // Deeper than a path may be long: removed by rm, which walks it by descriptors.
    await runProcess(["rm", "-rf", `${tmp.path}/tree`]);
  }
});

Deno.test("chownTree -R stops, naming both, when a folder is moved out of the tree it walks", () => {
  using tmp = tempDir(0o755);
  Deno.mkdirSync(`${tmp.path}/tree/a/b/c`, { recursive: true });
  Deno.mkdirSync(`${tmp.path}/elsewhere`);
  throws(
    () =>
      chownTree(`${tmp.path}/tree`, 4242, 4343, true, (p) => {
        if (p.endsWith("/c")) Deno.renameSync(`${tmp.path}/tree/a/b`, `${tmp.path}/elsewhere/b`);
      }),
    Error,
    `${tmp.path}/tree/a/b: moved out of ${tmp.path}/tree/a while its tree was walked`,
  );
  // What it passed before is changed; nothing outside the tree's place is gone back up into.
  equal(ownerOf(`${tmp.path}/tree/a`), "4242:4343");
  equal(ownerOf(`${tmp.path}/elsewhere`), `${Deno.uid()}:${Deno.gid()}`);
});

Deno.test("chownTree leaves a file with other hard links alone when hard links are not protected", () => {
  using tmp = tempDir(0o755);
  const { tree, outside } = treeIn(tmp.path);
  // What a user makes where fs.protected_hardlinks is 0: a name in its home for root's file.
  Deno.linkSync(`${outside}/secret`, `${tree}/d/shadow`);
  Deno.linkSync(`${outside}/secret`, `${tmp.path}/named`);
  throws(
    () => chownTree(tree, 4242, 4343, true, undefined, false),
    HardLinksLeft,
    `${tree}: 1 file with other hard links left as it is (hard links are not protected), such as ${tree}/d/shadow`,
  );
  equal(ownerOf(`${outside}/secret`), "0:0");
  // The rest of the tree changed: the walk went on past it.
  for (const p of ["", "/f", "/d", "/d/g"]) equal(ownerOf(`${tree}${p}`), "4242:4343", p);
  // Named on its own too, and by a link root follows.
  throws(() => chownTree(`${tmp.path}/named`, 4242, 4343, false, undefined, false), HardLinksLeft);
  Deno.symlinkSync("named", `${tmp.path}/rootlink`);
  throws(
    () => chownTree(`${tmp.path}/rootlink`, 4242, 4343, false, undefined, false),
    HardLinksLeft,
  );
  equal(ownerOf(`${outside}/secret`), "0:0");
  // Where the kernel protects them (a user can link only what it owns or may read and write),
  // GNU chown's behaviour: it changes.
  equal(chownTree(tree, 4242, 4343, true, undefined, true), 1);
  equal(ownerOf(`${outside}/secret`), "4242:4343");
});

Deno.test("hardLinksProtected() reads fs.protected_hardlinks: only 1 protects", () => {
  using tmp = tempDir(0o755);
  const file = `${tmp.path}/protected_hardlinks`;
  for (const [text, want] of [["1\n", true], ["0\n", false], ["", false]] as const) {
    Deno.writeTextFileSync(file, text);
    equal(hardLinksProtected(file), want, JSON.stringify(text));
  }
  equal(hardLinksProtected(`${tmp.path}/missing`), false);
  // The live one, as /proc gives it (not a regular file to every reader).
  // Read through cat: the tests' permission list lets Deno itself read nothing under /proc.
  const live = new Deno.Command("cat", { args: ["/proc/sys/fs/protected_hardlinks"] }).outputSync();
  equal(live.success, true);
  equal(hardLinksProtected(), new TextDecoder().decode(live.stdout).trim() === "1");
});

Deno.test("chownTree follows no link of root's with other hard links when hard links are not protected", () => {
  using tmp = tempDir(0o755);
  const { outside } = treeIn(tmp.path);
  // Root's link, as /usr/lib/ssl/private -> /etc/ssl/private, linked by a user into its home
  // under the name CHOWN_EXTRA gives: the link is root's wherever its new name is.
  Deno.mkdirSync(`${tmp.path}/home`);
  Deno.symlinkSync(outside, `${tmp.path}/system-link`);
  Deno.linkSync(`${tmp.path}/system-link`, `${tmp.path}/home/work`);
  equal(Deno.lstatSync(`${tmp.path}/home/work`).nlink, 2);
  for (
    const [path, recursive] of [["home/work", false], ["home/work/", true], [
      "home/work/secret",
      false,
    ]] as const
  ) {
    throws(
      () => chownTree(`${tmp.path}/${path}`, 4242, 4343, recursive, undefined, false),
      LinkNotFollowed,
      "a symbolic link with other hard links (hard links are not protected), not followed",
    );
  }
  deepEqual([ownerOf(outside), ownerOf(`${outside}/secret`)], ["0:0", "0:0"]);
  // Where the kernel protects hard links, a user cannot link root's link: it is followed.
  equal(chownTree(`${tmp.path}/home/work`, 4242, 4343, false, undefined, true), 1);
  equal(ownerOf(outside), "4242:4343");
});

Deno.test("chownTree follows root's link through no link another uid made in the folders of its target", async () => {
  using tmp = tempDir(0o755);
  // The image's `/workspace -> /home/user/proj/work`; the user turned its `proj` into a link.
  Deno.mkdirSync(`${tmp.path}/system/work`, { recursive: true });
  Deno.writeTextFileSync(`${tmp.path}/system/work/secret`, "");
  Deno.mkdirSync(`${tmp.path}/home`);
  Deno.symlinkSync(`${tmp.path}/system`, `${tmp.path}/home/proj`);
  equal((await runProcess(["chown", "-h", "4242:4242", `${tmp.path}/home/proj`])).code, 0);
  Deno.symlinkSync(`${tmp.path}/home/proj/work`, `${tmp.path}/workspace`);
  // Relative too, looked up from the link's folder.
  Deno.symlinkSync("home/proj/work", `${tmp.path}/relative`);
  for (
    const [path, recursive] of [["workspace", false], ["workspace/", true], [
      "relative",
      false,
    ]] as const
  ) {
    throws(
      () => chownTree(`${tmp.path}/${path}`, 4242, 4343, recursive, undefined, true),
      LinkNotFollowed,
      "leads through a symbolic link of uid 4242, not followed",
    );
  }
  deepEqual([ownerOf(`${tmp.path}/system/work`), ownerOf(`${tmp.path}/system/work/secret`)], [
    "0:0",
    "0:0",
  ]);
  // A loop through the folders of targets ends as the kernel ends it.
  Deno.symlinkSync("loop-b/x", `${tmp.path}/loop-a`);
  Deno.symlinkSync("loop-a", `${tmp.path}/loop-b`);
  throws(
    () => chownTree(`${tmp.path}/loop-a`, 4242, 4343, false, undefined, true),
    Error,
    "loop-a: too many levels of symbolic links",
  );
  // Root's own link there is followed, as on the way to a path named.
  Deno.removeSync(`${tmp.path}/home/proj`);
  Deno.symlinkSync(`${tmp.path}/system`, `${tmp.path}/home/proj`);
  equal(chownTree(`${tmp.path}/workspace/`, 4242, 4343, true, undefined, true), 2);
  equal(ownerOf(`${tmp.path}/system/work/secret`), "4242:4343");
});

Deno.test("chownTree -R changes entries whose names are not UTF-8", async () => {
  using tmp = tempDir(0o755);
  const tree = `${tmp.path}/tree`;
  Deno.mkdirSync(tree);
  // Latin-1 names, as an old archive leaves them: made by bytes, which a string cannot spell.
  const bytes = (s: string) => new TextEncoder().encode(s);
  const at = sys(SYS.openat, -100, cString(tree), O.PATH | O.DIRECTORY | O.CLOEXEC, 0);
  try {
    const dir = Uint8Array.of(0xff);
    equal(sys(SYS.mkdirat, at, nulEnded(dir), 0o755), 0);
    const file = (name: Uint8Array) => {
      const fd = sys(SYS.openat, at, nulEnded(name), O.WRONLY | O.CREAT | O.CLOEXEC, 0o644);
      ok(fd >= 0);
      sys(SYS.close, fd);
    };
    file(Uint8Array.of(...bytes("caf"), 0xe9));
    file(Uint8Array.of(0xff, 0x2f, ...bytes("f"))); // \xff/f
  } finally {
    sys(SYS.close, at);
  }
  equal(chownTree(tree, 4242, 4343, true), 4);
  const left = await runProcess(["find", tree, "!", "-user", "4242"]);
  equal(left.stdout, "");
});

Deno.test("chownTree -R stops when a folder is moved out into a new folder that took the inode of the one it left", () => {
  using tmp = tempDir(0o755);
  const tree = `${tmp.path}/tree`;
  Deno.mkdirSync(`${tree}/a/b/c`, { recursive: true });
  Deno.writeTextFileSync(`${tree}/a/zz`, "");
  Deno.mkdirSync(`${tmp.path}/hold`);
  Deno.mkdirSync(`${tmp.path}/elsewhere`);
  let reused = "";
  throws(
    () =>
      chownTree(tree, 4242, 4343, true, (p) => {
        if (!p.endsWith("/b/c") || reused !== "") return;
        // The user empties `a` and removes it; ext4 gives its inode to the next folder made (a
        // file system that does not reuse inodes so soon makes this the plain move-out case).
        const ino = Deno.statSync(`${tree}/a`).ino;
        Deno.renameSync(`${tree}/a/b`, `${tmp.path}/hold/b`);
        Deno.removeSync(`${tree}/a/zz`);
        Deno.removeSync(`${tree}/a`);
        for (let i = 0; i < 1000 && reused === ""; i++) {
          Deno.mkdirSync(`${tmp.path}/elsewhere/d${i}`);
          if (Deno.statSync(`${tmp.path}/elsewhere/d${i}`).ino === ino) reused = `d${i}`;
        }
        reused ||= "d0";
        // Outside the tree, a file under a name that `a` listed, and `b` moved in below it.
        Deno.writeTextFileSync(`${tmp.path}/elsewhere/${reused}/zz`, "");
        Deno.renameSync(`${tmp.path}/hold/b`, `${tmp.path}/elsewhere/${reused}/b`);
      }),
    Error,
    `${tree}/a/b: moved out of ${tree}/a while its tree was walked`,
  );
  equal(ownerOf(`${tmp.path}/elsewhere/${reused}/zz`), "0:0");
});

Deno.test("chownTree -R on overlayfs goes back up through a folder it copied up, which changes its birth time", async () => {
  using tmp = tempDir(0o755);
  const [lower, upper, work, merged] = ["lower", "upper", "work", "merged"].map((d) => {
    Deno.mkdirSync(`${tmp.path}/${d}`);
    return `${tmp.path}/${d}`;
  });
  // The image's home, owned right but for one file deep down: chowning it copies up its
  // folders, each a new folder in the upper layer, while the walk is below them.
  Deno.mkdirSync(`${lower}/tree/a/b`, { recursive: true });
  Deno.writeTextFileSync(`${lower}/tree/a/b/f`, "");
  for (const p of ["tree", "tree/a", "tree/a/b"]) Deno.chownSync(`${lower}/${p}`, 4242, 4343);
  const script = chownScript(tmp.path);
  // A mount namespace of its own: the overlay is gone with the process.
  const r = await runProcess([
    "unshare",
    "-m",
    "sh",
    "-c",
    `mount -t overlay overlay -o lowerdir=${lower},upperdir=${upper},workdir=${work} ${merged} && ` +
    `exec ${Deno.execPath()} run -A --quiet ${script} ${merged}/tree`,
  ]);
  equal(r.stderr, "");
  equal(r.stdout.trim(), "1");
  equal(ownerOf(`${upper}/tree/a/b/f`), "4242:4343");
});
