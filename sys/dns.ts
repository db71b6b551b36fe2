/**
 * Name resolution with getaddrinfo semantics: /etc/hosts and NSS count, as
 * for the program itself (`Deno.resolveDns` asks DNS servers only). Runs on a
 * worker thread through libc.
 *
 * @module
 */

import { cString, libcNet } from "./libc.ts";

const SOCK_STREAM = 1;
const AF_INET = 2;
// struct addrinfo (64-bit): ai_flags, ai_family, ai_socktype, ai_protocol (4 x i32),
// ai_addrlen (u32 + padding), ai_addr at 24, ai_canonname at 32, ai_next at 40.
const AI_FAMILY = 4;
const AI_ADDR = 24;
const AI_NEXT = 40;

/**
 * The first IPv4 address of `host`, else the name itself when it resolves only
 * to IPv6 addresses (the name works where an address is taken), or null when
 * it does not resolve. glibc may list a name's IPv6 address first.
 */
export async function resolveHost(host: string): Promise<string | null> {
  // getaddrinfo would read the name only up to a NUL (a \u0000 in a platform's JSON): the host
  // named is not the one it would look up, and no host has such a name.
  if (host.includes("\0")) return null;
  const c = libcNet();
  const hints = new Uint8Array(48);
  new DataView(hints.buffer).setInt32(8, SOCK_STREAM, true);
  const res = new BigUint64Array(1);
  const rc = await c.getaddrinfo(cString(host), null, hints, new Uint8Array(res.buffer));
  if (rc !== 0) return null;
  const head = Deno.UnsafePointer.create(res[0]!);
  try {
    for (let p = head; p !== null;) {
      const info = new Deno.UnsafePointerView(p);
      const addr = info.getPointer(AI_ADDR);
      if (info.getInt32(AI_FAMILY) === AF_INET && addr !== null) {
        const b = new Deno.UnsafePointerView(addr);
        return [4, 5, 6, 7].map((i) => b.getUint8(i)).join(".");
      }
      p = info.getPointer(AI_NEXT);
    }
    return head === null ? null : host;
  } finally {
    if (head !== null) c.freeaddrinfo(head);
  }
}
