import { deepEqual, equal, match, ok, throws } from "@std/assert";
import { editDistance, envSwitch, helpText, OPTIONS, parseArgs, withinEdits } from "./cli.ts";
import { Logger, writeAll } from "./log.ts";
import { UsageError } from "./errors.ts";
import { planFixture, withEnv } from "./tests/helpers.ts";

Deno.test("parseArgs() recognises own options only before the command", () => {
  const o = parseArgs(["--explain", "--format=json", "python3", "--explain"]);
  deepEqual([o.explain, o.format, o.command], [true, "json", ["python3", "--explain"]]);
  deepEqual(parseArgs(["--", "--explain"]).command, ["--explain"]);
  deepEqual(parseArgs(["--context", "sagemaker-training", "train"]).context, "sagemaker-training");
});

Deno.test("parseArgs() passes a first unknown flag on to the default command", () => {
  deepEqual(parseArgs(["--port", "9000"]).command, ["--port", "9000"]);
  deepEqual(parseArgs(["-v"]).command, ["-v"]);
  // Only --help is ours: a server's own -h reaches it.
  deepEqual([parseArgs(["-h"]).help, parseArgs(["-h"]).command], [false, ["-h"]]);
  deepEqual(parseArgs(["--model_name", "iris", "--http_port", "8080"]).command.length, 4);
  // Own options are the double-dash ones: a Go program's -config or -version is its own.
  deepEqual(parseArgs(["-config", "/etc/app.yaml"]).command, ["-config", "/etc/app.yaml"]);
  deepEqual(parseArgs(["-version"]).command, ["-version"]);
});

Deno.test("parseArgs() turns a near miss of an own option into a usage error with a suggestion", () => {
  throws(() => parseArgs(["--explian"]), /did you mean --explain\?/);
  throws(() => parseArgs(["--contxt", "x"]), /did you mean --context\?/);
  throws(() => parseArgs(["--snapshto=x"]), /did you mean --snapshot\?/);
});

Deno.test("parseArgs() checks values and combinations", () => {
  throws(() => parseArgs(["--format", "yaml"]), UsageError);
  throws(() => parseArgs(["--format"]), /needs a value/);
  throws(() => parseArgs(["--snapshot", "s.json", "train"]), /cannot be given with --snapshot/);
  // The command word is quoted as the display shows it: a secret flag's value stays hidden.
  throws(
    () => parseArgs(["--snapshot", "s.json", "--hf_token=hf_cli-canary"]),
    /^UsageError: A command \("--hf_token=<redacted>"\) cannot be given/,
  );
  throws(() => parseArgs(["--snapshot", "s.json", "--token", "x1"]), /\("--token"\)/);
  throws(
    () => parseArgs(["--check-config", "--hf_token=hf_cli-canary"]),
    /^UsageError: A command \("--hf_token=<redacted>"\) cannot be given with --check-config/,
  );
  throws(() => parseArgs(["--snapshot", "a", "--capture", "b"]), /exclude each other/);
  throws(() => parseArgs(["--write-json", "x"]), /needs --check-config/);
  throws(() => parseArgs(["--explain", "--explain"]), /given twice/);
  throws(() => parseArgs(["--explain=1"]), /takes no value/);
});

Deno.test("parseArgs() refuses options that one-shot modes would drop without a word, and empty values", () => {
  const cases: [string[], RegExp][] = [
    [["--capture", "s.json", "--explain"], /^Options --capture and --explain exclude each other$/],
    [["--capture", "s.json", "--context", "bogus"], /--capture and --context exclude/],
    [["--capture", "s.json", "--format", "json"], /--capture and --format exclude/],
    [["--check-config", "c.yaml", "--snapshot", "s.json"], /--check-config and --snapshot/],
    [["--check-config", "c.yaml", "--explain"], /--check-config and --explain/],
    [["--check-config", "c.yaml", "--workload", "serving"], /--check-config and --workload/],
    [
      ["--check-config", "c.yaml", "extra"],
      /A command \("extra"\) cannot be given with --check-config/,
    ],
    [["--check-config", "-"], /--check-config reads a file: "-" \(standard input\) is not one/],
    [["--check-config=-"], /--check-config reads a file: "-" \(standard input\) is not one/],
    [["--config", "-", "--explain"], /--config reads a file: "-" \(standard input\) is not one/],
    [["--config=-", "true"], /--config reads a file: "-" \(standard input\) is not one/],
    [
      ["--check-config", "a.yaml", "--config", "b.yaml"],
      /^Options --check-config a\.yaml and --config b\.yaml name two configs: give the file once$/,
    ],
  ];
  for (const name of ["--config", "--snapshot", "--capture", "--check-config", "--context"]) {
    cases.push([[`${name}=`], new RegExp(`^Option ${name}: expected a value, got nothing$`)]);
  }
  for (const [args, re] of cases) {
    const e = caughtUsage(() => parseArgs(args));
    match(e.message, re, args.join(" "));
  }
  // --help and --version still answer whatever else is given; a capture may carry a command.
  equal(parseArgs(["--help", "--capture", "s.json", "--explain"]).help, true);
  deepEqual(parseArgs(["--capture", "s.json", "train", "--epochs", "3"]).command, [
    "train",
    "--epochs",
    "3",
  ]);
  equal(parseArgs(["--check-config", "--config", "c.yaml"]).config, "c.yaml");
});

