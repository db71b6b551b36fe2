import { deepEqual, equal } from "@std/assert";
import { snap } from "../tests/helpers.ts";
import { World } from "../world.ts";
import { cgroupPaths, computeFacts, countCpuList } from "./facts.ts";

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
  // CRI-O (OpenShift) writes /run/.containerenv into every pod: the pod is no podman container.
  equal(facts({ files: { "/run/.containerenv": "" } }, "kubernetes").container, "kubernetes");
  // `podman run --init` runs its init (catatonit, or --init-path) as /run/podman-init.
  equal(facts({ files: { "/proc/1/comm": "podman-init\n" } }).init, "podman-init");
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

Deno.test("computeFacts() takes a memory limit as an exact unsigned byte count: a sign is a problem, 2^62 - 1 a limit", () => {
  for (const path of ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]) {
    const negative = facts({ files: { [path]: "-1\n" } });
    deepEqual([negative.memoryBytes, negative.problems], [null, [
      `${path}: expected ${
        path.endsWith("max") ? '"max" or a byte count' : "a byte count"
      }, got "-1"`,
    ]]);
  }
  // Compared exactly: as a float, 2^62 - 1 rounds up to 2^62 and read as no limit.
  const below = facts({ files: { "/sys/fs/cgroup/memory.max": "4611686018427387903\n" } });
  equal(below.memoryBytes, 2 ** 62);
  equal(
    facts({ files: { "/sys/fs/cgroup/memory.max": "4611686018427387904\n" } }).memoryBytes,
    null,
  );
  // A v1 CPU quota of -1 is no quota, and no problem.
  const v1 = facts({ files: { "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n" } });
  deepEqual([v1.cpus, "problems" in v1], [null, false]);
});

Deno.test("computeFacts() finds v2 limits in the process's own cgroup when the host's tree is mounted (privileged pod, --cgroupns=host)", () => {
  const pod = "/kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope";
  const f = facts({
    files: {
      "/proc/self/cgroup": `0::${pod}\n`,
      "/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory pids\n",
      "/sys/fs/cgroup/cpuset.cpus.effective": "0-15\n",
      [`/sys/fs/cgroup${pod}/cpu.max`]: "200000 100000\n",
      [`/sys/fs/cgroup${pod}/memory.max`]: "4294967296\n",
      [`/sys/fs/cgroup${pod}/cpuset.cpus.effective`]: "0-3\n",
      "/sys/devices/system/cpu/online": "0-15\n",
    },
  });
  deepEqual([f.cpus, f.memoryBytes, f.onlineCpus, f.cgroup], [2, 4294967296, 4, "v2"]);
});

Deno.test("computeFacts() takes the smallest limit of the cgroup's ancestors (a Slurm job's limits sit above the task)", () => {
  const job = "/system.slice/slurmstepd.scope/job_42";
  const f = facts({
    files: {
      "/proc/self/cgroup": `0::${job}/step_0/user/task_5\n`,
      "/sys/fs/cgroup/cpuset.cpus.effective": "0-63\n",
      [`${"/sys/fs/cgroup"}${job}/memory.max`]: "34359738368\n",
      [`${"/sys/fs/cgroup"}${job}/cpuset.cpus.effective`]: "0-7\n",
      [`${"/sys/fs/cgroup"}${job}/step_0/memory.max`]: "max\n",
      [`${"/sys/fs/cgroup"}${job}/step_0/cpu.max`]: "max 100000\n",
      [`${"/sys/fs/cgroup"}${job}/step_0/user/task_5/memory.max`]: "bogus\n",
      "/sys/devices/system/cpu/online": "0-63\n",
    },
  });
  deepEqual([f.cpus, f.memoryBytes, f.onlineCpus, f.cgroup], [null, 34359738368, 8, "v2"]);
  deepEqual(f.problems, [
    `/sys/fs/cgroup${job}/step_0/user/task_5/memory.max: expected "max" or a byte count, got "bogus"`,
  ]);
});

