/**
 * Finds and loads the image config from the snapshot's files (so replay reads
 * the config from the snapshot, design section 3). A `config.json` written by
 * `--check-config --write-json` carries a digest and is trusted as it is: no
 * YAML parser and no validator at start-up. Anything else is validated by the
 * zod schema, loaded on demand.
 *
 * @module
 */

import {
  CONFIG_CANDIDATES,
  CONFIG_SCHEMA,
  configDigest,
  type ConfigFields,
  DEFAULT_CONFIG,
  digestedConfig,
  type ImageConfig,
  toImageConfig,
} from "./config.ts";
import { InputError } from "./errors.ts";
import type { PathSource } from "./paths.ts";
import { VERSION } from "./version.ts";
import { type FileState, requiredText, type World } from "./world.ts";

/** The loaded config and where it came from. */
export interface LoadedConfig {
  readonly config: ImageConfig;
  readonly file: string | null;
  /** "digest": normalised JSON trusted as written; "schema": validated now. */
  readonly validated?: "digest" | "schema";
}

/**
 * The config file to use: `--config`, else `CHAMELEON_CONFIG` (unless empty),
 * else the first candidate that exists. The same rule for a start (over the
 * snapshot) and for `--check-config` (over the live files).
 */
export function configFileOf(
  cliPath: string | undefined,
  envPath: string | undefined,
  exists: (path: string) => boolean,
): string | null {
  return cliPath ?? (envPath || undefined) ?? CONFIG_CANDIDATES.find(exists) ?? null;
}

/**
 * A config file's text, or exit 78 naming why there is none. Files are read
 * as UTF-8 with invalid bytes decoded to U+FFFD, which a config would then
 * hold in place of what its author wrote: refused (no config needs U+FFFD).
 */
export function configText(file: string, state: FileState): string {
  const text = requiredText(state, `Config ${file}`);
  // An empty file is no config anyone meant (a ConfigMap key that was not there); and a
  // pipe or device at the path is recorded empty, never opened (design section 4).
  if (text.trim() === "") {
    throw new InputError(
      `Config ${file}: empty; expected a config in a regular file (a pipe or device is not read)`,
    );
  }
  const bad = text.indexOf("\uFFFD");
  if (bad >= 0) {
    const line = text.slice(0, bad).split("\n").length;
    throw new InputError(
      `Config ${file}: expected UTF-8 text; line ${line} holds bytes that are not UTF-8 (or U+FFFD)`,
    );
  }
  return text;
}

/**
 * Config paths to record in a snapshot: the candidates, `--config` and
 * `CHAMELEON_CONFIG`. Static (read in the first pass), because the config
 * itself decides which further paths are declared.
 */
export function configPaths(cliPath: string | undefined, envPath: string | undefined): PathSource {
  return {
    paths: [...CONFIG_CANDIDATES, ...(cliPath ? [cliPath] : []), ...(envPath ? [envPath] : [])]
      .map((path) => ({ kind: "read" as const, path })),
  };
}

/** Normalised JSON written by this version whose digest matches, or undefined. */
export function trustedJson(text: string): ConfigFields | undefined {
  const config = digestedConfig(text);
  if (config === undefined || config.body["schema"] !== CONFIG_SCHEMA) return undefined;
  const { digest, body } = config;
  // Trusted only from this very version: an older one's keys may have been renamed or dropped.
  if (body["validatedBy"] !== `chameleon ${VERSION}`) return undefined;
  return configDigest(JSON.stringify(body)) === digest ? body as ConfigFields : undefined;
}

/** Loads the config named by the options or found in the snapshot. */
export async function loadConfig(world: World, cliPath: string | undefined): Promise<LoadedConfig> {
  const file = configFileOf(cliPath, world.env("CHAMELEON_CONFIG"), (p) => world.exists(p));
  if (file === null) return { config: DEFAULT_CONFIG, file: null };
  const text = configText(file, world.file(file));
  const trusted = /\.json$/i.test(file) ? trustedJson(text) : undefined;
  if (trusted !== undefined) return { config: toImageConfig(trusted), file, validated: "digest" };
  const { validateConfig } = await loadConfigSchema();
  return { config: toImageConfig(validateConfig(file, text)), file, validated: "schema" };
}

/**
 * The validator (zod, and the YAML parser for .yaml), loaded only when a
 * config needs it. The specifier is two literals on purpose: esbuild joins
 * them and bundles the module as a chunk of its own, while Deno, running the
 * sources, builds its module graph from literal specifiers only. With a
 * literal, Deno would resolve zod and yaml at every start (it reads their
 * npm metadata, 400 KB of JSON, once the event loop turns: 6-10 ms of a real
 * start here, bench/RESULTS.md), config or not.
 */
export function loadConfigSchema(): Promise<typeof import("./config_schema.ts")> {
  return import("./config_schema" + ".ts");
}