Deno.test("parseArgs() takes --check-config with and without a file", () => {
  deepEqual(parseArgs(["--check-config"]).checkConfig, {});
  deepEqual(parseArgs(["--check-config", "c.yaml", "--write-json", "o.json"]), {
    ...parseArgs([]),
    checkConfig: { file: "c.yaml" },
    writeJson: "o.json",
  });
});

Deno.test("parseArgs() honours CHAMELEON_EXPLAIN and CHAMELEON_FORMAT, the flag winning", () => {
  const o = parseArgs([], { CHAMELEON_EXPLAIN: "1", CHAMELEON_FORMAT: "json" });
  deepEqual([o.explain, o.format], [true, "json"]);
  equal(parseArgs(["--format", "text"], { CHAMELEON_FORMAT: "json" }).format, "text");
  throws(
    () => parseArgs([], { CHAMELEON_EXPLAIN: "1", CHAMELEON_FORMAT: "xml" }),
    /CHAMELEON_FORMAT/,
  );
  throws(() => parseArgs(["--explain"], { CHAMELEON_FORMAT: "xml" }), /CHAMELEON_FORMAT/);
});

Deno.test("parseArgs() lets --capture record the explain variables rather than explain", () => {
  // They are part of the environment the snapshot holds: its replay explains as they say.
  const o = parseArgs(["--capture", "/tmp/s.json"], {
    CHAMELEON_EXPLAIN: "1",
    CHAMELEON_FORMAT: "json",
  });
  deepEqual([o.explain, o.capture, o.format], [false, "/tmp/s.json", "text"]);
  equal(parseArgs(["--capture", "-"], { CHAMELEON_EXPLAIN: "ture" }).explain, false);
});

Deno.test("parseArgs() leaves a bad CHAMELEON_FORMAT alone when not explaining", () => {
  // It only shapes --explain: a real start (CHAMELEON_DISABLE=1 included) and --help go on.
  equal(parseArgs(["true"], { CHAMELEON_FORMAT: "yaml" }).format, "text");
  equal(parseArgs(["--help"], { CHAMELEON_FORMAT: "yaml" }).help, true);
  throws(() => parseArgs(["--format", "yaml", "true"]), /--format "yaml"/);
});

Deno.test("editDistance() counts a swap as one edit", () => {
  equal(editDistance("--explian", "--explain"), 1);
  equal(editDistance("abc", "abc"), 0);
  equal(editDistance("", "ab"), 2);
});

Deno.test("helpText() lists every option and the env variables", () => {
  const h = helpText("9.9.9");
  for (const o of OPTIONS) equal(h.includes(o.name), true, o.name);
  for (
    const v of [
      "CHAMELEON_DISABLE",
      "CHAMELEON_LOG_LEVEL",
      "CHAMELEON_LOG_FORMAT",
      "CHAMELEON_CONFIG",
    ]
  ) {
    equal(h.includes(v), true, v);
  }
});

Deno.test("parseArgs() reads CHAMELEON_FORMAT for a replay (--snapshot implies --explain)", () => {
  equal(parseArgs(["--snapshot", "f.json"], { CHAMELEON_FORMAT: "json" }).format, "json");
  throws(() => parseArgs(["--snapshot", "f.json"], { CHAMELEON_FORMAT: "xml" }), UsageError);
  // A real start never reads it: a bad value cannot stop one.
  equal(parseArgs(["python3"], { CHAMELEON_FORMAT: "xml" }).format, "text");
});

