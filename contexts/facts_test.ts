import { deepEqual, equal } from "@std/assert";
import { snap } from "../tests/helpers.ts";
import { World } from "../world.ts";
import { computeFacts, countCpuList } from "./facts.ts";

const facts = (fields: Parameters<typeof snap>[0], platform: "local" | "kubernetes" = "local") =>
  computeFacts(new World(snap(fields)), platform);

Deno.test("computeFacts() reads the cgroup v2 quota, memory and cpuset", () => {
  const f = facts({
    files: {
      "/sys/fs/cgroup/cpu.max": "150000 100000\n",
      "/sys/fs/cgroup/memory.max": "536870912\n",
      "/sys/fs/cgroup/cpuset.cpus.effective": "0-1\n",
      "/sys/devices/system/cpu/online": "0-7\n",
    },
  });
  deepEqual([f.cpus, f.memoryBytes, f.onlineCpus, f.cgroup], [1.5, 536870912, 2, "v2"]);
});

Deno.test("computeFacts() ignores a third cpu.max field and treats max as no quota", () => {
  equal(facts({ files: { "/sys/fs/cgroup/cpu.max": "200000 100000 5000\n" } }).cpus, 2);
  const f = facts({
    files: { "/sys/fs/cgroup/cpu.max": "max 100000\n", "/sys/fs/cgroup/memory.max": "max\n" },
  });
  deepEqual([f.cpus, f.memoryBytes], [null, null]);
});

Deno.test("computeFacts() reads cgroup v1 quota/period and the huge unlimited memory value", () => {
  const f = facts({
    files: {
      "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "50000\n",
      "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
      "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
    },
  });
  deepEqual([f.cpus, f.memoryBytes, f.cgroup], [0.5, null, "v1"]);
  equal(
    facts({
      files: {
        "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n",
        "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
      },
    }).cpus,
    null,
  );
});

Deno.test("computeFacts() counts online CPUs and only lowers them by a smaller cpuset", () => {
  equal(facts({ files: { "/sys/devices/system/cpu/online": "0-3,8,10-11\n" } }).onlineCpus, 7);
  equal(
    facts({
      files: {
        "/sys/devices/system/cpu/online": "0-1\n",
        "/sys/fs/cgroup/cpuset.cpus.effective": "0-7\n",
      },
    }).onlineCpus,
    2,
  );
  equal(countCpuList("bogus"), null);
});

Deno.test("computeFacts() counts GPU device nodes, else driver entries, never NVIDIA_VISIBLE_DEVICES", () => {
  equal(
    facts({
      files: {
        "/dev/nvidia0": "",
        "/dev/nvidia1": "",
        "/dev/nvidiactl": "",
        "/dev/nvidia-uvm": "",
      },
    }).gpus,
    2,
  );
  equal(
    facts({
      dirs: [
        "/proc/driver/nvidia/gpus/0000:01:00.0",
        "/proc/driver/nvidia/gpus/0000:02:00.0",
        "/proc/driver/nvidia/gpus/0000:03:00.0",
      ],
    }).gpus,
    3,
  );
  equal(facts({ env: { NVIDIA_VISIBLE_DEVICES: "all" } }).gpus, 0);
});

Deno.test("computeFacts() names a known init and the container engine", () => {
  const f = facts({ files: { "/proc/1/comm": "tini\n", "/.dockerenv": "" }, pid: 7 });
  deepEqual([f.pid1, f.init, f.container], [false, "tini", "docker"]);
  equal(facts({ files: { "/proc/1/comm": "bash\n" } }).init, null);
  equal(facts({ env: { container: "podman" } }).container, "podman");
  equal(facts({ files: { "/run/.containerenv": "" } }).container, "podman");
  equal(facts({}, "kubernetes").container, "kubernetes");
  equal(facts({ pid: 1 }).pid1, true);
});

Deno.test("computeFacts() recognises OpenShift by service-ca.crt or an anonymous high uid in group 0", () => {
  equal(
    facts({ files: { "/var/run/secrets/kubernetes.io/serviceaccount/service-ca.crt": "" } })
      .openshift,
    true,
  );
  equal(facts({ uid: 1000650000, gid: 0 }).openshift, true);
  equal(
    facts({ uid: 1000650000, gid: 0, files: { "/etc/passwd": "x:x:1000650000:0::/:/bin/sh\n" } })
      .openshift,
    false,
  );
  equal(facts({ uid: 1000, gid: 0 }).openshift, false);
});

Deno.test("computeFacts() names a present but malformed or unreadable fact file, and goes on", () => {
  const f = facts({
    files: {
      "/sys/fs/cgroup/cpu.max": "lots\n",
      "/sys/fs/cgroup/memory.max": "536870912\n",
      "/sys/devices/system/cpu/online": "0-3\n",
    },
    unreadable: { "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "permission denied" },
  });
  deepEqual([f.cpus, f.memoryBytes, f.onlineCpus], [null, 536870912, 4]);
  deepEqual(f.problems, [
    '/sys/fs/cgroup/cpu.max: expected "max PERIOD" or "QUOTA PERIOD", got "lots"',
    "/sys/fs/cgroup/cpu/cpu.cfs_quota_us: permission denied",
  ]);
  const v1 = facts({
    files: {
      "/sys/fs/cgroup/memory/memory.limit_in_bytes": "unlimited\n",
      "/sys/fs/cgroup/cpuset/cpuset.effective_cpus": "0-a\n",
    },
  });
  deepEqual(v1.problems, [
    '/sys/fs/cgroup/memory/memory.limit_in_bytes: expected a byte count, got "unlimited"',
    '/sys/fs/cgroup/cpuset/cpuset.effective_cpus: expected a CPU list like "0-3,8", got "0-a"',
  ]);
  equal("problems" in facts({ files: { "/sys/fs/cgroup/cpu.max": "max 100000\n" } }), false);
  // Whatever the reader takes is no problem: a tab between the fields, say.
  const tab = facts({ files: { "/sys/fs/cgroup/cpu.max": "200000\t100000\n" } });
  deepEqual([tab.cpus, "problems" in tab], [2, false]);
});
