import { deepEqual, equal, match, ok } from "@std/assert";
import { DEFAULT_CONFIG, toImageConfig } from "../config.ts";
import { planOf, snap, worldOf } from "../tests/helpers.ts";
import { World } from "../world.ts";
import { onPath, pathDirs } from "./_path.ts";
import { command, shellWords } from "./command.ts";
import { configFromYaml } from "../tests/config_yaml.ts";

const withArgv = (argv: string[]) => worldOf("local-unknown/docker", (s) => ({ ...s, argv }));

Deno.test("a command line's secret flag values are shown redacted in their word only", () => {
  const p = planOf(withArgv([
    "python3",
    "t.py",
    "--token",
    "tok-abcdef",
    "--api-key=key-abcdef",
    "--tokenizer",
    "/opt/ml/model",
    "--use_auth_token",
    "--model_name_or_path",
    "gpt2",
  ]));
  deepEqual(p.command?.slice(2, 5), ["--token", "tok-abcdef", "--api-key=key-abcdef"]);
  deepEqual(p.commandDisplay, [
    "python3",
    "t.py",
    "--token",
    "<redacted>",
    "--api-key=<redacted>",
    "--tokenizer",
    "<redacted>",
    "--use_auth_token",
    "--model_name_or_path",
    "gpt2",
  ]);
  // A flag's value is hidden where it stands, not scrubbed from the whole output.
  equal(p.secrets.includes("/opt/ml/model"), false);
});

Deno.test("a secret-named field of JSON in an argument is hidden and scrubbed from logs", () => {
  const p = planOf(withArgv(["python3", "t.py", "--config", '{"api_key": "sk-live-123456"}']));
  equal(p.commandDisplay?.[3], '{"api_key": "<redacted>"}');
  ok(p.secrets.includes("sk-live-123456"));
});

Deno.test("a configured shell command and its extra arguments are shown redacted", () => {
  const config = configFromYaml(
    "commands:\n  training: {argv: [python3, t.py, --token], shell: true}\n",
  );
  const p = planOf(
    worldOf("local-unknown/docker", (s) => ({ ...s, argv: ["train", "cfg-secret-abc", "-v"] })),
    config,
  );
  deepEqual(p.command, [
    "/bin/sh",
    "-c",
    'python3 t.py --token "$@"',
    "sh",
    "cfg-secret-abc",
    "-v",
  ]);
  deepEqual(p.commandDisplay, [
    "/bin/sh",
    "-c",
    'python3 t.py --token "$@"',
    "sh",
    "<redacted>",
    "-v",
  ]);
  const inScript = planOf(
    withArgv(["train"]),
    configFromYaml(
      "commands:\n  training: {argv: [python3, t.py, --token, s3cr3t-v], shell: true}\n",
    ),
  );
  equal(inScript.command?.[2], 'python3 t.py --token s3cr3t-v "$@"');
  equal(inScript.commandDisplay?.[2], 'python3 t.py --token <redacted> "$@"');
  // A script written as one string: the same; the command runs as written, its $0 is sh.
  const oneString = planOf(
    withArgv(["train"]),
    configFromYaml(
      "commands:\n  training: {argv: ['python3 t.py  --token s3cr3t-v'], shell: true}\n",
    ),
  );
  deepEqual(oneString.command, [
    "/bin/sh",
    "-c",
    'python3 t.py  --token s3cr3t-v "$@"',
    "sh",
  ]);
  deepEqual(oneString.commandDisplay, [
    "/bin/sh",
    "-c",
    'python3 t.py  --token <redacted> "$@"',
    "sh",
  ]);
  // A quoted value with blanks is one word, hidden whole; a multi-line block keeps its lines,
  // and "$@" stays on the block's last line.
  const quoted = planOf(
    withArgv(["train", "--epochs", "3"]),
    configFromYaml(
      "commands:\n  training:\n    shell: true\n    argv:\n      - |\n" +
        "        cd /opt/program\n        python3 t.py --token 'my secret value' --lr=0.1\n",
    ),
  );
  equal(
    quoted.command?.[2],
    `cd /opt/program\npython3 t.py --token 'my secret value' --lr=0.1 "$@"\n`,
  );
  equal(
    quoted.commandDisplay?.[2],
    'cd /opt/program\npython3 t.py --token <redacted> --lr=0.1 "$@"\n',
  );
  // $0 is sh, not the script: the shell's messages name it ("sh: 1: ...").
  equal(quoted.command?.[3], "sh");
  deepEqual(quoted.commandDisplay?.slice(4), ["--epochs", "3"]);
  // A nested quoted script and a comment are read as text too; "$@" goes before a trailing comment.
  const nested = planOf(
    withArgv(["train", "-v"]),
    configFromYaml(
      "commands:\n  training:\n    shell: true\n    argv:\n      - |\n" +
        "        # old: python3 app.py --token old-canary\n" +
        "        exec gosu app sh -c 'python3 app.py --token new-canary' # note\n",
    ),
  );
  equal(
    nested.command?.[2],
    "# old: python3 app.py --token old-canary\n" +
      `exec gosu app sh -c 'python3 app.py --token new-canary' "$@" # note\n`,
  );
  equal(/canary/.test(nested.commandDisplay!.join(" ")), false, nested.commandDisplay!.join(" "));
  deepEqual(shellWords(`a 'b c' "d \\"e" f\\ g;h # i\nj`).map((w) => w.text), [
    "a",
    "b c",
    'd "e',
    "f g",
    "h",
    "j",
  ]);
});

