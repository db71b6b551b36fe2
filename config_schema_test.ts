import { deepEqual, equal, match, ok, throws } from "@std/assert";
import {
  configDigest,
  deepMerge,
  globMatch,
  type PartialSettings,
  type Settings,
  settingsFor,
  settingsVariants,
  toImageConfig,
} from "./config.ts";
import { trustedJson } from "./config_load.ts";
import { CONTEXT_IDS } from "./types.ts";
import { VERSION } from "./version.ts";
import { normalizeConfig, validateConfig } from "./config_schema.ts";
import { InputError } from "./errors.ts";
import { randomYaml, rng } from "./tests/fuzz.ts";
import { ROOT } from "./tests/helpers.ts";
import { schemaText } from "./tools/schema.ts";

const EXAMPLES = ["ml", "spark", "dl"].map((n) => `${ROOT}/examples/config/${n}.yaml`);

function problem(file: string, text: string): string {
  try {
    validateConfig(file, text);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    equal(e.exitCode, 78);
    equal(e.message.includes("\n"), false, e.message);
    return e.message;
  }
  throw new Error(`accepted: ${text}`);
}

Deno.test("validateConfig() accepts every example and the normalised JSON round-trips", () => {
  for (const file of EXAMPLES) {
    const parsed = validateConfig(file, Deno.readTextFileSync(file));
    const normal = normalizeConfig(parsed, VERSION);
    const text = JSON.stringify(normal, null, 2);
    // The normalised JSON passes the schema again, and its digest makes it trusted.
    const again = validateConfig("config.json", text);
    const trusted = trustedJson(text);
    if (trusted === undefined) throw new Error(`${file}: digest not accepted`);
    deepEqual(toImageConfig(trusted), toImageConfig(parsed));
    deepEqual(toImageConfig(again), toImageConfig(parsed));
  }
});

Deno.test("trustedJson() refuses a hand-edited normalised config, or one from another version", () => {
  const normal = normalizeConfig(
    validateConfig(EXAMPLES[0]!, Deno.readTextFileSync(EXAMPLES[0]!)),
    VERSION,
  );
  ok(trustedJson(JSON.stringify(normal)) !== undefined);
  const edited = JSON.stringify({ ...normal, mode: "exec" });
  equal(trustedJson(edited), undefined);
  // Written by another version (with its own valid digest): validated again, not trusted.
  const { digest: _, ...body } = normalizeConfig(
    validateConfig(EXAMPLES[0]!, Deno.readTextFileSync(EXAMPLES[0]!)),
    "0.0.9",
  );
  equal(
    trustedJson(JSON.stringify({ ...body, digest: configDigest(JSON.stringify(body)) })),
    undefined,
  );
  equal(trustedJson(JSON.stringify({ ...normal, digest: undefined })), undefined);
  equal(trustedJson("{broken"), undefined);
  equal(configDigest("a") === configDigest("b"), false);
});

Deno.test("validateConfig() names line and column in YAML, and the JSON pointer in JSON", () => {
  match(
    problem("c.yaml", "commands:\n  training:\n    argv: python3\n"),
    /^Config c\.yaml:3:11: \/commands\/training\/argv: expected array, got string "python3"$/,
  );
  match(
    problem("c.json", '{"commands":{"training":{"argv":"python3"}}}'),
    /^Config c\.json: \/commands\/training\/argv: expected array, got string "python3"$/,
  );
  match(
    problem("c.yaml", "mode: sometimes\n"),
    /^Config c\.yaml:1:7: \/mode: expected "exec" or "supervise" or "auto", got string "sometimes"$/,
  );
  match(
    problem("c.yaml", "user:\n  name: ml\n  uid: -1\n  gid: 100\n  home: /home/ml\n"),
    /:3:8: \/user\/uid: .*>=0/,
  );
  match(
    problem("c.yaml", "umask: 0002\n"),
    /\/umask: expected string, got number 2 \(quote it to keep it text, as in "0002"\)$/,
  );
  match(problem("c.yaml", 'umask: "999"\n'), /quote it in YAML/);
  // A numeric YAML key is located too.
  match(
    problem("c.yaml", "env:\n  set:\n    1: x\n"),
    /^Config c\.yaml:3:5: \/env\/set\/1: expected a variable name/,
  );
  match(
    problem("c.yaml", "paths:\n  model: models\n"),
    /:2:10: \/paths\/model: expected an absolute path/,
  );
});