Deno.test("computeFacts() keeps a v1 container's bind-mounted limits when its host path is not below the mount", () => {
  const f = facts({
    files: {
      "/proc/self/cgroup": "5:cpu,cpuacct:/kubepods/pod1/abc\n4:memory:/kubepods/pod1/abc\n" +
        "3:cpuset:/kubepods/pod1/abc\n1:name=systemd:/kubepods/pod1/abc\n",
      "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "150000\n",
      "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
      "/sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824\n",
      "/sys/fs/cgroup/cpuset/cpuset.effective_cpus": "2-3\n",
      "/sys/devices/system/cpu/online": "0-7\n",
    },
  });
  deepEqual([f.cpus, f.memoryBytes, f.onlineCpus, f.cgroup], [1.5, 1073741824, 2, "v1"]);
});

Deno.test("cgroupPaths() declares each hierarchy's files in every folder of the own cgroup, and nothing for a namespaced root or a path with ..", () => {
  const world = (text: string) => new World(snap({ files: { "/proc/self/cgroup": text } }));
  deepEqual(cgroupPaths(world("0::/\n")), []);
  deepEqual(cgroupPaths(world("0::/a/../b\n")), []);
  deepEqual(cgroupPaths(world("0::/a/./b\n")), []);
  deepEqual(cgroupPaths(world("0::/a//b\n")), []);
  deepEqual(cgroupPaths(world("0::/a/b\n")).map((d) => d.path), [
    "/sys/fs/cgroup/a/b/cpu.max",
    "/sys/fs/cgroup/a/b/memory.max",
    "/sys/fs/cgroup/a/b/cpuset.cpus.effective",
    "/sys/fs/cgroup/a/cpu.max",
    "/sys/fs/cgroup/a/memory.max",
    "/sys/fs/cgroup/a/cpuset.cpus.effective",
  ]);
  deepEqual(cgroupPaths(world("7:memory:/slurm/job_1\n")).map((d) => d.path), [
    "/sys/fs/cgroup/memory/slurm/job_1/memory.limit_in_bytes",
    "/sys/fs/cgroup/memory/slurm/memory.limit_in_bytes",
  ]);
});

Deno.test("computeFacts() counts a cpuset when the online CPU list is missing", () => {
  equal(facts({ files: { "/sys/fs/cgroup/cpuset.cpus.effective": "0-3\n" } }).onlineCpus, 4);
  equal(facts({ files: {} }).onlineCpus, 1);
});

Deno.test("computeFacts() names each init the design lists", () => {
  for (const init of ["tini", "docker-init", "dumb-init", "catatonit", "s6-svscan"]) {
    equal(facts({ files: { "/proc/1/comm": `${init}\n` } }).init, init);
  }
});

Deno.test("computeFacts() takes podman only from the container variable's value podman, not from any engine's", () => {
  equal(facts({ env: { container: "oci" } }).container, null);
  equal(facts({ env: { container: "lxc" } }).container, null);
});

Deno.test("computeFacts() reads OpenShift from a uid of 1000000000 or more, only in group 0", () => {
  equal(facts({ uid: 1_000_000_000, gid: 0 }).openshift, true);
  equal(facts({ uid: 999_999_999, gid: 0 }).openshift, false);
  equal(facts({ uid: 1000650000, gid: 1000650000 }).openshift, false);
});

Deno.test("computeFacts() finds a v2 limit in its own cgroup whose path holds a ':'", () => {
  const own = "/system.slice/app@1:2.service";
  const f = facts({
    files: {
      "/proc/self/cgroup": `0::${own}\n`,
      [`/sys/fs/cgroup${own}/cpu.max`]: "300000 100000\n",
    },
  });
  equal(f.cpus, 3);
});

Deno.test("computeFacts() keeps each v1 controller's own folder: cpuset is not cpu", () => {
  const f = facts({
    files: {
      "/proc/self/cgroup": "4:cpu,cpuacct:/jobs/a\n3:cpuset:/sets/b\n",
      "/sys/fs/cgroup/cpu/jobs/a/cpu.cfs_quota_us": "50000\n",
      "/sys/fs/cgroup/cpu/jobs/a/cpu.cfs_period_us": "100000\n",
      "/sys/fs/cgroup/cpuset/sets/b/cpuset.effective_cpus": "0-2\n",
      "/sys/devices/system/cpu/online": "0-7\n",
    },
  });
  deepEqual([f.cpus, f.onlineCpus], [0.5, 3]);
});

