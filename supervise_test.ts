/**
 * The Spark master poll's HTTP GET against real sockets: what it returns,
 * and that it gives up on a server that never answers.
 */
import { equal, rejects } from "@std/assert";
import { getDirect } from "./supervise.ts";

/** Serves each connection with `answer` (or nothing, holding it open) on a free loopback port. */
function server(answer: string | null): { port: number; close: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open: Deno.Conn[] = [];
  const done = (async () => {
    for await (const conn of listener) {
      open.push(conn);
      if (answer === null) continue;
      await conn.read(new Uint8Array(4096));
      for (let rest = new TextEncoder().encode(answer); rest.length > 0;) {
        rest = rest.subarray(await conn.write(rest));
      }
      conn.close();
      open.splice(open.indexOf(conn), 1);
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: async () => {
      listener.close();
      for (const c of open) c.close();
      await done.catch(() => {});
    },
  };
}

Deno.test("getDirect: the body of a 200, whether the headers end in CRLF or LF", async () => {
  for (const eol of ["\r\n", "\n"]) {
    const s = server(
      `HTTP/1.1 200 OK${eol}Content-Type: application/json${eol}${eol}{"workers":[]}`,
    );
    try {
      equal(await getDirect("127.0.0.1", s.port, "/json/", 2000), '{"workers":[]}');
    } finally {
      await s.close();
    }
  }
});

Deno.test("getDirect: another status is an error naming it (a redirect is not followed)", async () => {
  const s = server("HTTP/1.1 302 Found\r\nLocation: https://x/\r\n\r\n");
  try {
    await rejects(() => getDirect("127.0.0.1", s.port, "/json/", 2000), Error, "status 302");
  } finally {
    await s.close();
  }
});

Deno.test("getDirect: a server that accepts and never answers is given up on at the deadline", async () => {
  const s = server(null);
  try {
    await rejects(
      () => getDirect("127.0.0.1", s.port, "/json/", 300),
      Error,
      "no answer within 0.3 s",
    );
  } finally {
    await s.close();
  }
});

Deno.test("getDirect: an answer over 4 MiB is refused, not read to its end", async () => {
  const s = server(`HTTP/1.1 200 OK\r\n\r\n${"x".repeat((4 << 20) + 1)}`);
  try {
    await rejects(
      () => getDirect("127.0.0.1", s.port, "/json/", 10_000),
      Error,
      `an answer over ${4 << 20} bytes`,
    );
  } finally {
    await s.close();
  }
});