Deno.test("parseArgs() refuses an empty --context or --workload instead of ignoring it", () => {
  for (const args of [["--context="], ["--context", ""], ["--workload="]]) {
    throws(() => parseArgs(args), UsageError, "expected a value, got nothing");
  }
});

Deno.test("on/off variables take 1/true/yes/on and 0/false/no/off in any case; anything else is a usage error", () => {
  for (const v of ["1", "true", "YES", "On"]) equal(envSwitch({ X: v }, "X"), true, v);
  for (const v of ["", "0", "False", "no", "OFF"]) equal(envSwitch({ X: v }, "X"), false, v);
  equal(envSwitch({}, "X"), false);
  throws(() => envSwitch({ X: "ture" }, "X"), UsageError, 'Variable X "ture": expected 1');
  // CHAMELEON_EXPLAIN=true explains; a bad value never turns into a real start.
  equal(parseArgs(["true"], { CHAMELEON_EXPLAIN: "true" }).explain, true);
  throws(() => parseArgs(["true"], { CHAMELEON_EXPLAIN: "sure" }), UsageError);
  // --help, --version and --check-config answer whatever the explain variables hold.
  for (const flag of ["--help", "--version", "--check-config"]) {
    equal(parseArgs([flag], { CHAMELEON_EXPLAIN: "1", CHAMELEON_FORMAT: "yaml" }).explain, false);
    equal(parseArgs([flag], { CHAMELEON_EXPLAIN: "sure" }).explain, false);
  }
});

Deno.test("the logger takes its level and format in any case, and warns of an unknown one", () => {
  const lines: string[] = [];
  const log = new Logger(
    { CHAMELEON_LOG_LEVEL: "DEBUG", CHAMELEON_LOG_FORMAT: "JSON" },
    (l) => lines.push(l),
  );
  equal(log.debugEnabled, true);
  log.info("hello");
  equal(JSON.parse(lines[0]!).msg, "hello");
  const warned: string[] = [];
  const bad = new Logger(
    { CHAMELEON_LOG_LEVEL: "verbose", CHAMELEON_LOG_FORMAT: "xml" },
    (l) => warned.push(l),
  );
  equal(bad.debugEnabled, false);
  equal(warned.length, 2);
  equal(
    warned[0]!.includes('CHAMELEON_LOG_LEVEL "verbose": expected error, warn, info or debug'),
    true,
  );
  equal(warned[1]!.includes('CHAMELEON_LOG_FORMAT "xml": expected text or json'), true);
});

Deno.test("the logger takes an empty level or format as unset: info and text, no warning", () => {
  const lines: string[] = [];
  const log = new Logger(
    { CHAMELEON_LOG_LEVEL: "", CHAMELEON_LOG_FORMAT: "" },
    (l) => lines.push(l),
  );
  log.debug("hidden");
  log.info("shown");
  deepEqual(lines, ["chameleon: info: shown"]);
});

Deno.test("a log line carries its fields: a JSON line with the time, a text line as key=value", () => {
  const json: string[] = [];
  new Logger({ CHAMELEON_LOG_FORMAT: "json" }, (l) => json.push(l)).warn("m", { path: "/x", n: 2 });
  const line = JSON.parse(json[0]!);
  match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  deepEqual({ ...line, time: "" }, { time: "", level: "warn", msg: "m", path: "/x", n: 2 });
  const text: string[] = [];
  new Logger({}, (l) => text.push(l)).warn("m", { path: "/x", list: ["a"] });
  deepEqual(text, ['chameleon: warn: m path=/x list=["a"]']);
});

Deno.test("the logger hides a secret as a JSON line escapes it, and leaves a plain word alone", () => {
  const lines: string[] = [];
  const log = new Logger({ CHAMELEON_LOG_FORMAT: "json" }, (l) => lines.push(l));
  const secret = 'pa"ss\\wörd';
  log.addSecrets([secret, "false"]);
  log.info(`using ${secret}, verbose false`);
  equal(JSON.parse(lines[0]!).msg, "using <redacted>, verbose false");
});

