import { deepEqual, equal } from "@std/assert";
import { toImageConfig } from "../config.ts";
import { planFixture, withEnv } from "../tests/helpers.ts";
import type { Plan } from "../types.ts";

const spellings = (p: Plan) => [p.env["NO_PROXY"], p.env["no_proxy"]];

Deno.test("network: a lower-case https_proxy or http_proxy alone is a proxy too", () => {
  const want = "169.254.169.254,169.254.170.2,.svc,.cluster.local";
  for (const name of ["https_proxy", "http_proxy"]) {
    const p = planFixture("local-unknown/docker", withEnv({ [name]: "http://proxy:3128" }));
    deepEqual(spellings(p), [want, want], name);
  }
});

Deno.test("network: off Kubernetes no empty item stands for the API server", () => {
  const p = planFixture("local-unknown/docker", withEnv({ HTTP_PROXY: "http://proxy:3128" }));
  const want = "169.254.169.254,169.254.170.2,.svc,.cluster.local";
  deepEqual(spellings(p), [want, want]);
});

Deno.test("network: a `*` with blanks around it is still no proxy for anything", () => {
  const p = planFixture("local-unknown/docker", withEnv({ HTTP_PROXY: "p", NO_PROXY: " * " }));
  equal("NO_PROXY" in p.env, false, "left as written");
  equal(p.env["no_proxy"], "*");
});

Deno.test("network: a user's `*` beside a spelling the image config gives is no conflict", () => {
  for (const kind of ["set", "fill"] as const) {
    const config = toImageConfig({ env: { [kind]: { no_proxy: "localhost" } } });
    const p = planFixture(
      "kubernetes-unknown/pod",
      withEnv({ HTTP_PROXY: "p", NO_PROXY: "*" }),
      config,
    );
    equal("NO_PROXY" in p.env, false, kind);
  }
});

Deno.test("network: beside a user's `*`, the spelling the image config gives keeps the endpoints out of the proxy, with a warning", () => {
  for (const kind of ["set", "fill"] as const) {
    const config = toImageConfig({ env: { [kind]: { no_proxy: "localhost" } } });
    const p = planFixture(
      "kubernetes-unknown/pod",
      withEnv({ HTTP_PROXY: "p", NO_PROXY: "*", KUBERNETES_SERVICE_HOST: "10.0.0.1" }),
      config,
    );
    equal(
      p.env["no_proxy"],
      "localhost,169.254.169.254,169.254.170.2,10.0.0.1,.svc,.cluster.local",
      kind,
    );
    equal(p.warnings.filter((w) => w.includes('NO_PROXY is "*"')).length, 1, kind);
  }
});

Deno.test("network: beside a user's `*`, their own other spelling becomes `*` though the image config fills it", () => {
  const config = toImageConfig({ env: { fill: { no_proxy: "localhost" } } });
  const p = planFixture(
    "kubernetes-unknown/pod",
    withEnv({ HTTP_PROXY: "p", NO_PROXY: "*", no_proxy: "example.com" }),
    config,
  );
  deepEqual(spellings(p), [undefined, "*"]);
  equal(p.warnings.some((w) => w.includes('NO_PROXY is "*"')), false);
});

Deno.test("network: a proxy given through an opted-in secret file keeps the endpoints out of it too", () => {
  const p = planFixture(
    "local-unknown/docker",
    (s) => ({
      ...s,
      env: {
        ...s.env,
        CHAMELEON_SECRET_FILES: "HTTPS_PROXY",
        HTTPS_PROXY_FILE: "/run/secrets/proxy",
      },
      files: { ...s.files, "/run/secrets/proxy": "http://user:pw@proxy:3128\n" },
    }),
  );
  equal(p.env["HTTPS_PROXY"], "http://user:pw@proxy:3128");
  const want = "169.254.169.254,169.254.170.2,.svc,.cluster.local";
  deepEqual(spellings(p), [want, want]);
  // Not opted in: the file is not read, and HTTPS_PROXY_FILE is no proxy.
  const off = planFixture("local-unknown/docker", (s) => ({
    ...s,
    env: { ...s.env, HTTPS_PROXY_FILE: "/run/secrets/proxy" },
    files: { ...s.files, "/run/secrets/proxy": "http://proxy:3128\n" },
  }));
  deepEqual(spellings(off), [undefined, undefined]);
});

