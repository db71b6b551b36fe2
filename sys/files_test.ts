/**
 * The apply stage's file primitives, as root (these machines and CI run the
 * tests as root): atomic writes that never follow a link, folders whose
 * existing modes are kept.
 */
import { deepEqual, equal, match, ok, rejects } from "@std/assert";
import { InputError } from "../errors.ts";
import { caught, runProcess, tempDir } from "../tests/helpers.ts";
import { checkFolderChain, makeFolder, writeFileAtomic, writeOutput } from "./files.ts";

const modeOf = (p: string) => Deno.lstatSync(p).mode! & 0o7777;

Deno.test("writeFileAtomic() never writes through a link planted where its temporary file goes", () => {
  using tmp = tempDir();
  const victim = `${tmp.path}/victim`;
  Deno.writeTextFileSync(victim, "secret", { mode: 0o600 });
  Deno.chmodSync(victim, 0o600);
  // Every name the old code could have used as PID 1, or as this process.
  for (const pid of [1, Deno.pid]) Deno.symlinkSync(victim, `${tmp.path}/passwd.tmp-${pid}`);
  writeFileAtomic(`${tmp.path}/passwd`, "root:x:0:0::/root:/bin/sh\n", 0o644, { uid: 7, gid: 8 });
  equal(Deno.readTextFileSync(victim), "secret");
  equal(modeOf(victim), 0o600);
  const written = Deno.lstatSync(`${tmp.path}/passwd`);
  ok(written.isFile, "a file, not the link");
  deepEqual([written.mode! & 0o7777, written.uid, written.gid], [0o644, 7, 8]);
  // A link at the destination is replaced, not followed.
  Deno.symlinkSync(victim, `${tmp.path}/group`);
  writeFileAtomic(`${tmp.path}/group`, "g", 0o644);
  equal(Deno.readTextFileSync(victim), "secret");
  ok(Deno.lstatSync(`${tmp.path}/group`).isFile);
  const left = [...Deno.readDirSync(tmp.path)].map((e) => e.name).filter((n) =>
    n.includes(".tmp-")
  );
  equal(left.length, 2, "only the two planted links: no temporary file left behind");
});

Deno.test("makeFolder() keeps an existing folder's mode, and sets modes on what it creates whatever the umask", () => {
  using tmp = tempDir();
  const shared = `${tmp.path}/shared`;
  Deno.mkdirSync(shared);
  Deno.chmodSync(shared, 0o1777);
  makeFolder(shared, 0o755);
  equal(modeOf(shared), 0o1777, "a runtime dir of /tmp keeps its sticky bit");
  const old = Deno.umask(0o077);
  try {
    makeFolder(`${shared}/a/b/home`, 0o700, { uid: 1234, gid: 1234 });
  } finally {
    Deno.umask(old);
  }
  equal(modeOf(`${shared}/a`), 0o755, "parents stay traversable");
  equal(modeOf(`${shared}/a/b`), 0o755);
  const home = Deno.lstatSync(`${shared}/a/b/home`);
  deepEqual([home.mode! & 0o7777, home.uid, home.gid], [0o700, 1234, 1234]);
  // An owner given: an existing per-user folder is made the owner's again.
  Deno.chownSync(`${shared}/a/b/home`, 0, 0);
  Deno.chmodSync(`${shared}/a/b/home`, 0o755);
  makeFolder(`${shared}/a/b/home`, 0o700, { uid: 1234, gid: 1234 });
  const again = Deno.lstatSync(`${shared}/a/b/home`);
  deepEqual([again.mode! & 0o7777, again.uid], [0o700, 1234]);
});

Deno.test("makeFolder() refuses a link where a folder with an owner goes, and leaves its target alone", () => {
  using tmp = tempDir();
  const target = `${tmp.path}/target`;
  Deno.mkdirSync(target);
  Deno.chmodSync(target, 0o755);
  Deno.mkdirSync(`${tmp.path}/home`);
  Deno.symlinkSync(target, `${tmp.path}/home/54321`);
  const e = caught(() => makeFolder(`${tmp.path}/home/54321`, 0o700, { uid: 54321, gid: 54321 }));
  match(String(e), /a symbolic link \(not followed\)/);
  const t = Deno.lstatSync(target);
  deepEqual([t.mode! & 0o7777, t.uid], [0o755, 0]);
});

