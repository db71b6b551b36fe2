import { equal } from "@std/assert";
import { planFixture, withEnv } from "../tests/helpers.ts";

Deno.test("serving: the KServe model name comes from a K_SERVICE of <isvc>-predictor-default too", () => {
  const p = planFixture(
    "kubernetes-serving/kserve-serverless",
    withEnv({ K_SERVICE: "sklearn-iris-predictor-default" }),
  );
  equal(p.env["ML_PREDICT_ROUTE"], "/v2/models/sklearn-iris/infer");
});

Deno.test("serving: serverless KServe runs on Knative, whose PORT is the serving port", () => {
  const p = planFixture("kubernetes-serving/kserve-serverless", withEnv({ PORT: "9000" }));
  equal(p.env["ML_PORT"], "9000");
});
