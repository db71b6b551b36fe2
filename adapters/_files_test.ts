import { isIpv4 } from "../types.ts";
import { deepEqual, equal, match, ok } from "@std/assert";
import { InputError } from "../errors.ts";
import { type PyDict, pyLoads, pyRepr } from "../pyjson.ts";
import { parseJson } from "../shape.ts";
import { rng } from "../tests/fuzz.ts";
import { caught, planFixture, snap, withEnv, withFiles } from "../tests/helpers.ts";
import { World } from "../world.ts";
import {
  decodeHyperparameters,
  hostPortOf,
  hyperparameters,
  isIpAddress,
  isSafeName,
  jsonEnv,
  maybeHostPort,
  portEnv,
  positiveIntEnv,
  pyJsonEnv,
  splitHyperparameters,
  TF_CONFIG,
  urlHost,
} from "./_files.ts";

Deno.test("isSafeName() refuses what would leave or cut a path: empty, '.', '..', '/', NUL (design section 8)", () => {
  for (const name of ["", ".", "..", "a/../b", "a/b", "a\0b"]) {
    equal(isSafeName(name), false, JSON.stringify(name));
  }
  ok(isSafeName("train-data.v2"));
});

Deno.test("plan() refuses a channel name with a NUL with exit 78 naming the file", () => {
  const e = caught(() =>
    planFixture(
      "sagemaker-training/single-host",
      withFiles({
        "/opt/ml/input/config/inputdataconfig.json":
          '{"tr\\u0000ain": {"TrainingInputMode": "File"}}',
      }),
    )
  );
  ok(e instanceof InputError, String(e));
  match((e as InputError).message, /inputdataconfig\.json: channel /);
});

Deno.test("splitHyperparameters() takes only the sagemaker_ prefix for the framework's, as the toolkit does", () => {
  const h = splitHyperparameters(
    new Map<string, string>([
      ["sagemakerish", "1"],
      ["sagemaker_distributed_dataparallel_enabled", "true"],
      ["sagemaker_program", "train.py"],
    ]),
  );
  deepEqual(
    [[...h.user.keys()], [...h.framework.keys()], [...h.reserved.keys()]],
    [["sagemakerish"], ["sagemaker_distributed_dataparallel_enabled"], ["sagemaker_program"]],
  );
});

Deno.test("hyperparameters() reads a flat file as json.loads, decoding and splitting each value do", () => {
  const keys = [
    '"a"',
    '"b"',
    '"sagemaker_x"',
    '"sagemaker_program"',
    '"_tuning_objective_metric"',
    '"k\\u00e9"',
  ];
  // Values as they stand in the file: numbers, JSON strings in JSON and their near misses, other JSON.
  const values = [
    '"1.5"',
    '"7"',
    '"-0"',
    '"-0.0"',
    '"1e5"',
    '"01"',
    '"1."',
    '"true"',
    '"null"',
    '""',
    '"v"',
    '"\\"v\\""',
    '"\\"\\""',
    '"\\"x\\"y"',
    '"x\\"y\\""',
    '"\\"x\\\\"',
    '"\\"x\\n"',
    '"\\tx\\""',
    '"\\"\\\\\\""',
    '"\\"x\\"\\""',
    '"[1, \\"a\\"]"',
    '"{\\"k\\": 2.50}"',
    '"\\"\\u00e9\\""',
  ];
  const r = rng(3);
  const pick = (from: string[]) => from[Math.floor(r() * from.length)]!;
  const parts = (h: { user: PyDict; framework: PyDict; reserved: PyDict }) =>
    [h.user, h.framework, h.reserved].map((d) => pyRepr(d));
  for (let n = 0; n < 2000; n++) {
    const members = Array.from(
      { length: Math.floor(r() * 6) },
      () => `${pick(keys)}: ${pick(values)}`,
    );
    const text = `{${members.join(", ")}}`;
    const world = new World(snap({ files: { "/opt/ml/input/config/hyperparameters.json": text } }));
    const general = splitHyperparameters(decodeHyperparameters(pyLoads(text) as PyDict));
    deepEqual(parts(hyperparameters(world)), parts(general), text);
  }
});