Deno.test("validateConfig() rejects unknown keys, pointing at the key and listing the allowed ones", () => {
  match(
    problem("c.yaml", "commands:\n  training:\n    argv: [x]\n    cmd: y\n"),
    /^Config c\.yaml:4:5: \/commands\/training\/cmd: unknown key "cmd" \(expected one of argv, cwd, shell\)$/,
  );
  match(
    problem("c.yaml", "swichUser: never\n"),
    /:1:1: \/swichUser: unknown key "swichUser" \(expected one of schema, user, /,
  );
  match(
    problem("c.json", '{"overrides":[{"match":"local-*","user":{}}]}'),
    /\/overrides\/0\/user: unknown key "user"/,
  );
});

Deno.test("validateConfig() rejects bad globs and conflicting overrides", () => {
  match(
    problem("c.yaml", "overrides:\n  - match: kubernetes-[a-z]\n"),
    /:2:12: \/overrides\/0\/match: expected a context id glob/,
  );
  match(
    problem("c.yaml", "overrides:\n  - match: kubernets-*\n"),
    /\/overrides\/0\/match: glob "kubernets-\*" matches no context id/,
  );
  match(
    problem(
      "c.yaml",
      "overrides:\n  - match: '*-serving'\n    mode: exec\n  - match: '*-serving'\n    mode: supervise\n",
    ),
    /:4:12: \/overrides\/1\/match: glob "\*-serving" repeats \/overrides\/0: two overrides for the same contexts conflict, merge them/,
  );
  match(
    problem("c.yaml", "switchUser: when-root\n"),
    /\/switchUser: when-root needs a top-level user/,
  );
  match(
    problem("c.yaml", "env:\n  set: {A: '1'}\n  fill: {A: '2'}\n"),
    /\/env\/fill\/A: A is both set and filled/,
  );
  match(problem("c.yaml", "env:\n  set: {'1A': x}\n"), /\/env\/set\/1A: expected a variable name/);
});

Deno.test("validateConfig() refuses a YAML key read as true, false or null, rather than renaming it", () => {
  // Converted, `TRUE:` would be the variable `true` and `~:` the name "", without a line.
  equal(
    problem("c.yaml", "env:\n  set:\n    TRUE: x\n"),
    "Config c.yaml:3:5: the key TRUE reads as boolean true: expected a name (quote it to keep it text)",
  );
  equal(
    problem("c.yaml", "env:\n  fill:\n    A: x\n    False: y\n"),
    "Config c.yaml:4:5: the key False reads as boolean false: expected a name (quote it to keep it text)",
  );
  equal(
    problem("c.yaml", "overrides:\n  - match: '*'\n    env:\n      set:\n        NULL: x\n"),
    "Config c.yaml:5:9: the key NULL reads as null: expected a name (quote it to keep it text)",
  );
  equal(
    problem("c.yaml", "env:\n  set:\n    : x\n"),
    "Config c.yaml:3:5: a key is empty: expected a name",
  );
  // Quoted, it is the name as written.
  deepEqual(validateConfig("c.yaml", 'env:\n  set:\n    "TRUE": x\n').env?.set, { TRUE: "x" });
});

Deno.test("validateConfig() reports YAML and JSON syntax errors with a position", () => {
  match(problem("c.yaml", "commands: [a, b\nmode: x\n"), /^Config c\.yaml:\d+:\d+: not valid YAML/);
  match(
    problem("c.yaml", "a: 1\na: 2\n"),
    /^Config c\.yaml:2:1: not valid YAML \(Map keys must be unique/,
  );
  match(problem("c.json", "{oops"), /^Config c\.json: not valid JSON/);
});

Deno.test("validateConfig() finds a repeated YAML key in a file near the 1 MiB bound, and keys that would merge (1 and '1')", () => {
  // 60,000 variables, 900 KB (the time it takes is bench/config_bench.ts's: the parser's own
  // pairwise check took 30 s to 164 s here).
  const names = Array.from({ length: 60_000 }, (_, i) => `VARIABLE_${i}`);
  const body = names.map((n) => `    ${n}: x\n`).join("");
  equal(
    Object.keys(validateConfig("c.yaml", `env:\n  set:\n${body}`).env?.set ?? {}).length,
    60_000,
  );
  match(
    problem("c.yaml", `env:\n  set:\n${body}    VARIABLE_7: y\n`),
    /^Config c\.yaml:60003:5: not valid YAML \(Map keys must be unique\)$/,
  );
  // Keys the converted object would give one name: 1 and "1".
  equal(
    problem("c.yaml", "env:\n  set: {1: x, '1': y}\n"),
    "Config c.yaml:2:15: not valid YAML (Map keys must be unique)",
  );
});

Deno.test("validateConfig() refuses a command word, or a shell script, larger than execve takes", () => {
  const big = "a".repeat(140_000);
  equal(
    problem("c.json", JSON.stringify({ commands: { training: { argv: ["echo", big] } } })),
    "Config c.json: /commands/training/argv/1: would be 140001 bytes with its terminating NUL: larger than the 131072 bytes execve accepts",
  );
  const half = "b".repeat(70_000);
  equal(
    problem(
      "c.json",
      JSON.stringify({
        overrides: [{
          match: "local-*",
          commands: { serving: { argv: [half, half], shell: true } },
        }],
      }),
    ),
    "Config c.json: /overrides/0/commands/serving/argv: as one shell script, would be 140002 bytes with its terminating NUL: larger than the 131072 bytes execve accepts",
  );
  // Each word alone within the bound passes.
  validateConfig(
    "c.json",
    JSON.stringify({ commands: { training: { argv: ["echo", half, half] } } }),
  );
});

Deno.test("validateConfig() quotes none of the source text around a YAML syntax error, which may be a secret", () => {
  const cases: [string, string][] = [
    [
      "env:\n  set:\n    DB_PASSWORD: >-s3cr3t-canary\n",
      "Config c.yaml:3:20: not valid YAML (Block scalar header includes extra characters)",
    ],
    [
      'env:\n  set:\n    DB_PASSWORD: "abc\\Uzzhunter-canary"\n',
      "Config c.yaml:3:22: not valid YAML (Invalid escape sequence in a double-quoted value)",
    ],
    // A key that is a collection would be named by its text in every problem about it.
    [
      "env:\n  set:\n    ? {password: key-canary}\n    : x\n",
      "Config c.yaml:3:7: not valid YAML (a key is a collection: expected a plain name)",
    ],
  ];
  for (const [text, expected] of cases) {
    const message = problem("c.yaml", text);
    equal(message.includes("canary"), false, message);
    equal(message, expected);
  }
});

Deno.test("validateConfig() refuses YAML 1.1 and custom tags, which would slip past the checks as an empty Set, Map or Date", () => {
  const cases: [string, string][] = [
    ["commands: !!set {training}\n", "1:11: not valid YAML (tag !!set is not supported"],
    ["defaultWorkload: !!omap [{local: serving}]\n", "1:18: not valid YAML (tag !!omap"],
    ["env: !!timestamp 2020-01-01\n", "1:6: not valid YAML (tag !!timestamp"],
    ["env: !!binary abc\n", "1:6: not valid YAML (tag !!binary"],
    ["umask: !octal '0002'\n", "1:8: not valid YAML (tag !octal"],
  ];
  for (const [text, expected] of cases) {
    const message = problem("c.yaml", text);
    ok(message.startsWith(`Config c.yaml:${expected}`), message);
  }
  // A %YAML 1.1 directive would bring them back, tags or not.
  equal(
    problem("c.yaml", "%YAML 1.1\n---\nenv: 2020-01-01\n"),
    "Config c.yaml:1:1: not valid YAML (%YAML 1.1 is not supported: expected YAML 1.2, the default)",
  );
  equal(validateConfig("c.yaml", "%YAML 1.2\n---\nmode: exec\n").mode, "exec");
  // The core schema's own tags are plain YAML.
  equal(validateConfig("c.yaml", "umask: !!str 0002\nmode: !!str exec\n").umask, "0002");
});

Deno.test("validateConfig() never quotes a value under a secret-named key, nor JSON or YAML text around one", () => {
  const cases: [string, string, RegExp][] = [
    [
      "c.yaml",
      "env:\n  set:\n    DB_PASSWORD: 918273645\n",
      /expected string, got number <redacted>/,
    ],
    ["c.json", '{"env": {"set": {"HF_TOKEN": 918273645}}}', /got number <redacted>/],
    ["c.json", `{"env": {"set": {"HF_TOKEN": '918273645'}}}`, /^Config c\.json: not valid JSON/],
    // At the alias's line, without its name.
    [
      "c.yaml",
      "env:\n  set:\n    HF_TOKEN: *918273645\n",
      /^Config c\.yaml:3:15: not valid YAML \(Unresolved alias/,
    ],
  ];
  for (const [file, text, re] of cases) {
    const message = problem(file, text);
    match(message, re);
    equal(message.includes("918273645"), false, message);
  }
  // 1e400 is Infinity to JavaScript: said so, not "null" as JSON would print it.
  match(problem("c.json", '{"hostWait": {"timeoutSeconds": 1e400}}'), /got number Infinity/);
  // Elsewhere the value is still quoted: it says what was wrong.
  match(problem("c.yaml", "env:\n  set:\n    LOG_LEVEL: 20\n"), /got number 20/);
});

Deno.test("validateConfig() refuses what every start would refuse: chameleon's own variables, a value execve cannot pass", () => {
  equal(
    problem("c.yaml", "overrides:\n  - match: '*'\n    env: {fill: {CHAMELEON_CONTEXT: x}}\n"),
    "Config c.yaml:3:37: /overrides/0/env/fill/CHAMELEON_CONTEXT: CHAMELEON_CONTEXT is chameleon's own (every start sets it): leave it out",
  );
  match(
    problem("c.json", JSON.stringify({ env: { set: { BIG: "x".repeat(140_000) } } })),
    /^Config c\.json: \/env\/set\/BIG: would be 140005 bytes with its terminating NUL: larger than the 131072 bytes execve accepts$/,
  );
  // A NUL in a variable, a command word or a path that becomes a variable.
  for (
    const [config, at] of [
      [{ env: { set: { A: "\0x" } } }, "/env/set/A"],
      [{ commands: { unknown: { argv: ["py\0thon"] } } }, "/commands/unknown/argv/0"],
      [{ paths: { model: "/mo\0del" } }, "/paths/model"],
    ] as const
  ) {
    equal(
      problem("c.json", JSON.stringify(config)),
      `Config c.json: ${at}: expected text without NUL (execve would cut it there)`,
    );
  }
  // A lone surrogate, from a YAML or JSON escape: no UTF-8 form, a start would pass U+FFFD.
  for (
    const [file, text, at] of [
      ["c.yaml", 'env:\n  set:\n    A: "a\\uD800b"\n', "c.yaml:3:8: /env/set/A"],
      [
        "c.json",
        '{"commands": {"unknown": {"argv": ["x\\udc00"]}}}',
        "c.json: /commands/unknown/argv/0",
      ],
    ] as const
  ) {
    equal(
      problem(file, text),
      `Config ${at}: expected text without a lone surrogate (a \\uD800-\\uDFFF escape has no UTF-8 form)`,
    );
  }
  // __proto__ cannot be a key of the objects the schema makes: refused, not dropped.
  equal(
    problem("c.json", '{"env": {"set": {"__proto__": "x", "B": "y"}}}'),
    "Config c.json: /env/set/__proto__: expected another name than __proto__",
  );
  equal(
    problem("c.yaml", "env:\n  set:\n    B: y\n    __proto__: x\n"),
    "Config c.yaml:4:5: /env/set/__proto__: expected another name than __proto__",
  );
  // Looked for without recursion: JSON nested deeper than the call stack is a problem, not a crash.
  const deep = `{"env": ${"[".repeat(200_000)}${"]".repeat(200_000)}}`;
  equal(problem("c.json", deep), "Config c.json: /env: expected object, got a list");
  // Names that objects have anyway are names like any other.
  equal(
    validateConfig("c.json", JSON.stringify({ env: { set: { constructor: "x" } } })).env?.set
      ?.["constructor"],
    "x",
  );
});

Deno.test("settingsFor(): a variable an override fills is no longer set by the base, and the reverse", () => {
  const c = toImageConfig(
    validateConfig(
      "c.yaml",
      "env:\n  set: {A: base}\n  fill: {B: base}\noverrides:\n  - match: 'kubernetes-*'\n    env: {fill: {A: over}, set: {B: over}}\n",
    ),
  );
  const s = settingsFor(c, "kubernetes-serving").settings;
  deepEqual([s.env.set, s.env.fill], [{ B: "over" }, { A: "over" }]);
  deepEqual(settingsFor(c, "local-unknown").settings.env, {
    set: { A: "base" },
    fill: { B: "base" },
  });
});

Deno.test("settingsFor() applies matching overrides in file order, later ones winning", () => {
  const c = toImageConfig(validateConfig(
    "c.yaml",
    `
mode: exec
commands:
  serving: {argv: [base], cwd: /base}
env: {fill: {A: base}}
overrides:
  - match: "kubernetes-*"
    mode: supervise
    env: {fill: {A: k8s, B: k8s}}
  - match: "*-serving"
    commands:
      serving: {argv: [served]}
    env: {fill: {A: serving}}
`,
  ));
  const s = settingsFor(c, "kubernetes-serving");
  deepEqual(s.matched, ["kubernetes-*", "*-serving"]);
  equal(s.settings.mode, "supervise");
  deepEqual(s.settings.env.fill, { A: "serving", B: "k8s" });
  // A command is replaced whole: no cwd inherited from the one it replaces.
  deepEqual(s.settings.commands.serving, { argv: ["served"] });
  equal(settingsFor(c, "local-training").settings.mode, "exec");
  deepEqual(settingsFor(c, "local-training").matched, []);
});

Deno.test("settingsFor() and settingsVariants() give what merging overrides one by one gave, on 2,000 random configs", () => {
  // The merge they replaced: each override deep-merged into a fresh copy of the whole.
  const applyOverride = (settings: Settings, over: PartialSettings): Settings => {
    const commands = { ...settings.commands, ...over.commands };
    const merged = deepMerge(settings, { ...over, commands: undefined });
    const set = { ...merged.env.set };
    const fill = { ...merged.env.fill };
    for (const name of Object.keys(over.env?.fill ?? {})) delete set[name];
    for (const name of Object.keys(over.env?.set ?? {})) delete fill[name];
    return { ...merged, env: { ...merged.env, set, fill }, commands };
  };
  const r = rng(20261205);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const some = <T>(make: () => [string, T]): Record<string, T> =>
    Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, make));
  const partial = (): PartialSettings => {
    const all: Record<string, () => unknown> = {
      commands: () =>
        some(() => [pick(["training", "serving", "notebook"]), {
          argv: [pick(["a", "b"])],
          ...(r() < 0.5 ? { cwd: pick(["/x", "/y"]) } : {}),
          ...(r() < 0.3 ? { shell: true } : {}),
        }]),
      env: () => ({
        ...(r() < 0.7 ? { set: some(() => [pick(["A", "B", "C", "D"]), pick(["1", "2"])]) } : {}),
        ...(r() < 0.7 ? { fill: some(() => [pick(["A", "B", "E"]), pick(["3", "4"])]) } : {}),
      }),
      mode: () => pick(["exec", "supervise", "auto"]),
      umask: () => pick([null, "0002", "0022"]),
      paths: () => some(() => [pick(["model", "output", "input"]), pick(["/m", "/o"])]),
      compat: () => ({ sagemaker: r() < 0.5 ? {} : { enabled: r() < 0.5 } }),
      spark: () => ({
        ...(r() < 0.5 ? { enabled: r() < 0.5 } : {}),
        ...(r() < 0.5 ? { jarsDir: pick(["/j", "/k"]) } : {}),
        ...(r() < 0.5 ? { kubernetes: { executorInstances: pick([1, 2, 3]) } } : {}),
      }),
      metrics: () => ({ nodeAgent: r() < 0.5 }),
      hooksDir: () => pick(["/h", "/i"]),
    };
    const keys = Object.keys(all).filter(() => r() < 0.35);
    return Object.fromEntries(keys.map((k) => [k, all[k]!()])) as PartialSettings;
  };
  const globs = ["*", "*-training", "kubernetes-*", "*-serving", "local-*", "kubernetes-training"];
  for (let i = 0; i < 2000; i++) {
    const base = toImageConfig(
      validateConfig("c.json", JSON.stringify({ env: { set: { A: "0" } } })),
    );
    const config = {
      ...base,
      overrides: Array.from({ length: Math.floor(r() * 6) }, () => ({
        match: pick(globs),
        settings: partial(),
      })),
    };
    // Shown with the order of keys, and with a key whose value is undefined.
    const shown = (v: unknown) => JSON.stringify(v, (_k, x) => x === undefined ? "(undefined)" : x);
    const before = JSON.stringify(config);
    const wanted = [];
    for (const id of ["kubernetes-training", "local-serving", "sagemaker-processing"]) {
      const matching = config.overrides.filter((o) => globMatch(o.match, id));
      const want = matching.reduce((s, o) => applyOverride(s, o.settings), config.settings);
      const got = settingsFor(config, id);
      equal(shown(got.settings), shown(want), `${id}: ${before}`);
      deepEqual(got.matched, matching.map((o) => o.match));
      if (matching.length > 0) wanted.push(shown(want));
    }
    // Every variant some of these ids get is among the variants.
    const variants = new Set(settingsVariants(config).map(shown));
    for (const w of wanted) ok(variants.has(w), w);
    // Neither changed the config it merged.
    equal(JSON.stringify(config), before);
  }
});

Deno.test("settingsVariants() gives the base and each set of overrides that some context id matches together, once", () => {
  const c = toImageConfig(validateConfig(
    "c.yaml",
    `
overrides:
  - match: "*-training"
    spark: {enabled: true}
  - match: "kubernetes-*"
    spark: {jarsDir: /jars}
`,
  ));
  // The base; training alone; kubernetes alone; kubernetes-training with both. Each once.
  const pairs = settingsVariants(c).map((s) => `${s.spark.enabled} ${s.spark.jarsDir}`);
  deepEqual(pairs.slice(1).sort(), ["false /jars", "true /jars", "true /opt/spark/extra-jars"]);
  equal(pairs[0], "false /opt/spark/extra-jars");
});

Deno.test("toImageConfig() puts the defaults of the README's config table under a config without settings", () => {
  deepEqual(toImageConfig({}), {
    user: null,
    defaultWorkload: {},
    secretFiles: [],
    settings: {
      commands: {},
      switchUser: "never",
      mode: "auto",
      umask: null,
      env: { set: {}, fill: {} },
      paths: {},
      compat: {},
      hostWait: { timeoutSeconds: 900 },
      metrics: { nodeAgent: false, otlpPort: 4318, statsdPort: 8125 },
      spark: {
        enabled: false,
        home: "/opt/spark",
        jarsDir: "/opt/spark/extra-jars",
        python: "/usr/bin/python3",
        driverMemoryFraction: 0.5,
        kubernetes: { executorInstances: 2, executorCores: 1, executorMemory: "2g" },
        standalone: { masterPort: 7077, webUiPort: 8080, registerTimeoutSeconds: 300 },
      },
      hooksDir: "/etc/chameleon/hooks.d",
    },
    overrides: [],
  });
  // Secret files kept; a platform without a default workload is left out, not kept as undefined.
  const c = toImageConfig({
    secretFiles: ["/run/secrets/token"],
    defaultWorkload: { local: undefined, kubernetes: "training" },
  });
  deepEqual([c.secretFiles, c.defaultWorkload], [["/run/secrets/token"], {
    kubernetes: "training",
  }]);
});

Deno.test("deepMerge() merges objects key by key and replaces arrays and scalars; an absent value keeps the base", () => {
  deepEqual(
    deepMerge({ a: 1, o: { x: 1, y: 2 }, l: ["a", "b"], k: "keep" }, {
      a: 2,
      o: { y: 3, z: 4 },
      l: ["c"],
      k: undefined,
    }),
    { a: 2, o: { x: 1, y: 3, z: 4 }, l: ["c"], k: "keep" },
  );
  deepEqual(deepMerge({ o: { x: 1 } }, { o: null }), { o: null });
});

Deno.test("globMatch(): * is any run of characters, none included, and every other character is itself", () => {
  ok(globMatch("kubernetes-serving*", "kubernetes-serving"));
  ok(globMatch("*", "local-unknown"));
  ok(globMatch("a.c", "a.c"));
  equal(globMatch("a.c", "abc"), false);
  equal(globMatch("a+", "aa"), false);
});

Deno.test("globMatch() answers as the regular expression of its glob on 20,000 random globs and ids", () => {
  // The matcher it replaced: `*` as `.*`, every other character escaped.
  const regexMatch = (glob: string, id: string) =>
    new RegExp(
      "^" + glob.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$",
    ).test(id);
  const r = rng(20261205);
  const text = (alphabet: string, most: number) =>
    Array.from(
      { length: Math.floor(r() * (most + 1)) },
      () => alphabet[Math.floor(r() * alphabet.length)],
    ).join("");
  let matched = 0;
  for (let i = 0; i < 20_000; i++) {
    const id = text("ab-.", 8);
    const glob = text("ab-.**", 7);
    const want = regexMatch(glob, id);
    if (want) matched++;
    equal(globMatch(glob, id), want, `${JSON.stringify(glob)} on ${JSON.stringify(id)}`);
  }
  // Both answers come up often enough to mean something.
  ok(matched > 2000 && matched < 18_000, `${matched}`);
});

Deno.test("globMatch() answers a glob of many stars that matches no id at once (a regular expression took 8.7 s with eleven)", () => {
  const glob = `${"*".repeat(40)}z`;
  equal(CONTEXT_IDS.some((id) => globMatch(glob, id)), false);
  ok(globMatch(`${"*".repeat(40)}training`, "kubernetes-training"));
  equal(
    problem("c.yaml", `overrides:\n  - match: "${glob}"\n    mode: exec\n`),
    `Config c.yaml:2:12: /overrides/0/match: glob "${glob}" matches no context id`,
  );
});

Deno.test("config.schema.json is generated from the zod schema and up to date (deno task schema)", () => {
  equal(Deno.readTextFileSync(`${ROOT}/config.schema.json`), schemaText());
});

Deno.test("validateConfig() on 3,000 random YAML documents only ever accepts or says why (fuzz)", () => {
  const r = rng(20261124);
  let accepted = 0;
  for (let i = 0; i < 3000; i++) {
    const doc = randomYaml(r);
    try {
      validateConfig("fuzz.yaml", doc);
      accepted++;
    } catch (e) {
      if (!(e instanceof InputError)) {
        throw new Error(`crash on document ${i}:\n${doc}\n${(e as Error).stack}`);
      }
      ok(e.message.startsWith("Config fuzz.yaml"), e.message);
    }
  }
  ok(accepted > 0, "the fuzzer never produced a valid document");
});

Deno.test("validateConfig() keeps YAML from printing its tokens when LOG_TOKENS is set", () => {
  const printed: unknown[] = [];
  const { log, dir } = console;
  console.log = (...a: unknown[]) => void printed.push(a);
  console.dir = (...a: unknown[]) => void printed.push(a);
  Deno.env.set("LOG_TOKENS", "1");
  Deno.env.set("LOG_STREAM", "1");
  try {
    throws(() => validateConfig("c.yaml", "mode: x\n"), InputError);
  } finally {
    Object.assign(console, { log, dir });
  }
  try {
    deepEqual(printed, [], "the YAML parser printed while parsing");
    equal(Deno.env.get("LOG_TOKENS"), "1", "restored afterwards");
  } finally {
    Deno.env.delete("LOG_TOKENS");
    Deno.env.delete("LOG_STREAM");
  }
});

Deno.test("a command word of the wrong type is named by its type, not quoted (it may be a secret flag's value)", () => {
  throws(
    () =>
      validateConfig("c.yaml", "commands:\n  training: {argv: [python3, --api-token, 98765432]}\n"),
    (e: Error) =>
      e instanceof InputError && /argv\/2.*number <redacted>/.test(e.message) &&
      !e.message.includes("98765432"),
  );
});

Deno.test("validateConfig() holds every value to its documented range, not only its type", () => {
  const refused: [string, RegExp][] = [
    ["paths:\n  model: models/v1\n", /\/paths\/model: expected an absolute path/],
    ["hooksDir: hooks.d\n", /\/hooksDir: expected an absolute path/],
    ["metrics: {otlpPort: 0}\n", /\/metrics\/otlpPort: .*>=1, got number 0/],
    ["metrics: {statsdPort: 65536}\n", /\/metrics\/statsdPort: .*<=65535, got number 65536/],
    ["commands:\n  training: {argv: []}\n", /\/commands\/training\/argv: .*>=1 items?, got a list/],
    ["commands:\n  training: {argv: [python3, '']}\n", /\/commands\/training\/argv\/1: /],
    ['umask: "00022"\n', /\/umask: expected octal text/],
    ['umask: "0777x"\n', /\/umask: expected octal text/],
    ["hostWait: {timeoutSeconds: 86401}\n", /\/hostWait\/timeoutSeconds: .*<=86400/],
    ["secretFiles: [DB-PASSWORD]\n", /\/secretFiles\/0: expected a variable name/],
    ["env:\n  fill: {9LIVES: x}\n", /\/env\/fill\/9LIVES: expected a variable name/],
    ["user: {name: ml, uid: 1000, gid: 100, groups: [-1], home: /home/ml}\n", /\/user\/groups\/0/],
    // The ranges config.schema.json documents for editors.
    [
      "user: {name: ml, uid: 4294967295, gid: 100, home: /home/ml}\n",
      /\/user\/uid: .*<=4294967294/,
    ],
    [
      "user: {name: ../ml, uid: 1000, gid: 100, home: /home/ml}\n",
      /\/user\/name: expected a user name/,
    ],
    ["spark: {driverMemoryFraction: 0.95}\n", /\/spark\/driverMemoryFraction: .*<=0\.9/],
    ["spark: {driverMemoryFraction: 0.05}\n", /\/spark\/driverMemoryFraction: .*>=0\.1/],
    ["spark: {kubernetes: {executorInstances: -1}}\n", /\/executorInstances: .*>=0/],
    ["spark: {kubernetes: {executorCores: 0}}\n", /\/executorCores: .*>=1/],
    ["spark: {kubernetes: {executorMemory: 4gb}}\n", /\/executorMemory: expected a JVM size/],
    ["spark: {standalone: {registerTimeoutSeconds: 0}}\n", /\/registerTimeoutSeconds: .*>=1/],
    ['metrics: {serviceName: ""}\n', /\/metrics\/serviceName: /],
    ["overrides:\n  - match: ''\n", /\/overrides\/0\/match: expected a context id glob/],
  ];
  for (const [text, re] of refused) match(problem("c.yaml", text), re, text);
  // The edges themselves are accepted.
  const c = validateConfig(
    "c.yaml",
    "metrics: {otlpPort: 1, statsdPort: 65535}\nhostWait: {timeoutSeconds: 86400}\n" +
      'umask: "022"\nspark: {kubernetes: {executorMemory: 1t}}\n',
  );
  deepEqual([c.metrics?.otlpPort, c.hostWait?.timeoutSeconds, c.umask], [1, 86400, "022"]);
  equal(c.spark?.kubernetes?.executorMemory, "1t");
});

Deno.test("validateConfig() quotes a bad variable name as written, and says a null is null", () => {
  // The pointer escapes `/` and `~`: the name itself follows, as the author wrote it.
  match(
    problem("c.yaml", "env:\n  set:\n    'A/B~C': x\n"),
    /: \/env\/set\/A~1B~0C: expected a variable name \(\[A-Za-z_\]\[A-Za-z0-9_\]\*\): "A\/B~C"$/,
  );
  match(problem("c.yaml", "hooksDir: null\n"), /: \/hooksDir: expected string, got null$/);
});

Deno.test("validateConfig() refuses each variable every start sets", () => {
  for (
    const name of [
      "CHAMELEON_STARTED",
      "CHAMELEON_CONTEXT",
      "CHAMELEON_PLATFORM",
      "CHAMELEON_WORKLOAD",
    ]
  ) {
    match(
      problem("c.yaml", `env:\n  set:\n    ${name}: x\n`),
      new RegExp(`/env/set/${name}: ${name} is chameleon's own`),
    );
  }
});

Deno.test("validateConfig() refuses when-root with a user that is null", () => {
  match(
    problem("c.yaml", "user: null\nswitchUser: when-root\n"),
    /\/switchUser: when-root needs a top-level user/,
  );
  match(
    problem("c.yaml", "user: null\noverrides:\n  - match: '*'\n    switchUser: when-root\n"),
    /\/overrides\/0\/switchUser: when-root needs a top-level user/,
  );
});

Deno.test("validateConfig() takes a variable execve can pass to the byte, and refuses one byte more", () => {
  // `name=value` and its terminating NUL: 131,072 bytes at most (Linux MAX_ARG_STRLEN).
  const fits = "x".repeat(131_072 - "BIG=".length - 1);
  equal(
    validateConfig("c.json", JSON.stringify({ env: { set: { BIG: fits } } })).env?.set?.["BIG"],
    fits,
  );
  match(
    problem("c.json", JSON.stringify({ env: { fill: { BIG: fits + "x" } } })),
    /\/env\/fill\/BIG: would be 131073 bytes with its terminating NUL: larger than the 131072 bytes execve accepts$/,
  );
});

Deno.test("validateConfig() says how many more problems follow the first", () => {
  match(problem("c.yaml", "mode: x\n"), /got string "x"$/);
  match(problem("c.yaml", "mode: x\nswitchUser: y\n"), /got string "[xy]" \(and 1 more\)$/);
  match(problem("c.yaml", "mode: x\nswitchUser: y\numask: z\n"), /\(and 2 more\)$/);
});

Deno.test("an override glob matches a whole context id, * standing for any run of characters", () => {
  // Neither a part of an id ("kubernetes", "serving") nor a glob found inside one ("ml-*").
  for (const glob of ["kubernetes", "ml-*", "serving", "*-servin"]) {
    match(
      problem("c.yaml", `overrides:\n  - match: '${glob}'\n    mode: exec\n`),
      /matches no context id/,
      glob,
    );
  }
  const c = toImageConfig(validateConfig(
    "c.yaml",
    "overrides:\n  - match: 'azure-ml-*'\n    mode: exec\n  - match: '*-serving'\n    mode: supervise\n",
  ));
  deepEqual(settingsFor(c, "azure-ml-training").matched, ["azure-ml-*"]);
  deepEqual(settingsFor(c, "kubernetes-serving").matched, ["*-serving"]);
  deepEqual(settingsFor(c, "local-unknown").matched, []);
});

Deno.test("settingsFor(): an override's null umask leaves the umask alone again", () => {
  const c = toImageConfig(validateConfig(
    "c.yaml",
    'umask: "0002"\noverrides:\n  - match: "kubernetes-*"\n    umask: null\n',
  ));
  equal(settingsFor(c, "kubernetes-serving").settings.umask, null);
  equal(settingsFor(c, "local-unknown").settings.umask, "0002");
});