Deno.test("the logger falls back to info on an unknown level, and a quiet one warns of nothing", () => {
  const lines: string[] = [];
  const log = new Logger({ CHAMELEON_LOG_LEVEL: "verbose" }, (l) => lines.push(l));
  log.info("still shown");
  log.debug("hidden");
  equal(lines.at(-1), "chameleon: info: still shown");
  equal(lines.length, 2);
  const quiet: string[] = [];
  new Logger(
    { CHAMELEON_LOG_LEVEL: "verbose", CHAMELEON_LOG_FORMAT: "xml" },
    (l) => quiet.push(l),
    true,
  ).info("shown");
  deepEqual(quiet, ["chameleon: info: shown"]);
});

Deno.test("the logger keeps the secrets of every addSecrets() call", () => {
  const lines: string[] = [];
  const log = new Logger({}, (l) => lines.push(l));
  log.addSecrets(["first-secret"]);
  log.addSecrets(["second-secret"]);
  log.info("first-secret second-secret");
  deepEqual(lines, ["chameleon: info: <redacted> <redacted>"]);
});

Deno.test("the logger hides each of 500 secrets given in two addSecrets() calls, in text and JSON lines", () => {
  for (const format of ["text", "json"]) {
    const lines: string[] = [];
    const log = new Logger({ CHAMELEON_LOG_FORMAT: format }, (l) => lines.push(l));
    const secrets = Array.from({ length: 500 }, (_, i) => `s${i}-${(i * 7919).toString(36)}"x`);
    log.addSecrets(secrets.slice(0, 250));
    log.addSecrets(secrets.slice(250));
    secrets.forEach((s, i) => log.info(`value ${i} is ${s}.`));
    lines.forEach((l, i) => {
      const msg = format === "json" ? JSON.parse(l).msg : l.replace("chameleon: info: ", "");
      equal(msg, `value ${i} is <redacted>.`);
    });
    equal(lines.length, 500);
  }
});

Deno.test("withinEdits() answers as editDistance() <= max does, lengths far apart included", () => {
  const words = [
    "--config",
    "--confg",
    "--cofnig",
    "--configs",
    "--cfg",
    "-c",
    "",
    "--explain",
    "--x",
  ];
  for (const a of words) {
    for (const b of words) {
      for (const max of [0, 1, 2, 3]) {
        equal(withinEdits(a, b, max), editDistance(a, b) <= max, `${a} ${b} ${max}`);
      }
    }
  }
});

Deno.test("parseArgs() passes a first word of 1,000,000 characters after -- on as the command, and still suggests for a near miss", () => {
  const long = "--" + "a".repeat(1_000_000);
  deepEqual(parseArgs([long, "x"]).command, [long, "x"]);
  throws(
    () => parseArgs(["--explian"]),
    UsageError,
    'Unknown option "--explian": did you mean --explain?',
  );
});

Deno.test("writeAll() writes every byte through a sink that takes a few at a time", () => {
  const got: number[] = [];
  const few = {
    writeSync: (p: Uint8Array) => (got.push(...p.subarray(0, 3)), Math.min(3, p.length)),
  };
  writeAll(few, new TextEncoder().encode("chameleon"));
  equal(new TextDecoder().decode(new Uint8Array(got)), "chameleon");
});

function caughtUsage(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error("expected a usage error, but nothing was thrown");
}

Deno.test("parseArgs() suggests an own option two edits away, as design section 3 says", () => {
  throws(
    () => parseArgs(["--workld", "serving"]),
    /^UsageError: Unknown option "--workld": did you mean --workload\?$/,
  );
  throws(() => parseArgs(["--chek-confg"]), /did you mean --check-config\?/);
  throws(() => parseArgs(["--xplan"]), /did you mean --explain\?/);
});

Deno.test("parseArgs(): --version answers whatever else is given, as --help does", () => {
  equal(parseArgs(["--version", "--capture", "s.json", "--explain"]).version, true);
  equal(parseArgs(["--version", "--check-config", "c.yaml", "--snapshot", "s.json"]).version, true);
  // Values they do not use are not checked either.
  for (const flag of ["--help", "--version"]) {
    equal(parseArgs([flag, "--format", "xml"]).format, "text");
    equal(parseArgs([flag, "--config="]).command.length, 0);
    equal(parseArgs([flag, "--snapshot", "s.json", "true"]).command.length, 1);
  }
});

