import { equal, ok } from "@std/assert";
import { toImageConfig } from "../config.ts";
import { validateConfig } from "../config_schema.ts";
import { planOf, worldOf } from "../tests/helpers.ts";

/** The plan of a plain Docker container under an image config given as YAML. */
const planWith = (yaml: string) =>
  planOf(worldOf("local-unknown/docker"), toImageConfig(validateConfig("config.yaml", yaml)));

Deno.test("a config variable holding JSON is shown with its secret-named values replaced", () => {
  const p = planWith(
    `env:\n  set:\n    APP_CONFIG: '{"password": "cfg-json-canary", "user": "ml"}'\n` +
      `  fill:\n    PLAIN: '{"user": "ml"}'\n`,
  );
  equal(
    p.env["APP_CONFIG"],
    '{"password": "cfg-json-canary", "user": "ml"}',
    "the program gets it",
  );
  equal(p.envDisplay["APP_CONFIG"], '{"password":"<redacted>","user":"ml"}');
  equal(p.envDisplay["PLAIN"], '{"user": "ml"}', "JSON without a secret is shown as written");
  ok(p.secrets.includes("cfg-json-canary"), "logs scrub it too");
});

Deno.test("a secret-named config variable is shown redacted whole, JSON or not", () => {
  const p = planWith(
    `env:\n  set:\n    DB_PASSWORD: '{"user": "cfg-user-canary", "password": "cfg-pw-canary"}'\n` +
      `  fill:\n    API_TOKEN: 'cfg-token-canary'\n`,
  );
  equal(p.env["DB_PASSWORD"], '{"user": "cfg-user-canary", "password": "cfg-pw-canary"}');
  equal(p.envDisplay["DB_PASSWORD"], "<redacted>", "the name makes the whole value secret");
  equal(p.envDisplay["API_TOKEN"], "<redacted>");
  for (const v of ["cfg-user-canary", "cfg-pw-canary", "cfg-token-canary"]) {
    ok(p.secrets.some((s) => s.includes(v)), `logs scrub ${v}`);
  }
});