Deno.test("makeFolder() keeps an existing folder only when it is one: a dangling link or a file is an error", () => {
  using tmp = tempDir();
  Deno.symlinkSync(`${tmp.path}/nowhere`, `${tmp.path}/dangle`);
  Deno.writeTextFileSync(`${tmp.path}/file`, "");
  Deno.mkdirSync(`${tmp.path}/real`);
  Deno.symlinkSync(`${tmp.path}/real`, `${tmp.path}/link`);
  equal(
    String(caught(() => makeFolder(`${tmp.path}/dangle`, 0o755))),
    "Error: a link to nothing, expected a folder",
  );
  equal(
    String(caught(() => makeFolder(`${tmp.path}/file`, 0o755))),
    "Error: not a folder, expected one",
  );
  makeFolder(`${tmp.path}/link`, 0o755); // a runtime dir may be a link to a folder
});

/** Writes `content` with writeOutput() to `path`, a pipe's name or a link to it, as `cat` reads the pipe. */
async function outputThroughPipe(fifo: string, path: string, content: string): Promise<string> {
  const reader = new Deno.Command("cat", { args: [fifo], stdout: "piped" }).spawn();
  try {
    await writeOutput("Capture", path, content, 0o600);
    ok(Deno.lstatSync(fifo).isFifo, "the pipe is still a pipe");
  } catch (e) {
    reader.kill(); // nobody writes to the pipe it waits on
    await reader.output();
    throw e;
  }
  return new TextDecoder().decode((await reader.output()).stdout);
}

Deno.test("writeOutput() writes into a pipe, named or through a link, rather than replacing it", async () => {
  using tmp = tempDir();
  const fifo = `${tmp.path}/fifo`;
  equal((await runProcess(["mkfifo", fifo])).code, 0);
  equal(await outputThroughPipe(fifo, fifo, "named\n"), "named\n");
  Deno.symlinkSync(fifo, `${tmp.path}/link`);
  equal(await outputThroughPipe(fifo, `${tmp.path}/link`, "linked\n"), "linked\n");
});

Deno.test("writeOutput() follows no link of another uid anywhere in a chain", async () => {
  using tmp = tempDir();
  const target = `${tmp.path}/target.json`;
  Deno.writeTextFileSync(target, "old");
  Deno.symlinkSync("target.json", `${tmp.path}/theirs`);
  equal((await runProcess(["chown", "-h", "4242:4242", `${tmp.path}/theirs`])).code, 0);
  Deno.symlinkSync(`${tmp.path}/theirs`, `${tmp.path}/mine`);
  await rejects(
    () => writeOutput("Capture", `${tmp.path}/mine`, "new", 0o600),
    InputError,
    `Capture ${tmp.path}/mine: leads through ${tmp.path}/theirs, a symbolic link of uid 4242`,
  );
  equal(Deno.readTextFileSync(target), "old");
});

Deno.test("writeOutput() follows no link of another uid on the way to the file, nor to the end of a chain", async () => {
  using tmp = tempDir();
  // A folder only root may write, which uid 4242 made `run` lead to.
  const victim = `${tmp.path}/victim`;
  Deno.mkdirSync(victim);
  Deno.symlinkSync(victim, `${tmp.path}/run`);
  equal((await runProcess(["chown", "-h", "4242:4242", `${tmp.path}/run`])).code, 0);
  await rejects(
    () => writeOutput("Capture", `${tmp.path}/run/snap.json`, "new", 0o600),
    InputError,
    `Capture ${tmp.path}/run/snap.json: on the way, ${tmp.path}/run: a symbolic link of uid 4242, not followed`,
  );
  // Root's own link whose target's folder is that link.
  Deno.symlinkSync(`${tmp.path}/run/snap.json`, `${tmp.path}/mine`);
  await rejects(
    () => writeOutput("Capture", `${tmp.path}/mine`, "new", 0o600),
    InputError,
    `on the way, ${tmp.path}/run: a symbolic link of uid 4242, not followed`,
  );
  equal([...Deno.readDirSync(victim)].length, 0, "nothing written through the link");
});

Deno.test("writeOutput() follows no link of another uid under /dev either (/dev/shm is open to all)", async () => {
  using tmp = tempDir();
  const target = `${tmp.path}/target.json`;
  Deno.writeTextFileSync(target, "old");
  const link = `/dev/shm/chameleon-test-${crypto.randomUUID()}`;
  // Deno's own file APIs want --allow-all under /dev: the link is made and removed by commands.
  const made = await runProcess([
    "sh",
    "-c",
    `ln -s "$0" "$1" && chown -h 4242:4242 "$1"`,
    target,
    link,
  ]);
  try {
    equal(made.code, 0, made.stderr);
    await rejects(
      () => writeOutput("Capture", link, "new", 0o600),
      InputError,
      `Capture ${link}: is a symbolic link of uid 4242`,
    );
    equal(Deno.readTextFileSync(target), "old");
  } finally {
    await runProcess(["rm", "-f", link]);
  }
});