Deno.test("parseArgs() takes an empty CHAMELEON_FORMAT as unset: the default text", () => {
  equal(parseArgs(["--explain"], { CHAMELEON_FORMAT: "" }).format, "text");
  equal(parseArgs(["--snapshot", "s.json"], { CHAMELEON_FORMAT: "" }).format, "text");
});

Deno.test("parseArgs() refuses every pair a one-shot option would drop", () => {
  const exclusive: [string[], string[]][] = [
    [["--check-config", "c.yaml"], [
      "--explain",
      "--format=json",
      "--snapshot=s.json",
      "--capture=s.json",
      "--context=local",
      "--workload=serving",
    ]],
    [["--capture", "s.json"], [
      "--explain",
      "--format=json",
      "--snapshot=s.json",
      "--context=local",
      "--workload=serving",
    ]],
  ];
  for (const [first, others] of exclusive) {
    for (const other of others) {
      const name = other.replace(/=.*$/, "");
      // Either order: the one-shot option is named first.
      for (const args of [[...first, other], [other, ...first]]) {
        const e = caughtUsage(() => parseArgs(args));
        equal(e.message, `Options ${first[0]} and ${name} exclude each other`, args.join(" "));
      }
    }
  }
});

Deno.test("parseArgs() wants a value for --write-json, as for every option that takes one", () => {
  throws(
    () => parseArgs(["--check-config", "--write-json"]),
    /^UsageError: Option --write-json needs a value OUT$/,
  );
});

Deno.test("helpText() shows the value each option takes", () => {
  const h = helpText("9.9.9");
  for (
    const shown of [
      "--format text|json",
      "--context ID",
      "--check-config [FILE]",
      "--snapshot FILE",
    ]
  ) {
    ok(h.includes(`  ${shown} `), shown);
  }
  // An option that takes no value shows none.
  match(h, /^ {2}--explain {2,}detect and plan/m);
  match(h, /^ {2}--help {2,}show this help$/m);
});

Deno.test("a text log line is one line: a value's newline and ESC are escaped, after the secrets are hidden", () => {
  // A plan warning quotes NVIDIA_VISIBLE_DEVICES as given; a start logs each warning.
  const visible = "all\nchameleon: error: \x1b[31mfake\x9b";
  const p = planFixture("local-unknown/docker", withEnv({ NVIDIA_VISIBLE_DEVICES: visible }));
  const lines: string[] = [];
  const log = new Logger({}, (l) => lines.push(l));
  for (const w of p.warnings) log.warn(w);
  equal(lines.length, 1, lines.join("\n"));
  for (const line of lines) {
    equal(line.split("\n").length, 1, line);
    ok(
      line.startsWith(
        "chameleon: warn: NVIDIA_VISIBLE_DEVICES=all\\nchameleon: error: \\u001b[31mfake\\u009b but",
      ),
      line,
    );
  }
  log.addSecrets(["s3cr\net"]);
  log.info("token s3cr\net");
  equal(lines[1], "chameleon: info: token <redacted>");
});

Deno.test("parseArgs() refuses an own option or -- as the next word's value: the value was left out", () => {
  // `--capture --explain` wrote a snapshot to a file named --explain and exited 0; `--config
  // --explain` was exit 78 for a config of that name; `--config -- python3` read a config "--".
  for (
    const [args, got] of [
      [["--capture", "--explain"], "--explain"],
      [["--config", "--explain", "true"], "--explain"],
      [["--snapshot", "--format=json"], "--format=json"],
      [["--config", "--", "python3"], "--"],
      [["--write-json", "--check-config"], "--check-config"],
    ] as const
  ) {
    throws(
      () => parseArgs(args),
      UsageError,
      `Option ${args[0]} needs a value ${
        OPTIONS.find((o) => o.name === args[0])!.arg
      }, got option ${JSON.stringify(got)}`,
    );
  }
  // Given with = it is taken as written, as is any other word starting with -.
  equal(parseArgs(["--capture=--explain"]).capture, "--explain");
  equal(parseArgs(["--snapshot", "-"]).snapshot, "-");
  equal(parseArgs(["--config", "-x.json", "true"]).config, "-x.json");
  equal(parseArgs(["--config", "--explian.json", "true"]).config, "--explian.json");
});
