/**
 * Loading the image config at start-up, in-process: the normalised JSON
 * (trusted by its digest, no validator) against YAML (parsed and validated by
 * the zod schema; the modules are already loaded here, so this is the parse
 * and validation alone).
 */
import { loadConfig } from "../config_load.ts";
import { normalizeConfig, validateConfig } from "../config_schema.ts";
import { ROOT, snap } from "../tests/helpers.ts";
import { World } from "../world.ts";

const yaml = Deno.readTextFileSync(`${ROOT}/examples/config/ml.yaml`);
const json = JSON.stringify(normalizeConfig(validateConfig("ml.yaml", yaml), "bench"), null, 2);
const world = (path: string, text: string) => new World(snap({ files: { [path]: text } }));

Deno.bench({
  name: "loadConfig() normalised config.json (digest, no validator)",
  group: "config",
  baseline: true,
  fn: async () => {
    await loadConfig(world("/etc/chameleon/config.json", json), undefined);
  },
});
Deno.bench({
  name: "loadConfig() config.yaml (YAML parser and zod schema)",
  group: "config",
  fn: async () => {
    await loadConfig(world("/etc/chameleon/config.yaml", yaml), undefined);
  },
});

// Near the 1 MiB a start reads: 60,000 variables. Repeated keys are looked for in one pass (the
// YAML parser's own check compared every key with every earlier one: 30 s to 164 s here).
const manyVariables = `env:\n  set:\n${
  Array.from({ length: 60_000 }, (_, i) => `    VARIABLE_${i}: x\n`).join("")
}`;
Deno.bench({
  name: "validateConfig() YAML of 60,000 variables (900 KB)",
  group: "large",
  n: 5,
  fn: () => {
    validateConfig("large.yaml", manyVariables);
  },
});
