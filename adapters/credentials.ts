/**
 * Credentials and region (design sections 6, 8): `AWS_DEFAULT_REGION` from
 * `AWS_REGION` on AWS platforms (boto3 reads only the former;
 * reference/sagemaker.md sections 1.4, 10), and the opt-in `VAR_FILE` convention of
 * the Docker official images (reference/platforms.md section C.7): for variables
 * named in the config's secret-file list or `CHAMELEON_SECRET_FILES`, `VAR`
 * is read from the file `VAR_FILE` names, and `VAR_FILE` is unset.
 *
 * @module
 */

import type { ImageConfig } from "../config.ts";
import { InputError } from "../errors.ts";
import type { PathDecl } from "../paths.ts";
import { REDACTED, secretFileValue } from "../secrets.ts";
import {
  type EnvOp,
  tooLargeForExecve,
  unpassable,
  VARIABLE_NAME,
  VARIABLE_NAME_EXPECTED,
} from "../types.ts";
import { requiredText, type World } from "../world.ts";
import {
  type Adapter,
  configSets,
  fill,
  givenEnv,
  type PlanInput,
  secretFileVars,
  set,
} from "./_adapter.ts";

const AWS_PLATFORMS = new Set(["sagemaker", "aws-batch", "ecs"]);

/** The files those variables name (their content is secret: capture redacts it). */
export function secretFilePaths(world: World, config: ImageConfig): string[] {
  return secretFileVars(world, config).flatMap((v) => {
    const p = world.env(`${v}_FILE`);
    return p ? [p] : [];
  });
}

/**
 * The `AWS_DEFAULT_REGION` the command gets, as boto3 reads it: the one given
 * (by the user, the platform or the image config), else on AWS platforms the
 * `AWS_REGION` given, which this adapter fills it from.
 */
export function awsDefaultRegion(input: PlanInput): string | undefined {
  return givenEnv(input, "AWS_DEFAULT_REGION") ??
    (AWS_PLATFORMS.has(input.detection.context.platform)
      ? givenEnv(input, "AWS_REGION")
      : undefined);
}

/** The credentials adapter. */
export const credentials: Adapter = {
  name: "credentials",
  dynamicPaths(world: World, config: ImageConfig): PathDecl[] {
    return secretFilePaths(world, config).map((path) => ({
      kind: "read" as const,
      path,
      secret: true as const,
    }));
  },
  plan(input) {
    const { world, detection, config } = input;
    const env: EnvOp[] = [];
    const unset: string[] = [];
    const secrets: string[] = [];
    // An item that names no variable (`DB_PASS API_KEY`, blank-separated; `DB-PASS`) would
    // opt nothing in: VAR_FILE would stay and VAR stay unset, without a word. Bad input is
    // exit 78 naming it (design sections 7, 8: the list is comma-separated variable names).
    for (const item of world.envList("CHAMELEON_SECRET_FILES")) {
      if (!VARIABLE_NAME.test(item)) {
        throw new InputError(
          `Variable CHAMELEON_SECRET_FILES: item ${
            JSON.stringify(item)
          }: ${VARIABLE_NAME_EXPECTED}, items separated by commas`,
        );
      }
    }
    // The region the command will have (the image config's own included). An AWS_DEFAULT_REGION
    // the config sets is its author's choice; one it only fills is a default, which the
    // platform's region may not contradict (exit 78 rather than two regions).
    const region = givenEnv(input, "AWS_REGION");
    if (
      AWS_PLATFORMS.has(detection.context.platform) && region &&
      !configSets(input, "AWS_DEFAULT_REGION")
    ) {
      env.push(fill("AWS_DEFAULT_REGION", region));
    }
    for (const name of secretFileVars(world, config)) {
      const fileVar = `${name}_FILE`;
      const path = world.env(fileVar);
      if (!path) continue;
      if (world.hasEnv(name)) {
        throw new InputError(`Variables ${name} and ${fileVar} are both set: give one of them`);
      }
      const value = secretFileValue(
        requiredText(world.file(path), `Variable ${fileVar}: file ${path}`),
      );
      // Files are read as UTF-8 with invalid bytes decoded to U+FFFD (a password saved in
      // Latin-1): the program would get another secret than the file's, without a word. Bad
      // input is exit 78 naming the file, as for the config (config_load.ts; design section 7).
      if (value.includes("\uFFFD")) {
        throw new InputError(
          `Variable ${fileVar}: file ${path}: expected UTF-8 text; it holds bytes that are not UTF-8 (or U+FFFD)`,
        );
      }
      // What execve cannot pass is named by the file it came from, not by a variable the user
      // never set (plan.ts would say "Variable DB_PASS").
      const bad = unpassable("text", value);
      if (bad !== undefined) throw new InputError(`Variable ${fileVar}: file ${path}: ${bad}`);
      const big = tooLargeForExecve(name, value);
      if (big !== undefined) {
        throw new InputError(`Variable ${fileVar}: file ${path}: ${name} would be ${big}`);
      }
      unset.push(fileVar);
      // An empty file gives what an empty VAR gives: nothing, so fills come in (README,
      // "Fill means unset or empty"), as givenEnv() and the plan's merge already take it.
      // Setting "" here would clash with the config's fill (exit 78) or cover the
      // AWS_DEFAULT_REGION filled from AWS_REGION just above (design sections 6, 8).
      if (value === "") continue;
      env.push(set(name, value, REDACTED));
      secrets.push(value);
    }
    return { env, unset, secrets };
  },
};
