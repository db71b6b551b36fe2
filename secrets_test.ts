import { equal, ok } from "@std/assert";
import { ALWAYS_SECRET, isSecretName } from "./secrets.ts";

Deno.test("isSecretName() follows design §8 in any case and with - or . for _", () => {
  const cases: [string, boolean][] = [
    ["AWS_SECRET_ACCESS_KEY", true],
    ["db_password", true],
    ["Api-Key", true],
    ["api.key", true],
    ["GITHUB_TOKEN", true],
    ["ssh-private-key", true],
    ["MY_CREDENTIALS", true],
    ["hf_passwd", true],
    ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", false],
    ["AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS", false],
    ["TOKEN_FILE", false],
    ["secret-name", false],
    ["NSS_WRAPPER_PASSWD", false],
    ["nss-wrapper-passwd", false],
    ["KEYBOARD", false],
    ["monkey", false],
    ["SM_HP_LEARNING_RATE", false],
    ["", false],
    // Upper-casing "ſ" (U+017F) gives "S": the name is as secret as "secret".
    ["\u017fecret", true],
    ["caf\u00e9_token", true],
    ["caf\u00e9", false],
  ];
  for (const [name, want] of cases) equal(isSecretName(name), want, name);
});

Deno.test("isSecretName() finds every always-secret name in every spelling", () => {
  ok(ALWAYS_SECRET.size > 0);
  for (const name of ALWAYS_SECRET) {
    for (
      const spelling of [
        name,
        name.toLowerCase(),
        name.replaceAll("_", "-"),
        name.replaceAll("_", "."),
      ]
    ) {
      ok(isSecretName(spelling), spelling);
    }
  }
});
