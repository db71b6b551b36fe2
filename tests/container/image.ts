/**
 * Builds the container-test image: a debootstrap base (cached in
 * .cache/container and in podman's store between runs), plus the sources, a
 * carried Deno binary and a pre-filled Deno cache (tests/container/Containerfile).
 *
 * @module
 */

import { PERMISSIONS } from "../../sys/permissions.ts";
import { ROOT, runProcess } from "../helpers.ts";

/** podman flags these machines need (runc, explicit ulimits). */
export const PODMAN_FLAGS = [
  "--runtime",
  "runc",
  "--ulimit",
  "nofile=10000:10000",
  "--ulimit",
  "nproc=4096:4096",
];
const SUITE = "bookworm";
const PACKAGES = ["tini", "libnss-wrapper", "python3", "procps"];
const CACHE = `${ROOT}/.cache/container`;
/** The test image's tag (shared by every worktree on the machine: tests run the build's ID). */
const IMAGE = "localhost/chameleon-test:dev";

async function must(
  argv: string[],
  what: string,
  env: Record<string, string> = {},
): Promise<string> {
  const r = await runProcess(argv, { env });
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

function key(): string {
  let h = 0;
  for (const c of `${SUITE}:${PACKAGES.join(",")}`) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
  return `${SUITE}-${(h >>> 0).toString(16)}`;
}

/** The base image: from podman's store, else the cached tarball, else a fresh debootstrap. */
export async function ensureBase(): Promise<{ image: string; tag: string }> {
  const tag = key();
  const image = "localhost/chameleon-test-base";
  if ((await runProcess(["podman", "image", "exists", `${image}:${tag}`])).code === 0) {
    return { image, tag };
  }
  const tar = `${CACHE}/base-${tag}.tar`;
  try {
    Deno.statSync(tar);
  } catch {
    Deno.mkdirSync(CACHE, { recursive: true });
    const rootfs = Deno.makeTempDirSync({ prefix: "chameleon-rootfs-" });
    try {
      await must(
        [
          "debootstrap",
          "--variant=minbase",
          `--include=${PACKAGES.join(",")}`,
          SUITE,
          rootfs,
          "http://deb.debian.org/debian",
        ],
        "debootstrap",
      );
      await must(["tar", "-C", rootfs, "-cf", `${tar}.part`, "."], "tar");
      Deno.renameSync(`${tar}.part`, tar);
    } finally {
      Deno.removeSync(rootfs, { recursive: true });
    }
  }
  await must(["podman", "import", tar, `${image}:${tag}`], "podman import");
  return { image, tag };
}

function copyTree(from: string, to: string, keep: (name: string) => boolean = () => true): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) {
    if (!keep(e.name)) continue;
    if (e.isDirectory) copyTree(`${from}/${e.name}`, `${to}/${e.name}`, keep);
    else if (e.isFile) Deno.copyFileSync(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

/** The wrapper that plays the compiled binary: same permissions, sources instead of an executable. */
export function entrypointWrapper(): string {
  return [
    "#!/bin/sh",
    "# Test images run the sources (deno compile cannot run on the test machines)",
    "# with the permission list of the compiled binary.",
    `exec /opt/deno/deno run --quiet --cached-only --config /opt/chameleon/deno.json ${
      PERMISSIONS.join(" ")
    } /opt/chameleon/main.ts "$@"`,
    "",
  ].join("\n");
}

/**
 * Builds the test image; returns its ID, not the tag: another worktree's build moves the
 * shared tag, and a test started after that would run that worktree's sources and programs.
 */
export async function buildImage(): Promise<string> {
  const base = await ensureBase();
  const ctx = Deno.makeTempDirSync({ prefix: "chameleon-image-" });
  try {
    Deno.copyFileSync(Deno.execPath(), `${ctx}/deno`);
    Deno.chmodSync(`${ctx}/deno`, 0o755);
    const app = `${ctx}/app`;
    copyTree(
      ROOT,
      app,
      (n) =>
        !n.startsWith(".") &&
        !["tests", "bench", "examples", "dist", "tools", "node_modules"].includes(n),
    );
    copyTree(`${ROOT}/tests/container`, `${app}/tests/container`);
    Deno.writeTextFileSync(`${ctx}/entrypoint`, entrypointWrapper());
    copyTree(`${ROOT}/tests/container/program`, `${ctx}/program`);
    Deno.copyFileSync(`${ROOT}/image/setup.sh`, `${ctx}/setup.sh`);
    // A Deno cache holding exactly the graph the entrypoint loads (zod and yaml included).
    await must(
      [
        Deno.execPath(),
        "cache",
        "--quiet",
        "--config",
        `${app}/deno.json`,
        `${app}/main.ts`,
        `${app}/start.ts`,
        `${app}/config_schema.ts`,
        `${app}/explain.ts`,
      ],
      "deno cache",
      { DENO_DIR: `${ctx}/deno-dir` },
    );
    const id = await must(
      [
        "podman",
        "build",
        ...PODMAN_FLAGS.slice(0, 2),
        "--network",
        "host",
        "-q",
        "--build-arg",
        `BASE_IMAGE=${base.image}`,
        "--build-arg",
        `BASE_TAG=${base.tag}`,
        "-t",
        IMAGE,
        "-f",
        `${ROOT}/tests/container/Containerfile`,
        ctx,
      ],
      "podman build",
    );
    // -q prints the ID alone.
    return id.trim();
  } finally {
    Deno.removeSync(ctx, { recursive: true });
  }
}

if (import.meta.main) console.log(await buildImage());
