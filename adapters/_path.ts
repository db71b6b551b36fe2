/**
 * PATH lookups over the snapshot (the snapshot records `stat` of the
 * candidates an adapter declares). Pure.
 *
 * @module
 */

import { DEFAULT_PATH } from "../types.ts";
import type { World } from "../world.ts";

/** The PATH directories of the snapshot's environment. */
export function pathDirs(world: World): string[] {
  return (world.env("PATH") ?? DEFAULT_PATH)
    .split(":").filter((d) => d.startsWith("/"));
}

/** The first executable called `name` on PATH, as the snapshot recorded it. */
export function onPath(world: World, name: string): string | undefined {
  for (const dir of pathDirs(world)) {
    const p = `${dir}/${name}`;
    if (world.exists(p) && !world.isDir(p) && (world.stat(p).mode & 0o111) !== 0) return p;
  }
  return undefined;
}
