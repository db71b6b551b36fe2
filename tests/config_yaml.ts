/**
 * An image config from YAML text, as the loader validates and shapes it. Apart
 * from tests/helpers.ts, which the benchmarks import too, so that they do not
 * load the config schema (and zod) for nothing.
 *
 * @module
 */
import { type ImageConfig, toImageConfig } from "../config.ts";
import { validateConfig } from "../config_schema.ts";

/** An image config from YAML, as the loader validates and shapes it. */
export const configFromYaml = (yaml: string): ImageConfig =>
  toImageConfig(validateConfig("config.yaml", yaml));