Deno.test("computeFacts() takes an empty cpuset as none set, and no problem", () => {
  const f = facts({
    files: {
      "/sys/fs/cgroup/cpuset.cpus.effective": "\n",
      "/sys/devices/system/cpu/online": "0-3\n",
    },
  });
  deepEqual([f.onlineCpus, "problems" in f], [4, false]);
});

Deno.test("countCpuList() counts a CPU named twice once, in any order", () => {
  equal(countCpuList("0-3,2-5"), 6);
  equal(countCpuList("5,0-5"), 6);
  equal(countCpuList("0,0,1"), 2);
  equal(countCpuList("8-11,0-3,2"), 8);
  equal(countCpuList("0-3,8,10-11"), 7);
});

Deno.test("countCpuList() refuses a range that runs backwards", () => {
  equal(countCpuList("3-1"), null);
  const f = facts({ files: { "/sys/devices/system/cpu/online": "3-1\n" } });
  deepEqual([f.onlineCpus, f.problems], [1, [
    '/sys/devices/system/cpu/online: expected a CPU list like "0-3,8", got "3-1"',
  ]]);
});

Deno.test("computeFacts() takes a quota or period of 0 as no quota, on cgroup v1 and v2", () => {
  for (const text of ["0 100000\n", "100000 0\n"]) {
    equal(facts({ files: { "/sys/fs/cgroup/cpu.max": text } }).cpus, null, text);
  }
  for (const [quota, period] of [["0", "100000"], ["100000", "0"]]) {
    const f = facts({
      files: {
        "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": `${quota}\n`,
        "/sys/fs/cgroup/cpu/cpu.cfs_period_us": `${period}\n`,
      },
    });
    equal(f.cpus, null, `${quota}/${period}`);
  }
});

Deno.test("computeFacts() reads v2 limits before v1 ones when both are present", () => {
  const f = facts({
    files: {
      "/sys/fs/cgroup/cpu.max": "200000 100000\n",
      "/sys/fs/cgroup/memory.max": "1073741824\n",
      "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "50000\n",
      "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
      "/sys/fs/cgroup/memory/memory.limit_in_bytes": "536870912\n",
    },
  });
  deepEqual([f.cpus, f.memoryBytes, f.cgroup], [2, 1073741824, "v2"]);
});

Deno.test("computeFacts() names the cgroup version from any limit file present, a v1 quota alone or memory alone", () => {
  equal(facts({ files: { "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n" } }).cgroup, "v1");
  equal(facts({ files: { "/sys/fs/cgroup/memory.max": "max\n" } }).cgroup, "v2");
  equal(
    facts({ files: { "/sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824\n" } }).cgroup,
    "v1",
  );
  equal(facts({}).cgroup, null);
});

Deno.test("computeFacts() counts the GPU device nodes when there are any, whatever the driver lists", () => {
  const f = facts({
    files: { "/dev/nvidia1": "", "/dev/nvidiactl": "" },
    dirs: [
      "/proc/driver/nvidia/gpus/0000:01:00.0",
      "/proc/driver/nvidia/gpus/0000:02:00.0",
      "/proc/driver/nvidia/gpus/0000:03:00.0",
    ],
  });
  equal(f.gpus, 1);
});

Deno.test("computeFacts() names docker from /.dockerenv on any platform, before kubernetes", () => {
  equal(facts({ files: { "/.dockerenv": "" } }, "kubernetes").container, "docker");
});

Deno.test("computeFacts() takes a number past 2^53 in a CPU file as a problem, not a count of 1e+23 passed on", () => {
  const big = "99999999999999999999999";
  const f = facts({
    files: {
      "/sys/fs/cgroup/cpu.max": `${big} 1\n`,
      "/sys/devices/system/cpu/online": `0-${big}\n`,
    },
  });
  deepEqual([f.cpus, f.onlineCpus], [null, 1]);
  deepEqual(f.problems, [
    `/sys/fs/cgroup/cpu.max: expected "max PERIOD" or "QUOTA PERIOD", got "${big} 1"`,
    `/sys/devices/system/cpu/online: expected a CPU list like "0-3,8", got "0-${big}"`,
  ]);
  const v1 = facts({
    files: {
      "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": `${big}\n`,
      "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
    },
  });
  deepEqual([v1.cpus, v1.problems?.length], [null, 1]);
});