Deno.test("a missing command's message does not quote a secret argument", () => {
  const p = planOf(withArgv(["--hf-token=abcdefgh12"]));
  equal(p.command, null);
  const why = String(p.notes["commandMissing"]);
  ok(why.includes('"--hf-token=<redacted>"'), why);
  equal(why.includes("abcdefgh12"), false);
});

Deno.test("a secret-named variable assigned in a command's word (API_TOKEN=x python ...) is hidden in that word", () => {
  const planWith = (command: string) =>
    planOf(
      worldOf("local-unknown/docker", (s) => ({ ...s, argv: [] })),
      configFromYaml(`commands:\n  unknown: ${command}\n`),
    );
  for (
    const command of [
      "{argv: ['API_TOKEN=assign-canary-1 python app.py'], shell: true}",
      '{argv: ["cd /app\\nAPI_TOKEN=assign-canary-1 python app.py"], shell: true}',
      "{argv: ['cd /app&&API_TOKEN=assign-canary-1 python app.py'], shell: true}",
      "{argv: [bash, -c, 'API_TOKEN=assign-canary-1 python app.py']}",
      "{argv: [env, -i, 'API_TOKEN=assign-canary-1', python, app.py]}",
      "{argv: [docker, run, -e, 'API_KEY=pa$assign-canary-1', img]}",
    ]
  ) {
    const p = planWith(command);
    ok(p.command!.join(" ").includes("assign-canary-1"), "the command runs as written");
    const shown = p.commandDisplay!.join(" ");
    ok(!shown.includes("assign-canary-1") && shown.includes("=<redacted>"), `${command}: ${shown}`);
  }
  // Like a flag's value, it is not scrubbed from the rest of the output: a program's own
  // max_tokens=100000 argument has the same form, and 100000 would vanish from every line.
  const p = planWith("{argv: [python, gen.py, 'max_tokens=100000']}");
  deepEqual(p.secrets, []);
  deepEqual(p.commandDisplay, ["python", "gen.py", "max_tokens=<redacted>"]);
});

