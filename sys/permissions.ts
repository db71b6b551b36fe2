/**
 * The Deno permissions the entrypoint runs with, flag by flag (README
 * "Permissions"). `deno.json`'s explain, start and compile tasks use exactly
 * this list; a test keeps them in step. Running from source, the supervisor
 * starts its exec stage with the same flags.
 *
 * @module
 */

export const PERMISSIONS: readonly string[] = [
  // The whole environment is the input (Deno.env.toObject needs all of it).
  "--allow-env",
  // Declared platform files, the image config, a snapshot file, HOME checks.
  "--allow-read",
  // The runtime dir, --capture, --write-json, failure files, passwd entries.
  "--allow-write",
  // libc: /proc, /sys and /dev reads, execve, setgroups/setgid/setuid, spawn, waitpid.
  "--allow-ffi",
  // Only the host name, addresses and ids a snapshot records.
  "--allow-sys=hostname,networkInterfaces,uid,gid",
  // Spark on SageMaker: the master's status page and the master's port.
  "--allow-net",
];
