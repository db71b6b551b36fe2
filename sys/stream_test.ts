/**
 * Streams by name: non-blocking descriptors someone else set up, small
 * pieces, devices. In-process, with a pipe made through libc. Reading a
 * named stream is loadSnapshot()'s (snapshot_test.ts), over readStreamFrom().
 */
import { deepEqual, equal } from "@std/assert";
import { readStreamFrom, unreadableDescriptor, writeStream } from "./stream.ts";
import { nonBlockingPipe, raw, tempDir } from "../tests/helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("writeStream() waits for a slow reader of a non-blocking pipe instead of failing", async () => {
  const [r, w] = nonBlockingPipe();
  const text = "x".repeat(300_000); // more than a pipe holds
  const writing = writeStream(`/proc/self/fd/${w}`, text);
  let total = 0;
  const buf = new Uint8Array(64 * 1024);
  while (total < text.length) {
    await sleep(2);
    const n = Number(raw().read(r, buf, BigInt(buf.length)));
    if (n > 0) total += n;
  }
  await writing;
  equal(total, text.length);
  raw().close(r);
  raw().close(w);
});

Deno.test("writeStream() names what a device refuses", async () => {
  const full = await writeStream("/dev/full", "x").then(() => "", (e: Error) => e.message);
  equal(full, "no space left on device");
});

Deno.test("readStreamFrom() takes a stream of exactly `limit` bytes, and refuses one more, past a buffer's growth", async () => {
  for (const limit of [1000, 100_000]) {
    for (const size of [limit, limit + 1]) {
      const [r, w] = nonBlockingPipe();
      const reading = readStreamFrom(r, limit);
      const piece = new Uint8Array(size).fill(0x61);
      for (let at = 0; at < size;) {
        const n = Number(raw().write(w, piece.subarray(at), BigInt(size - at)));
        if (n > 0) at += n;
        else await sleep(1);
      }
      raw().close(w);
      const got = await reading;
      raw().close(r);
      deepEqual(
        got,
        size === limit
          ? { kind: "ok", bytes: new Uint8Array(limit).fill(0x61) }
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

Deno.test("unreadableDescriptor() refuses a descriptor the process opened itself and one open for writing only", () => {
  const [r, w] = nonBlockingPipe({ asGiven: true });
  const [ownR, ownW] = nonBlockingPipe();
  try {
    equal(unreadableDescriptor(r), undefined);
    equal(unreadableDescriptor(w), "not open for reading");
    const runtime = "not a descriptor the entrypoint was started with (its runtime opened it)";
    equal(unreadableDescriptor(ownR), runtime);
    equal(unreadableDescriptor(ownW), runtime);
  } finally {
    for (const fd of [r, w, ownR, ownW]) raw().close(fd);
  }
});