Deno.test("hostPortOf() refuses a host with a colon (an IPv6 address without brackets): which colon ends it is a guess", () => {
  ok(caught(() => hostPortOf("fe80::1:2222", "Variable X")) instanceof InputError);
  equal(maybeHostPort("fe80::1:2222", "Variable X"), undefined);
  deepEqual(hostPortOf("w-0.svc:2222", "Variable X"), { host: "w-0.svc", port: 2222 });
});

Deno.test("TF_CONFIG: when both the whole cluster and a sparse one are given, the whole one wins", () => {
  const r = parseJson(
    JSON.stringify({
      cluster: { worker: ["w-0:2222", "w-1:2222"] },
      sparseCluster: { worker: { "1": "w-1:2222" } },
      task: { type: "worker", index: 1 },
    }),
    TF_CONFIG,
  );
  if (!r.ok) throw new Error(r.problem);
  ok("cluster" in r.value);
  deepEqual("cluster" in r.value ? r.value.cluster : null, { worker: ["w-0:2222", "w-1:2222"] });
});

Deno.test("hostPortOf() takes an IPv6 address in brackets, without them", () => {
  deepEqual(hostPortOf("[fd00::1]:29400", "Variable X"), { host: "fd00::1", port: 29400 });
  deepEqual(maybeHostPort("[::ffff:10.0.0.1]:2222", "Variable X"), {
    host: "::ffff:10.0.0.1",
    port: 2222,
  });
  for (const bad of ["[w-0]:2222", "[]:2222", "[fd00::1:2222", "fd00::1]:2222"]) {
    equal(maybeHostPort(bad, "Variable X"), undefined, bad);
  }
});

// --- Gaps found by mutation testing ---

Deno.test("hostPortOf() takes ports 1 to 65535 only, and no host with white space or a bracketed name", () => {
  deepEqual(hostPortOf("w-0:65535", "Variable X"), { host: "w-0", port: 65535 });
  for (const bad of ["w-0:65536", "w-0:0"]) {
    ok(caught(() => hostPortOf(bad, "Variable X")) instanceof InputError, bad);
  }
  // RFC 3986: brackets hold an IPv6 address, which has a colon.
  for (const bad of ["w 0:2222", "[1234]:2222"]) {
    equal(maybeHostPort(bad, "Variable X"), undefined, bad);
  }
});

Deno.test("isIpAddress() takes dotted quads of 0 to 255 without leading zeros, and IPv6 with one :: at most", () => {
  for (
    const ip of ["255.255.255.255", "10.0.0.1", "fd00::1", "::ffff:10.0.0.1", "1:2:3:4:5:6:7:8"]
  ) {
    equal(isIpAddress(ip), true, ip);
  }
  for (const name of ["256.0.0.1", "10.0.0.01", "10.01.0.1", "1:2:3::4:5::6:7:8", "algo-1"]) {
    equal(isIpAddress(name), false, name);
  }
});

Deno.test("isIpv4() says what the dotted-quad pattern it replaced says, on edge cases and 20,000 generated texts", () => {
  // The pattern types.ts used before, kept here as the reference.
  const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
  const edges = [
    "",
    ".",
    "0.0.0.0",
    "255.255.255.255",
    "256.1.1.1",
    "1.2.3",
    "1.2.3.4.",
    ".1.2.3.4",
    "1..2.3",
    "01.2.3.4",
    "1.2.3.04",
    "1.2.3.0",
    "1.2.3.00",
    "1.2.3.4.5",
    "1000.1.1.1",
    "249.250.199.100",
    "1.2.3.4\n",
    " 1.2.3.4",
    "1.2.3.a",
    "1.2.3.-1",
    "1.2.3.４",
  ];
  let seed = 11;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed >>> 16) % n;
  };
  // Three to five parts of up to three characters, mostly digits, 2s and 5s for the edges of 255.
  const part = () => {
    let p = "";
    for (let n = next(4); n > 0; n--) p += "012345678925255x"[next(16)];
    return p;
  };
  const generated = Array.from(
    { length: 20_000 },
    () => Array.from({ length: 3 + next(3) }, part).join("."),
  );
  let valid = 0;
  for (const text of [...edges, ...generated]) {
    equal(isIpv4(text), IPV4.test(text), JSON.stringify(text));
    if (IPV4.test(text)) valid++;
  }
  equal(valid > 200, true, `only ${valid} valid addresses among the texts`);
});