Deno.test('network: a proxy bypass of "*" in one spelling and a list the config gives in the other: warned, with the config\'s list', () => {
  const config = toImageConfig({ env: { fill: { no_proxy: "a.example" } } });
  const p = planFixture(
    "local-unknown/docker",
    withEnv({ HTTPS_PROXY: "http://proxy:3128", NO_PROXY: "*" }),
    config,
  );
  deepEqual(p.warnings, [
    'NO_PROXY is "*" (no proxy for any host), but the image config gives no_proxy "a.example": no_proxy lists the hosts it bypasses, so the two spellings differ',
  ]);
  // Off Kubernetes, no empty item stands for the API server there either.
  deepEqual(spellings(p), [
    undefined,
    "a.example,169.254.169.254,169.254.170.2,.svc,.cluster.local",
  ]);
});

Deno.test("network: beside a user's `*`, a spelling the image config sets gets the endpoints though the user gives it too", () => {
  // The config's set wins over the user's example.com, so that list is the config's: no `*` there.
  const config = toImageConfig({ env: { set: { no_proxy: "localhost" } } });
  const p = planFixture(
    "kubernetes-unknown/pod",
    withEnv({
      HTTP_PROXY: "p",
      NO_PROXY: "*",
      no_proxy: "example.com",
      KUBERNETES_SERVICE_HOST: "10.0.0.1",
    }),
    config,
  );
  deepEqual(spellings(p), [
    undefined,
    "localhost,169.254.169.254,169.254.170.2,10.0.0.1,.svc,.cluster.local",
  ]);
  equal(p.warnings.filter((w) => w.includes('NO_PROXY is "*"')).length, 1);
});

Deno.test("network: an IPv6 API host is bypassed in both forms: bare for curl and Go, in brackets for Python's urllib", () => {
  // urllib compares the host of a URL as the URL writes it ("[fd00::1]"); curl parses each
  // item as an address and skips one in brackets.
  const p = planFixture(
    "kubernetes-unknown/pod",
    withEnv({ HTTPS_PROXY: "http://proxy:3128", KUBERNETES_SERVICE_HOST: "fd00::1" }),
  );
  const want = "169.254.169.254,169.254.170.2,fd00::1,[fd00::1],.svc,.cluster.local";
  deepEqual(spellings(p), [want, want]);
  // An IPv4 address or a name is written once.
  const v4 = planFixture(
    "kubernetes-unknown/pod",
    withEnv({ HTTPS_PROXY: "http://proxy:3128", KUBERNETES_SERVICE_HOST: "10.96.0.1" }),
  );
  equal(v4.env["NO_PROXY"], "169.254.169.254,169.254.170.2,10.96.0.1,.svc,.cluster.local");
});

Deno.test("network: beside a spelling that already has every item, the other gets them in its order (both spellings equal)", () => {
  const full = "a.example,b.example,169.254.169.254,169.254.170.2,.svc,.cluster.local";
  for (const [short, long] of [["NO_PROXY", "no_proxy"], ["no_proxy", "NO_PROXY"]] as const) {
    const p = planFixture(
      "local-unknown/docker",
      withEnv({ HTTP_PROXY: "p", [short]: "b.example", [long]: full }),
    );
    equal(long in p.env, false, `${long} is left as written`);
    equal(p.env[short], full, short);
  }
});

Deno.test("network: NO_PROXY lists of 8,000 addresses, in the user's spellings or the image config's, end up equal with the endpoints", () => {
  const ips = Array.from({ length: 8000 }, (_, i) => `10.${i >> 8}.${i & 255}.1`);
  const endpoints = ["169.254.169.254", "169.254.170.2", "10.96.0.1", ".svc", ".cluster.local"];
  // Both spellings given, one the other's reverse with a few repeated: NO_PROXY's order first.
  const user = planFixture(
    "kubernetes-unknown/pod",
    withEnv({
      HTTP_PROXY: "http://proxy:3128",
      NO_PROXY: ips.slice(0, 6000).join(","),
      no_proxy: [...ips.slice(5000).reverse(), ips[0]!].join(","),
    }),
  );
  const union = [...ips.slice(0, 6000), ...ips.slice(6000).reverse(), ...endpoints].join(",");
  deepEqual(spellings(user), [union, union]);

  // The config fills NO_PROXY under none of the user's: its list first, then what it lacks.
  const config = toImageConfig({ env: { fill: { NO_PROXY: ips.slice(0, 4000).join(",") } } });
  const filled = planFixture(
    "kubernetes-unknown/pod",
    withEnv({ HTTP_PROXY: "http://proxy:3128", no_proxy: ips.slice(2000).join(",") }),
    config,
  );
  const both = [...ips, ...endpoints].join(",");
  deepEqual(spellings(filled), [both, both]);
});
