/**
 * Streams by name: non-blocking descriptors someone else set up, small
 * pieces, devices. In-process, with a pipe made through libc.
 */
import { deepEqual, equal } from "@std/assert";
import { readStream, writeStream } from "./stream.ts";
import { entrypointArgv, runProcess, tempDir } from "../tests/helpers.ts";

const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const libc = Deno.dlopen("libc.so.6", {
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
}).symbols;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pipe whose both ends are non-blocking, as a parent process may hand one over. */
function nonBlockingPipe(): [number, number] {
  const fds = new Int32Array(2);
  if (libc.pipe2(new Uint8Array(fds.buffer), O_NONBLOCK | O_CLOEXEC) !== 0) {
    throw new Error("pipe2");
  }
  return [fds[0]!, fds[1]!];
}

Deno.test("readStream() waits on a non-blocking pipe fed slowly in small pieces, by its /dev/fd name", async () => {
  const [r, w] = nonBlockingPipe();
  const reading = readStream(`/dev/fd/${r}`, 1 << 20);
  const piece = new TextEncoder().encode("0123456789".repeat(100));
  for (let i = 0; i < 20; i++) {
    await sleep(5);
    equal(Number(libc.write(w, piece, BigInt(piece.length))), piece.length);
  }
  libc.close(w);
  const got = await reading;
  deepEqual(got, { kind: "ok", text: "0123456789".repeat(2000) });
  libc.close(r);
});

Deno.test("writeStream() waits for a slow reader of a non-blocking pipe instead of failing", async () => {
  const [r, w] = nonBlockingPipe();
  const text = "x".repeat(300_000); // more than a pipe holds
  const writing = writeStream(`/proc/self/fd/${w}`, text);
  let total = 0;
  const buf = new Uint8Array(64 * 1024);
  while (total < text.length) {
    await sleep(2);
    const n = Number(libc.read(r, buf, BigInt(buf.length)));
    if (n > 0) total += n;
  }
  await writing;
  equal(total, text.length);
  libc.close(r);
  libc.close(w);
});

Deno.test("readStream() and writeStream() name what a device or folder is", async () => {
  deepEqual(await readStream("/proc/self", 1024), { kind: "unreadable", reason: "is a directory" });
  deepEqual(await readStream("/dev/zero", 1000), {
    kind: "unreadable",
    reason: "larger than 1000 bytes",
  });
  const full = await writeStream("/dev/full", "x").then(() => "", (e: Error) => e.message);
  equal(full, "no space left on device");
});

Deno.test("readStream() takes a stream of exactly `limit` bytes, and refuses one more, past a buffer's growth", async () => {
  for (const limit of [1000, 100_000]) {
    for (const size of [limit, limit + 1]) {
      const [r, w] = nonBlockingPipe();
      const reading = readStream(`/dev/fd/${r}`, limit);
      const piece = new Uint8Array(size).fill(0x61);
      for (let at = 0; at < size;) {
        const n = Number(libc.write(w, piece.subarray(at), BigInt(size - at)));
        if (n > 0) at += n;
        else await sleep(1);
      }
      libc.close(w);
      const got = await reading;
      libc.close(r);
      deepEqual(
        got,
        size === limit
          ? { kind: "ok", text: "a".repeat(limit) }
          : { kind: "unreadable", reason: `larger than ${limit} bytes` },
        `${size} bytes, limit ${limit}`,
      );
    }
  }
});

Deno.test("writeStream() truncates a file it opens, and creates one with the mode given", async () => {
  using tmp = tempDir();
  const old = `${tmp.path}/old`;
  Deno.writeTextFileSync(old, "an older and longer content");
  await writeStream(old, "new");
  equal(Deno.readTextFileSync(old), "new");
  const fresh = `${tmp.path}/fresh`;
  await writeStream(fresh, "x", 0o640);
  equal(Deno.readTextFileSync(fresh), "x");
  equal(Deno.statSync(fresh).mode! & 0o777, 0o640);
});

Deno.test("readStream() and writeStream() use the descriptor a standard name stands for, where it stands, and leave it open", async () => {
  using tmp = tempDir();
  const script = `${tmp.path}/streams.ts`;
  // Reads its input twice and writes each result on its own: a descriptor opened anew would
  // read the input from its start and truncate the output; one closed would fail the second time.
  Deno.writeTextFileSync(
    script,
    `import { readStream, writeStream } from ${
      JSON.stringify(new URL("./stream.ts", import.meta.url).href)
    };
const [input, output] = Deno.args;
const first = await readStream(input!, 1 << 20);
const second = await readStream(input!, 1 << 20);
await writeStream(output!, JSON.stringify(first) + "\\n");
await writeStream(output!, JSON.stringify(second) + "\\n");
`,
  );
  const inputFile = `${tmp.path}/input`;
  Deno.writeTextFileSync(inputFile, "first\nrest\n");
  const cases: [string, string, number][] = [
    ["-", "-", 1],
    ["/dev/stdin", "/dev/stdout", 1],
    ["/dev/fd/0", "/dev/stderr", 2],
    ["/proc/self/fd/0", "/proc/self/fd/2", 2],
  ];
  for (const [input, output, fd] of cases) {
    const out = [`${tmp.path}/out1`, `${tmp.path}/out2`];
    // dd reads the first 6 bytes from the same open file first: stdin then stands after them.
    const r = await runProcess([
      "sh",
      "-c",
      `{ dd bs=6 count=1 of=/dev/null 2>/dev/null; exec "$@"; } < ${inputFile} > ${out[0]} 2> ${
        out[1]
      }`,
      "sh",
      ...entrypointArgv(script),
      input,
      output,
    ], { cwd: tmp.path });
    equal(r.code, 0, r.stderr);
    equal(
      Deno.readTextFileSync(out[fd - 1]!),
      '{"kind":"ok","text":"rest\\n"}\n{"kind":"ok","text":""}\n',
      `${input} ${output}`,
    );
  }
});