Deno.test("a hidden word in a shell script keeps the operators written against it", () => {
  const shownScript = (script: string) =>
    planOf(
      worldOf("local-unknown/docker", (s) => ({ ...s, argv: [] })),
      configFromYaml(`commands:\n  unknown: {argv: [${JSON.stringify(script)}], shell: true}\n`),
    ).commandDisplay![2]!.replace(' "$@"', "");
  // Blank-separated words end at an operator too: `x1;` hid the ";" and showed another script.
  equal(shownScript("API_TOKEN=op-canary-1; python app.py"), "API_TOKEN=<redacted>; python app.py");
  equal(
    shownScript("python app.py --token op-canary-2;echo done>log"),
    "python app.py --token <redacted>;echo done>log",
  );
  equal(shownScript("run --token op-canary-3>out.log"), "run --token <redacted>>out.log");
  equal(shownScript("(run --token op-canary-4)&&ok"), "(run --token <redacted>)&&ok");
  // A quoted value keeps its operators inside the one hidden word.
  equal(shownScript("run --token 'op;canary-5' && ok"), "run --token <redacted> && ok");
  // Inside a nested script or a comment they are no operators: the value is hidden whole.
  equal(
    shownScript(`bash -c "python app.py --password s3cr&op-canary-6"`),
    `bash -c "python app.py --password <redacted>`,
  );
  equal(
    shownScript("su app -c 'run --token ab(op-canary-7)ef'"),
    "su app -c 'run --token <redacted>",
  );
  equal(
    shownScript("python app.py # --api-key k3y;op-canary-8"),
    "python app.py # --api-key <redacted>",
  );
});

Deno.test("decideCommand() appends a first argument starting with - to the default command, the first one included", () => {
  const p = planOf(
    withArgv(["-v", "--port", "9000"]),
    configFromYaml("commands:\n  unknown: {argv: [python3, serve.py]}\n"),
  );
  deepEqual(p.command, ["python3", "serve.py", "-v", "--port", "9000"]);
});

Deno.test("decideCommand() appends a first argument starting with - to SageMaker's script mode, as after train", () => {
  const argv = (argv: string[]) =>
    planOf(worldOf("sagemaker-training/single-host", (s) => ({ ...s, argv })));
  const word = argv(["train", "--seed", "1"]);
  const dash = argv(["--seed", "1"]);
  deepEqual(dash.command, word.command);
  deepEqual(dash.command?.slice(-2), ["--seed", "1"]);
  equal(dash.cwd, "/opt/ml/code");
  // A configured default command still comes first.
  const configured = planOf(
    worldOf("sagemaker-training/single-host", (s) => ({ ...s, argv: ["--seed", "1"] })),
    configFromYaml("commands:\n  training: {argv: [python3, fit.py]}\n"),
  );
  deepEqual(configured.command, ["python3", "fit.py", "--seed", "1"]);
});

Deno.test("decideCommand() gives leading - arguments on SageMaker training to an executable train on PATH, as train would", () => {
  const withTrain = (argv: string[]) =>
    planOf(worldOf("sagemaker-training/single-host", (s) => ({
      ...s,
      argv,
      files: { ...s.files, "/usr/local/bin/train": "" },
      stat: { ...s.stat, "/usr/local/bin/train": { uid: 0, gid: 0, mode: "0755" } },
    })));
  deepEqual(withTrain(["--seed", "1"]).command, ["train", "--seed", "1"]);
  deepEqual(withTrain(["train", "--seed", "1"]).command, ["train", "--seed", "1"]);
  // The start records where such a train would be.
  const recorded = command.dynamicPaths!(
    worldOf("sagemaker-training/single-host", (s) => ({ ...s, argv: ["--seed", "1"] })),
    DEFAULT_CONFIG,
  ).map((d) => d.path);
  ok(recorded.includes("/usr/local/bin/train"), recorded.join());
});

