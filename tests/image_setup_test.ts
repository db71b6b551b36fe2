/**
 * image/setup.sh in a container of the debootstrap base (no image build): the
 * folders it prepares are writable by the image's user, which a root start
 * switches to, and by OpenShift's random uids in group 0.
 */
import { equal } from "@std/assert";
import { ensureBase, PODMAN_FLAGS } from "./container/image.ts";
import { ROOT, runProcess } from "./helpers.ts";

Deno.test("image/setup.sh: the user ml and a random uid in group 0 write its folders; the runtime dir stays root's", async () => {
  const base = await ensureBase();
  const script = [
    "/setup.sh /opt/program /models /outputs >/dev/null",
    "stat -c '%n %U:%G' /run/chameleon /home/ml",
    "for d in /opt/program /models /outputs; do",
    "  for who in '--reuid=1000 --regid=100 --init-groups' '--reuid=1000650000 --regid=0 --clear-groups'; do",
    '    if setpriv $who touch "$d/probe" 2>/dev/null; then r=writes; else r=cannot; fi',
    '    echo "${who%% *} $r $d"; rm -f "$d/probe"',
    "  done",
    "done",
  ].join("\n");
  const r = await runProcess([
    "podman",
    "run",
    "--rm",
    ...PODMAN_FLAGS,
    "--network",
    "none",
    "-v",
    `${ROOT}/image/setup.sh:/setup.sh:ro`,
    `${base.image}:${base.tag}`,
    "sh",
    "-c",
    script,
  ]);
  equal(r.code, 0, r.stderr);
  equal(
    r.stdout,
    [
      // A root start refuses a runtime dir of another uid: /run/chameleon stays root's.
      "/run/chameleon root:root",
      "/home/ml ml:root",
      ...["/opt/program", "/models", "/outputs"].flatMap((d) => [
        `--reuid=1000 writes ${d}`,
        `--reuid=1000650000 writes ${d}`,
      ]),
      "",
    ].join("\n"),
  );
});
