/**
 * Streams by name: non-blocking descriptors someone else set up, small
 * pieces, devices. In-process, with a pipe made through libc.
 */
import { deepEqual, equal } from "@std/assert";
import { readStream, writeStream } from "./stream.ts";

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