Deno.test("a configured training command that wins over SageMaker's named program says so", () => {
  const HPS = "/opt/ml/input/config/hyperparameters.json";
  const training = configFromYaml(
    "commands:\n  training: {argv: [torchrun, /opt/program/train.py]}\n",
  );
  const warned = (p: { warnings: readonly string[] }) =>
    p.warnings.filter((w) => w.includes("script mode runs only without a configured command"));
  for (const argv of [[], ["train"], ["--seed", "1"]]) {
    const p = planOf(worldOf("sagemaker-training/single-host", (s) => ({ ...s, argv })), training);
    deepEqual(p.command?.slice(0, 2), ["torchrun", "/opt/program/train.py"]);
    deepEqual(warned(p), [
      'commands.training runs, not the program "train.py" that SageMaker names (SAGEMAKER_PROGRAM or sagemaker_program): script mode runs only without a configured command',
    ], JSON.stringify(argv));
  }
  // The toolkit's train runs the program: nothing to say.
  const toolkit = planOf(
    worldOf("sagemaker-training/single-host", (s) => ({ ...s, argv: [] })),
    configFromYaml("commands:\n  training: {argv: [/usr/local/bin/train]}\n"),
  );
  deepEqual(warned(toolkit), []);
  // No program named: nothing to say.
  const none = planOf(
    worldOf("sagemaker-training/single-host", (s) => ({
      ...s,
      files: { ...s.files, [HPS]: '{"epochs": "10"}' },
    })),
    training,
  );
  deepEqual(warned(none), []);
});

Deno.test("script mode puts the code folder on PYTHONPATH, as the toolkit exports its sys.path", () => {
  const sm = (env: Record<string, string>, yaml = "") =>
    planOf(
      worldOf("sagemaker-training/single-host", (s) => ({ ...s, env: { ...s.env, ...env } })),
      yaml === "" ? undefined : configFromYaml(yaml),
    );
  equal(sm({}).env["PYTHONPATH"], "/opt/ml/code");
  equal(sm({ PYTHONPATH: "/opt/lib" }).env["PYTHONPATH"], "/opt/lib:/opt/ml/code");
  // A configured command is not script mode.
  equal("PYTHONPATH" in sm({}, "commands:\n  training: {argv: [python3, fit.py]}\n").env, false);
});

Deno.test("script mode warns that a launcher the estimator turned on is not started", () => {
  const HPS = "/opt/ml/input/config/hyperparameters.json";
  const launcher = (hps: Record<string, string>, env: Record<string, string> = {}) =>
    planOf(worldOf("sagemaker-training/single-host", (s) => ({
      ...s,
      env: { ...s.env, ...env },
      files: { ...s.files, [HPS]: JSON.stringify({ sagemaker_program: '"train.py"', ...hps }) },
    }))).warnings.filter((w) => w.startsWith("Script mode runs the program once per host"));
  equal(launcher({}).length, 0);
  equal(launcher({ sagemaker_mpi_enabled: "false" }).length, 0);
  equal(launcher({ sagemaker_mpi_enabled: "null" }).length, 0);
  equal(launcher({ sagemaker_mpi_enabled: "0" }).length, 0);
  // The toolkits test the switch by Python truth: 1, and a raw (not JSON) string, turn it on.
  equal(launcher({ sagemaker_mpi_enabled: "1" }).length, 1);
  equal(launcher({ sagemaker_distributed_dataparallel_enabled: "True" }).length, 1);
  const [mpi] = launcher({
    sagemaker_mpi_enabled: "true",
    sagemaker_mpi_num_of_processes_per_host: "8",
  });
  match(mpi!, /; hyperparameter sagemaker_mpi_enabled asks the framework toolkit for a launcher/);
  const [module] = launcher({}, {
    SAGEMAKER_TRAINING_MODULE: "sagemaker_pytorch_container.training:main",
  });
  match(module!, /SAGEMAKER_TRAINING_MODULE "sagemaker_pytorch_container\.training:main" asks/);
});

Deno.test("decideCommand() runs a first argument named like what every object inherits as the command", () => {
  // Only the workload words select a default command, not Object.prototype's names.
  deepEqual(planOf(withArgv(["constructor", "--help"])).command, ["constructor", "--help"]);
});

