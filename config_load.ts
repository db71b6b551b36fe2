/**
 * Finds and loads the image config from the snapshot's files (so replay reads
 * the config from the snapshot, design §3).
 *
 * @module
 */

import { CONFIG_CANDIDATES, DEFAULT_CONFIG, type ImageConfig } from "./config.ts";
import { InputError } from "./errors.ts";
import type { PathSource } from "./paths.ts";
import type { World } from "./world.ts";

/** The loaded config and where it came from. */
export interface LoadedConfig {
  readonly config: ImageConfig;
  readonly file: string | null;
}

/** The config file to use: `--config`, else `CHAMELEON_CONFIG`, else the first candidate that exists. */
export function configFileOf(world: World, cliPath: string | undefined): string | null {
  const explicit = cliPath ??
    (world.hasEnv("CHAMELEON_CONFIG") ? world.env("CHAMELEON_CONFIG") : undefined);
  if (explicit !== undefined) return explicit;
  return CONFIG_CANDIDATES.find((p) => world.exists(p)) ?? null;
}

/** Config paths to record in a snapshot. */
export function configPaths(cliPath: string | undefined): PathSource {
  return {
    paths: [...CONFIG_CANDIDATES, ...(cliPath ? [cliPath] : [])].map((path) => ({
      kind: "read" as const,
      path,
    })),
    dynamicPaths: (world) => {
      const p = world.env("CHAMELEON_CONFIG");
      return p ? [{ kind: "read" as const, path: p }] : [];
    },
  };
}

/** Loads the config named by the options or found in the snapshot. */
export function loadConfig(world: World, cliPath: string | undefined): Promise<LoadedConfig> {
  const file = configFileOf(world, cliPath);
  if (file === null) return Promise.resolve({ config: DEFAULT_CONFIG, file: null });
  const state = world.file(file);
  if (state.kind === "missing") throw new InputError(`Config ${file}: no such file`);
  if (state.kind === "unreadable") throw new InputError(`Config ${file}: ${state.reason}`);
  throw new InputError(`Config ${file}: image config files are not supported yet`);
}
