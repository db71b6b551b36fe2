/**
 * Proxies must not capture the metadata endpoints or in-cluster traffic
 * (design section 6 `NO_PROXY`/`no_proxy`, append): when a proxy is configured, the
 * instance metadata (169.254.169.254) and container credentials (169.254.170.2)
 * addresses, the Kubernetes API host and the cluster DNS suffixes are added,
 * and both spellings end up equal. A `*` (no proxy for anything) is left alone
 * and given to the other spelling, unless the image config gives that one: its
 * list gets the endpoints, with a warning that the spellings differ.
 *
 * @module
 */

import { listItems } from "../world.ts";
import { isIpAddress, urlHost } from "./_files.ts";
import {
  type Adapter,
  append,
  configGives,
  configSets,
  type Fragment,
  givenEnv,
  type PlanInput,
  set,
} from "./_adapter.ts";

const PROXIES = ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"];

/** The network adapter. */
export const network: Adapter = {
  name: "network",
  plan(input) {
    // A proxy the image config gives counts as the user's: the command runs behind it.
    return PROXIES.some((p) => givenEnv(input, p) !== undefined) ? noProxyPlan(input) : {};
  },
};

/**
 * The Kubernetes API host as NO_PROXY items. An IPv6 address (an IPv6 cluster's
 * `KUBERNETES_SERVICE_HOST`) goes in both forms, as readers differ: curl parses each
 * item as an address and matches `fd00::1` only (Go's proxy rules take that form too),
 * while Python's urllib compares the host as the URL writes it and matches `[fd00::1]`
 * only. Each passes over the form it does not read.
 */
function apiHostItems(host: string): string[] {
  return isIpAddress(host) && host.includes(":") ? [host, urlHost(host)] : [host];
}

/**
 * NO_PROXY and no_proxy with the endpoints that must not go through the proxy.
 * Its own function: V8 compiles a function whole on its first call, and most
 * starts have no proxy.
 */
function noProxyPlan(input: PlanInput): Fragment {
  const { world } = input;
  // Sets, and each spelling's list read once: a NO_PROXY of 8,000 addresses took 10 s to plan
  // when each item was looked for in the list so far, and the list read again for each item.
  const seen = new Set<string>();
  const add = (list: readonly string[]) => {
    for (const it of list) if (it !== "") seen.add(it);
  };
  const lists = new Map<string, string[]>();
  const listOf = (name: string) => {
    let list = lists.get(name);
    if (list === undefined) lists.set(name, list = listItems(givenEnv(input, name)));
    return list;
  };
  const fromConfig = (name: string) => configGives(input, name);
  // Never through the proxy: the metadata and credentials endpoints and in-cluster traffic.
  const bypass = [
    "169.254.169.254",
    "169.254.170.2",
    ...apiHostItems(world.env("KUBERNETES_SERVICE_HOST") ?? ""),
    ".svc",
    ".cluster.local",
  ].filter((it) => it !== "");
  // `*` bypasses the proxy for every host, but only as the whole value (curl, Python's
  // urllib): nothing is added to it, and the other spelling, which tools may read first,
  // becomes `*` too (both spellings end up equal). A spelling the image config gives is
  // its author's list, which a `*` beside it would conflict with: it gets the endpoints
  // appended, and a warning says that the spellings differ.
  const all = (name: string) => givenEnv(input, name)?.trim() === "*";
  if (all("NO_PROXY") || all("no_proxy")) {
    const other = (n: string) => n === "NO_PROXY" ? "no_proxy" : "NO_PROXY";
    // The config's value is the one the variable will hold (a fill under the user's is none).
    const configured = (n: string) =>
      configSets(input, n) || (fromConfig(n) && world.envValue(n) === undefined);
    const own = ["NO_PROXY", "no_proxy"].filter((n) => !all(n));
    return {
      env: own.map((n) => configured(n) ? append(n, bypass) : set(n, "*")),
      warnings: own.filter(configured).map((n) =>
        `${other(n)} is "*" (no proxy for any host), but the image config gives ${n} ${
          JSON.stringify(givenEnv(input, n) ?? "")
        }: ${n} lists the hosts it bypasses, so the two spellings differ`
      ),
    };
  }
  // The union starts with the spelling the config gives, which is appended to (below):
  // its items come first there, so both spellings end in the same order.
  const spellings = fromConfig("no_proxy") && !fromConfig("NO_PROXY")
    ? ["no_proxy", "NO_PROXY"]
    : ["NO_PROXY", "no_proxy"];
  for (const n of spellings) add(listOf(n));
  add(bypass);
  // Appending to both and taking their union keeps every item either spelling had. A
  // spelling that already has every item is left as written (spaces, a trailing comma).
  const items = [...seen];
  // Each spelling asked once: whether it already has every item.
  const completes = new Map(["NO_PROXY", "no_proxy"].map((name) => {
    const has = new Set(listOf(name));
    return [name, items.every((it) => has.has(it))];
  }));
  const complete = (name: string) => completes.get(name)!;
  // Its items are the union, in its order: the other spelling takes that order, so that
  // both end up equal (design section 6) rather than the same items in another order.
  const kept = ["NO_PROXY", "no_proxy"].find(complete);
  const union = kept === undefined ? items : [...new Set(listOf(kept))];
  const value = union.join(",");
  // A spelling the image config sets or fills is appended to, after the config's value
  // (the plan's merge puts it first), rather than set beside it, which would conflict.
  return {
    env: ["NO_PROXY", "no_proxy"].filter((n) => !complete(n)).map((n) =>
      fromConfig(n) ? append(n, union) : set(n, value)
    ),
  };
}