Deno.test("writeOutput() replaces the file at the end of a chain of links, and keeps the links", async () => {
  using tmp = tempDir();
  const target = `${tmp.path}/target.json`;
  Deno.writeTextFileSync(target, "old");
  Deno.symlinkSync("target.json", `${tmp.path}/one`);
  Deno.symlinkSync(`${tmp.path}/one`, `${tmp.path}/two`);
  const before = Deno.statSync(target).ino;
  await writeOutput("Capture", `${tmp.path}/two`, "new", 0o600);
  equal(Deno.readTextFileSync(target), "new");
  ok(
    Deno.statSync(target).ino !== before,
    "a new file renamed over the old one, not written in place",
  );
  equal(modeOf(target), 0o600);
  ok(Deno.lstatSync(`${tmp.path}/one`).isSymlink && Deno.lstatSync(`${tmp.path}/two`).isSymlink);
});

Deno.test("makeFolder() gives a folder it creates without an owner the mode asked, whatever the umask", () => {
  using tmp = tempDir();
  const old = Deno.umask(0o077);
  try {
    makeFolder(`${tmp.path}/a/new`, 0o751);
  } finally {
    Deno.umask(old);
  }
  equal(modeOf(`${tmp.path}/a/new`), 0o751);
  equal(modeOf(`${tmp.path}/a`), 0o755);
});

Deno.test("makeFolder() below a guard takes a per-user folder its user owns from an earlier start, not a third uid's", () => {
  using tmp = tempDir();
  const rt = `${tmp.path}/rt`;
  Deno.mkdirSync(`${rt}/home`, { recursive: true });
  Deno.chownSync(`${rt}/home`, 54321, 54321);
  makeFolder(`${rt}/home`, 0o700, { uid: 54321, gid: 54321 }, rt);
  deepEqual([modeOf(`${rt}/home`), Deno.lstatSync(`${rt}/home`).uid], [0o700, 54321]);
  Deno.chownSync(`${rt}/home`, 4242, 4242);
  const e = caught(() => makeFolder(`${rt}/home`, 0o700, { uid: 54321, gid: 54321 }, rt));
  match(String(e), /home belongs to uid 4242, which could have prepared what is in it/);
  equal(Deno.lstatSync(`${rt}/home`).uid, 4242);
});

Deno.test("writeFileAtomic() keeps set-id bits of its mode when it also sets an owner", () => {
  using tmp = tempDir();
  writeFileAtomic(`${tmp.path}/tool`, "#!/bin/sh\n", 0o2755, { uid: 7, gid: 8 });
  const st = Deno.lstatSync(`${tmp.path}/tool`);
  deepEqual([st.mode! & 0o7777, st.uid, st.gid], [0o2755, 7, 8]);
});

Deno.test("makeFolder() with an owner refuses a file where the folder goes, and leaves the file alone", () => {
  using tmp = tempDir();
  const file = `${tmp.path}/home`;
  Deno.writeTextFileSync(file, "x");
  Deno.chmodSync(file, 0o644);
  const e = caught(() => makeFolder(file, 0o700, { uid: 54321, gid: 54321 }));
  equal(String(e), "Error: not a folder, expected one");
  const st = Deno.lstatSync(file);
  deepEqual([st.mode! & 0o7777, st.uid], [0o644, 0]);
});

Deno.test("checkFolderChain() checks the existing folders below the top, not the top, and stops where they end", () => {
  using tmp = tempDir();
  const top = `${tmp.path}/rt`;
  Deno.mkdirSync(`${top}/a/b`, { recursive: true });
  Deno.chownSync(top, 4242, 4242); // the top itself is checked by whoever chose it
  checkFolderChain(top, top);
  checkFolderChain(top, `${top}/a/b/missing/deeper`);
  checkFolderChain(top, `${tmp.path}/elsewhere`);
  Deno.chownSync(`${top}/a`, 4242, 4242);
  const e = caught(() => checkFolderChain(top, `${top}/a/b`));
  equal(String(e), `Error: ${top}/a belongs to uid 4242, which could have prepared what is in it`);
  match(String(caught(() => checkFolderChain(top, `${top}/a`))), /a belongs to uid 4242/);
});