Deno.test("command.dynamicPaths() records a workload word's executable in each PATH folder, and nothing for other commands", () => {
  const paths = (argv: string[]) =>
    command.dynamicPaths!(withArgv(argv), DEFAULT_CONFIG).map((d) => d.path);
  const serve = paths(["serve", "--port", "8080"]);
  ok(serve.includes("/usr/local/bin/serve") && serve.includes("/usr/bin/serve"), serve.join());
  deepEqual(paths(["python3", "serve.py"]), []);
  deepEqual(paths([]), []);
  // Each is a stat: whether the executable is there, and its mode.
  deepEqual(
    command.dynamicPaths!(withArgv(["serve"]), DEFAULT_CONFIG).find((d) =>
      d.path === "/usr/bin/serve"
    ),
    { kind: "stat", path: "/usr/bin/serve" },
  );
});

Deno.test("script mode shows the extra arguments once, a secret flag's value redacted", () => {
  const p = planOf(
    worldOf("sagemaker-training/single-host", (s) => ({
      ...s,
      argv: ["train", "--hf-token", "hf-canary-123"],
    })),
  );
  equal(p.command?.at(-1), "hf-canary-123");
  deepEqual(p.commandDisplay, [...p.command!.slice(0, -1), "<redacted>"]);
});

Deno.test("command: a workload word that names another workload than the forced one runs its command, with a warning", () => {
  const config = configFromYaml(
    "commands:\n  training:\n    argv: [python3, /t.py]\n  serving:\n    argv: [python3, /s.py]\n",
  );
  const world = worldOf("local-unknown/docker", (s) => ({
    ...s,
    argv: ["train", "--x"],
    env: { ...s.env, CHAMELEON_WORKLOAD: "serving" },
  }));
  const p = planOf(world, config);
  deepEqual(p.command, ["python3", "/t.py", "--x"]);
  ok(
    p.warnings.some((w) => w.includes('"train"') && w.includes("forced to serving")),
    JSON.stringify(p.warnings),
  );
  // The word of the forced workload itself warns of nothing.
  const same = planOf(
    worldOf("local-unknown/docker", (s) => ({
      ...s,
      argv: ["serve"],
      env: { ...s.env, CHAMELEON_WORKLOAD: "serving" },
    })),
    config,
  );
  deepEqual(same.command, ["python3", "/s.py"]);
  equal(same.warnings.some((w) => w.includes("forced")), false);
});

// --- Gaps found by mutation testing ---

Deno.test("shellWords() reads an empty quoted string as an empty word", () => {
  deepEqual(shellWords("a '' b").map((w) => w.text), ["a", "", "b"]);
});

Deno.test("shellWords() keeps what an unclosed quote or a trailing backslash leaves, and nothing more", () => {
  const texts = (script: string) => shellWords(script).map((w) => w.text);
  deepEqual(texts('"abc'), ["abc"]);
  // An escaped quote does not close the string: it is text.
  deepEqual(texts('"a\\"'), ['a"']);
  deepEqual(texts('"ab\\'), ["ab\\"]);
  deepEqual(texts("a\\"), ["a\\"]);
  // A backslash escapes the last character too.
  deepEqual(texts("a\\b"), ["ab"]);
});

/** The plan of a configured shell command (with its extra arguments). */
const shellPlan = (script: string, extra: string[] = []) =>
  planOf(
    worldOf("local-unknown/docker", (s) => ({ ...s, argv: extra })),
    configFromYaml(`commands:\n  unknown: {argv: [${JSON.stringify(script)}], shell: true}\n`),
  );

Deno.test('a configured shell command\'s shown script hides a secret after the inserted "$@" where it stands', () => {
  const p = shellPlan("python app.py # --api-key k3y-canary");
  equal(p.command![2], 'python app.py "$@" # --api-key k3y-canary');
  equal(p.commandDisplay![2], 'python app.py "$@" # --api-key <redacted>');
});

Deno.test("a configured shell command with a secret still runs through the shell", () => {
  const p = shellPlan("python app.py --token sh-canary-1");
  equal(p.commandDisplay![2], 'python app.py --token <redacted> "$@"');
  equal(p.shell, true);
});

Deno.test("a secret flag with no value before an operator hides nothing", () => {
  const p = shellPlan("python app.py --token &");
  deepEqual(p.commandDisplay, p.command);
});

