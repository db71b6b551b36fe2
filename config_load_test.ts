import { deepEqual, equal } from "@std/assert";
import { configFileOf, configPaths, configText, loadConfig, trustedJson } from "./config_load.ts";
import { CONFIG_SCHEMA, configDigest, DEFAULT_CONFIG } from "./config.ts";
import { InputError } from "./errors.ts";
import { normalizeConfig, validateConfig } from "./config_schema.ts";
import { snap } from "./tests/helpers.ts";
import { VERSION } from "./version.ts";
import { World } from "./world.ts";

/** The normalised JSON `--check-config --write-json` writes for a YAML config. */
const normalised = (yaml: string) =>
  JSON.stringify(normalizeConfig(validateConfig("c.yaml", yaml), VERSION), null, 2);

Deno.test("loadConfig() takes /etc/chameleon/config.json before config.yaml (design section 3)", async () => {
  const world = new World(snap({
    files: {
      "/etc/chameleon/config.yaml": "mode: supervise\n",
      "/etc/chameleon/config.json": '{"mode": "exec"}',
    },
  }));
  const loaded = await loadConfig(world, undefined);
  equal(loaded.file, "/etc/chameleon/config.json");
  equal(loaded.config.settings.mode, "exec");
  // Without the JSON file, the YAML one.
  const yaml = await loadConfig(
    new World(snap({ files: { "/etc/chameleon/config.yaml": "mode: supervise\n" } })),
    undefined,
  );
  deepEqual([yaml.file, yaml.config.settings.mode], ["/etc/chameleon/config.yaml", "supervise"]);
});

Deno.test("configFileOf(): --config wins over CHAMELEON_CONFIG, and an empty CHAMELEON_CONFIG is unset", () => {
  const none = () => false;
  const candidate = (p: string) => p === "/etc/chameleon/config.yaml";
  equal(configFileOf("/cli.yaml", "/env.yaml", none), "/cli.yaml");
  equal(configFileOf(undefined, "/env.yaml", candidate), "/env.yaml");
  equal(configFileOf(undefined, "", candidate), "/etc/chameleon/config.yaml");
  equal(configFileOf(undefined, "", none), null);
});

Deno.test("loadConfig() trusts normalised JSON whatever the case of its .json suffix", async () => {
  const text = normalised("mode: exec\n");
  for (const file of ["/cfg/c.json", "/cfg/C.JSON"]) {
    const loaded = await loadConfig(new World(snap({ files: { [file]: text } })), file);
    deepEqual([loaded.validated, loaded.config.settings.mode], ["digest", "exec"], file);
  }
});

Deno.test("loadConfig() refuses an empty config file (exit 78): a pipe or device there is recorded empty", async () => {
  for (const text of ["", " \n\n"]) {
    const world = new World(snap({ files: { "/etc/chameleon/config.yaml": text } }));
    const e = await loadConfig(world, undefined).then(() => undefined, (e: unknown) => e);
    if (!(e instanceof InputError)) {
      throw new Error(`expected an InputError for ${JSON.stringify(text)}`);
    }
    equal(
      e.message,
      "Config /etc/chameleon/config.yaml: empty; expected a config in a regular file (a pipe or device is not read)",
    );
  }
});

Deno.test("loadConfig() starts with the built-in defaults when no config file is there", async () => {
  const loaded = await loadConfig(new World(snap()), undefined);
  equal(loaded.file, null);
  equal(loaded.config, DEFAULT_CONFIG);
});

Deno.test("configText() refuses U+FFFD (bytes that were not UTF-8), naming its line, the first one too", () => {
  const why = (text: string) => {
    try {
      configText("/c.yaml", { kind: "ok", text });
    } catch (e) {
      if (e instanceof InputError) return e.message;
      throw e;
    }
    return "accepted";
  };
  equal(
    why("\uFFFDmode: exec\n"),
    "Config /c.yaml: expected UTF-8 text; line 1 holds bytes that are not UTF-8 (or U+FFFD)",
  );
  equal(
    why("mode: exec\nenv:\n  fill: {A: x\uFFFDy}\n"),
    "Config /c.yaml: expected UTF-8 text; line 3 holds bytes that are not UTF-8 (or U+FFFD)",
  );
  equal(why("mode: exec\n"), "accepted");
});

Deno.test("configPaths() records the candidates, --config and CHAMELEON_CONFIG, each only when given", () => {
  const paths = (cli: string | undefined, env: string | undefined) =>
    (configPaths(cli, env).paths ?? []).map((p) => `${p.kind} ${p.path}`);
  deepEqual(paths("/cli.yaml", "/env.yaml"), [
    "read /etc/chameleon/config.json",
    "read /etc/chameleon/config.yaml",
    "read /cli.yaml",
    "read /env.yaml",
  ]);
  deepEqual(paths(undefined, ""), [
    "read /etc/chameleon/config.json",
    "read /etc/chameleon/config.yaml",
  ]);
});

Deno.test("trustedJson() trusts only an object of this schema, and a .yaml file is validated whatever it holds", async () => {
  for (const text of ["null", "[]", '"x"', "7"]) equal(trustedJson(text), undefined, text);
  const { digest: _, ...body } = JSON.parse(normalised("mode: exec\n"));
  const other = { ...body, schema: `${CONFIG_SCHEMA}x` };
  equal(
    trustedJson(JSON.stringify({ ...other, digest: configDigest(JSON.stringify(other)) })),
    undefined,
  );
  const yaml = await loadConfig(
    new World(snap({ files: { "/cfg/c.yaml": normalised("mode: exec\n") } })),
    "/cfg/c.yaml",
  );
  deepEqual([yaml.validated, yaml.config.settings.mode], ["schema", "exec"]);
});