Deno.test("urlHost() brackets an IPv6 address once, and leaves names and IPv4 as they are", () => {
  deepEqual(
    ["fd00::1", "[fd00::1]", "10.0.0.1", "api.svc"].map(urlHost),
    ["[fd00::1]", "[fd00::1]", "10.0.0.1", "api.svc"],
  );
});

Deno.test("TF_CONFIG: a sparse job is a list, an object of task indexes (at most 9 digits) or null", () => {
  const sparse = (worker: unknown) =>
    parseJson(
      JSON.stringify({ sparseCluster: { worker }, task: { type: "worker", index: 0 } }),
      TF_CONFIG,
    );
  ok(sparse({ "0": "w-0:2222" }).ok);
  const big = sparse({ "1234567890": "w-0:2222" });
  ok(!big.ok && big.problem.includes("expected a task index as key"), JSON.stringify(big));
  const num = sparse(5);
  ok(
    !num.ok && num.problem.includes("expected an array, an object of task indexes or null"),
    JSON.stringify(num),
  );
});

Deno.test("portEnv() and positiveIntEnv() take their bounds and only digits; an empty JSON variable is unset", () => {
  const world = (env: Record<string, string>) => new World(snap({ env }));
  equal(portEnv(world({ P: "65535" }), "P"), 65535);
  ok(caught(() => portEnv(world({ P: "65536" }), "P")) instanceof InputError);
  for (const bad of ["8x", "0"]) {
    ok(caught(() => positiveIntEnv(world({ N: bad }), "N")) instanceof InputError, bad);
  }
  // Empty is not given (the fill rule): nothing to parse.
  equal(jsonEnv(world({ TF_CONFIG: "" }), "TF_CONFIG", TF_CONFIG), undefined);
  equal(pyJsonEnv(world({ ML_HPS: "" }), "ML_HPS"), undefined);
});

Deno.test("intEnv() refuses a count past 2^53 with exit 78: it would be passed on changed or as 1e+26", () => {
  const counts: [string, string][] = [
    ["9007199254740993", "9007199254740992"],
    ["1" + "0".repeat(26), "1e+26"],
  ];
  for (const [count, passed] of counts) {
    const e = caught(() =>
      planFixture("aws-batch-training/multi-node-main", withEnv({ AWS_BATCH_JOB_NUM_NODES: count }))
    );
    ok(e instanceof InputError, `${count} was planned (passed on as ${passed}): ${String(e)}`);
    equal(
      (e as InputError).message,
      `Variable AWS_BATCH_JOB_NUM_NODES "${count}": expected a non-negative integer of at most 9007199254740991`,
    );
  }
  equal(positiveIntEnv(new World(snap({ env: { N: "9007199254740991" } })), "N"), 9007199254740991);
});

Deno.test("plan() refuses a resourceconfig.json host listed twice: two nodes would share a rank and one rank have none", () => {
  const rc = "/opt/ml/input/config/resourceconfig.json";
  const e = caught(() =>
    planFixture(
      "sagemaker-training/multi-host",
      withFiles({
        [rc]: JSON.stringify({
          current_host: "algo-2",
          hosts: ["algo-1", "algo-2", "algo-2", "algo-4"],
          network_interface_name: "eth0",
        }),
      }),
    )
  );
  ok(e instanceof InputError, `planned with two rank-1 nodes and no rank 2: ${String(e)}`);
  equal(
    (e as InputError).message,
    `File ${rc}: /hosts/2 "algo-2": expected each host once (it is /hosts/1 too)`,
  );
});