Deno.test("decideCommand() runs a configured command in its cwd", () => {
  const p = planOf(
    withArgv([]),
    configFromYaml("commands:\n  unknown: {argv: [python3, app.py], cwd: /srv/app}\n"),
  );
  equal(p.cwd, "/srv/app");
});

Deno.test("decideCommand() runs a workload word's executable on PATH as an argv when no default command is set", () => {
  const withTrain = (mode: string) =>
    worldOf("local-unknown/docker", (s) => ({
      ...s,
      argv: ["train", "--epochs", "2"],
      files: { ...s.files, "/usr/local/bin/train": "" },
      stat: { ...s.stat, "/usr/local/bin/train": { uid: 0, gid: 0, mode } },
    }));
  const p = planOf(withTrain("0755"));
  deepEqual(p.command, ["train", "--epochs", "2"]);
  equal(p.shell, false);
  // Not executable: no command, and the message names the config key.
  const none = planOf(withTrain("0644"));
  equal(none.command, null);
  match(
    String(none.notes["commandMissing"]),
    /no executable train is on PATH: set commands\.training/,
  );
});

Deno.test("decideCommand() runs a Spark pod's role as an argv, not through a shell", () => {
  const p = planOf(
    worldOf("kubernetes-unknown/pod", (s) => ({
      ...s,
      argv: ["executor"],
      env: {
        ...s.env,
        SPARK_DRIVER_URL: "spark://CoarseGrainedScheduler@10.0.0.7:7078",
        SPARK_EXECUTOR_ID: "3",
      },
    })),
    toImageConfig({ spark: { enabled: true } }),
  );
  equal(p.command![0], "java");
  equal(p.shell, false);
});

Deno.test("command: a first argument named like what every object inherits is no workload word and warns of nothing", () => {
  const p = planOf(
    worldOf("local-unknown/docker", (s) => ({
      ...s,
      argv: ["constructor"],
      env: { ...s.env, CHAMELEON_WORKLOAD: "serving" },
    })),
  );
  deepEqual(p.command, ["constructor"]);
  equal(p.warnings.some((w) => w.includes("forced")), false);
});

Deno.test("a shell command's two quoted secret values with blanks are each hidden once, where they stand", () => {
  const p = shellPlan("python app.py --token 'a b' --api-key 'c d' -v");
  equal(p.commandDisplay![2], 'python app.py --token <redacted> --api-key <redacted> -v "$@"');
});

Deno.test("onPath() finds an executable file in PATH's absolute folders only, in the default PATH without one", () => {
  const world = (env: Record<string, string>, path: string, mode: string, dir = false) =>
    new World(snap({
      env,
      files: dir ? {} : { [path]: "" },
      dirs: dir ? [path] : [],
      stat: { [path]: { uid: 0, gid: 0, mode } },
    }));
  equal(onPath(world({ PATH: "/opt/bin" }, "/opt/bin/train", "0755"), "train"), "/opt/bin/train");
  // No PATH: the default one, as execvp takes.
  equal(onPath(world({}, "/usr/local/bin/train", "0755"), "train"), "/usr/local/bin/train");
  // A relative folder depends on the working folder: not looked in.
  equal(onPath(world({ PATH: "bin:/usr/bin" }, "bin/train", "0755"), "train"), undefined);
  deepEqual(pathDirs(world({ PATH: "bin::/usr/bin" }, "bin/train", "0755")), ["/usr/bin"]);
  // A folder is no program, even one with its x bits.
  equal(onPath(world({ PATH: "/opt/bin" }, "/opt/bin/train", "0755", true), "train"), undefined);
  // Any x bit counts: another uid or group may run it.
  equal(onPath(world({ PATH: "/opt/bin" }, "/opt/bin/train", "0654"), "train"), "/opt/bin/train");
  equal(onPath(world({ PATH: "/opt/bin" }, "/opt/bin/train", "0644"), "train"), undefined);
});
