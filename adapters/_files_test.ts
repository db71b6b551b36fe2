import { deepEqual, equal, match, ok } from "@std/assert";
import { InputError } from "../errors.ts";
import { parseJson } from "../shape.ts";
import { caught, planFixture, withFiles } from "../tests/helpers.ts";
import {
  hostPortOf,
  isSafeName,
  maybeHostPort,
  splitHyperparameters,
  TF_CONFIG,
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
