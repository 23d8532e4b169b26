import { describe, expect, test } from "bun:test";
import {
  type PlannedCgroup,
  planLinux,
  READY_ATTACH_SCRIPT,
} from "../../../src/sandbox/linux/linux-plan.ts";
import { READY_SCRIPT } from "../../../src/sandbox/ready-script.ts";
import { linuxCaps, missing, shimInput } from "./fixtures.ts";

const withUlimit = (overrides = {}) =>
  linuxCaps({ ulimit: { available: true, path: "/bin/sh", reason: "probed" }, ...overrides });

const noCgroup: PlannedCgroup = {
  version: null,
  memory: false,
  pids: false,
  procsFiles: [],
  memoryReason: "no cgroup hierarchy",
  pidsReason: "no cgroup hierarchy",
};
const v1: PlannedCgroup = {
  version: 1,
  memory: true,
  pids: true,
  procsFiles: ["/cg/memory/r/cgroup.procs", "/cg/pids/r/cgroup.procs"],
  memoryReason: "",
  pidsReason: "",
};

function plan(body: unknown, caps = linuxCaps(), cgroup = noCgroup) {
  const input = shimInput(body, caps);
  return planLinux({
    req: input.req,
    cwd: input.cwd,
    workspaceRoot: input.workspaceRoot,
    runTempDir: input.temp.root,
    caps,
    limits: input.limits,
    cgroup,
  });
}

describe("planLinux", () => {
  test("everything available: cgroup attach, bwrap with netns, prlimit, ready stage, command", () => {
    const p = plan(
      { cmd: ["pytest", "-q"], limits: { mem_bytes: 64 * 1024 * 1024, pids: 16, cpu_ms: 1500 } },
      linuxCaps(),
      v1,
    );
    expect(p.argv[0]).toBe("/usr/bin/bwrap");
    expect(p.argv).toContain("--unshare-net");
    expect(p.argv).toContain("--unshare-pid");
    expect(p.argv).toContain("--die-with-parent");
    expect(p.argv.join(" ")).toContain("--ro-bind / /");
    expect(p.argv.join(" ")).toContain(
      "--bind /ws /ws --bind /tmp/vltair-ab-1 /tmp/vltair-ab-1 " +
        "--bind /cg/memory/r/cgroup.procs /cg/memory/r/cgroup.procs " +
        "--bind /cg/pids/r/cgroup.procs /cg/pids/r/cgroup.procs --chdir /ws/sub --",
    );
    // bubblewrap's own reaper is PID 1: no init of ours (it would cost a perl per run).
    expect(p.argv).not.toContain("/usr/bin/perl");
    const prlimit = p.argv.indexOf("/usr/bin/prlimit");
    expect(p.argv.slice(prlimit + 1, prlimit + 4)).toEqual([
      "--cpu=2:3",
      "--fsize=1073741824",
      "--nofile=1024",
    ]);
    // The innermost stage joins the cgroups itself, then reports ready and execs the command.
    expect(p.argv.slice(-9)).toEqual([
      "/bin/sh",
      "-c",
      READY_ATTACH_SCRIPT,
      "vltair-exec",
      ...v1.procsFiles,
      "--",
      "pytest",
      "-q",
    ]);
    expect(p.enforced.memory).toMatchObject({
      requested: 64 * 1024 * 1024,
      applied: true,
      mechanism: "cgroup_v1",
    });
    expect(p.enforced.pids).toMatchObject({ requested: 16, applied: true, mechanism: "cgroup_v1" });
    expect(p.enforced.network).toMatchObject({
      requested: "deny",
      applied: true,
      mechanism: "bubblewrap_netns",
    });
    expect(p.enforced.filesystem).toMatchObject({ applied: true, mechanism: "bubblewrap" });
    expect(p.enforced.cpu).toMatchObject({
      requested: 1500,
      applied: true,
      mechanism: "rlimit_cpu",
    });
    expect(p.enforced.process_tree).toMatchObject({
      applied: true,
      mechanism: "process_group+pid_namespace+cgroup_v1",
    });
    expect(p.leaderIsWrapper).toBe(true);
  });
  test("network allow drops --unshare-net and says so", () => {
    const p = plan({ cmd: ["x"], network: "allow" });
    expect(p.argv).not.toContain("--unshare-net");
    expect(p.enforced.network).toMatchObject({
      requested: "allow",
      applied: true,
      mechanism: "none",
    });
  });
  test("bwrap absent: unshare gives PID+net namespaces, the init builds the read-only view", () => {
    const caps = linuxCaps({ bubblewrap: missing("bwrap not found on PATH") });
    const full = plan({ cmd: ["x"] }, caps);
    // First the tether: perl sets PR_SET_PDEATHSIG (prctl 157 on x64) and execs unshare, so a
    // SIGKILLed server takes the run with it.
    expect(full.argv.slice(0, 2)).toEqual(["/usr/bin/perl", "-e"]);
    expect(full.argv[2]).toContain("syscall($ARGV[0], 1, 9");
    expect(full.argv[3]).toBe("157");
    const p = { ...full, argv: full.argv.slice(4) };
    expect(p.argv[0]).toBe("/usr/bin/unshare");
    expect(p.argv.slice(1, 9)).toEqual([
      "--user",
      "--map-root-user",
      "--net",
      "--pid",
      "--fork",
      "--kill-child",
      "--mount-proc",
      "--",
    ]);
    expect(p.argv.slice(9, 11)).toEqual(["/usr/bin/perl", "-e"]);
    const ops = p.argv.slice(12, p.argv.indexOf("--", 12));
    expect(ops).toEqual([
      "S165,166,155,157",
      "P",
      "R/tmp/vltair-ab-1/root",
      "D",
      "T",
      "B/ws",
      "B/tmp/vltair-ab-1",
      "C/ws/sub",
    ]);
    expect(p.enforced.network.mechanism).toBe("unshare_netns");
    expect(p.enforced.filesystem).toMatchObject({ applied: true, mechanism: "unshare_mount" });
    expect(p.enforced.process_tree.mechanism).toBe("process_group+pid_namespace");
    expect(p.leaderIsWrapper).toBe(true);
  });
  test("bwrap absent and no mount stage: filesystem not applied, naming both reasons", () => {
    const caps = linuxCaps({
      bubblewrap: missing("bwrap not found on PATH"),
      mountStage: missing("mount stage probe failed: EPERM"),
    });
    const p = plan({ cmd: ["x"] }, caps);
    expect(p.enforced.filesystem).toEqual({
      requested: "workspace_rw",
      applied: false,
      mechanism: "none",
      reason:
        "bubblewrap unavailable: bwrap not found on PATH; unshare mount stage unavailable: mount stage probe failed: EPERM",
    });
    // The init still runs as PID 1, without mounts and without dropping capabilities.
    expect(p.argv).toContain("S165,166,155,157");
    expect(p.argv).not.toContain("P");
    expect(p.argv.some((a) => a.startsWith("R/"))).toBe(false);
  });
  test("no perl: unshare makes no PID namespace (the command would be its PID 1)", () => {
    const caps = linuxCaps({
      bubblewrap: missing("bwrap not found on PATH"),
      perl: missing("perl not found on PATH"),
      mountStage: missing("needs perl"),
    });
    const bare = plan({ cmd: ["x"] }, caps);
    expect(bare.argv.slice(0, 5)).toEqual([
      "/usr/bin/unshare",
      "--user",
      "--map-root-user",
      "--net",
      "--",
    ]);
    expect(bare.leaderIsWrapper).toBe(false);
    expect(bare.enforced.process_tree).toMatchObject({ applied: false });
    expect(bare.enforced.process_tree.reason).toContain("perl missing");
    // With a cgroup the tree is still found through cgroup.procs.
    const withCgroup = plan({ cmd: ["x"] }, caps, v1);
    expect(withCgroup.enforced.process_tree).toMatchObject({
      applied: true,
      mechanism: "process_group+cgroup_v1",
    });
  });
  test("as root bwrap drops every capability; unprivileged it needs not", () => {
    expect(plan({ cmd: ["x"] }).argv.join(" ")).toContain("--cap-drop ALL");
    expect(plan({ cmd: ["x"] }, linuxCaps({ uid: 1000 })).argv).not.toContain("--cap-drop");
  });
  test("no cgroup: memory falls back to RLIMIT_AS; as root pids are not applied (RLIMIT_NPROC ignores root)", () => {
    const p = plan({ cmd: ["x"], limits: { mem_bytes: 64 * 1024 * 1024 } });
    expect(p.enforced.memory.mechanism).toBe("rlimit_as");
    expect(p.argv).toContain(`--as=${64 * 1024 * 1024}`);
    expect(p.enforced.pids.applied).toBe(false);
    expect(p.enforced.pids.reason).toContain("RLIMIT_NPROC does not bind root");
    expect(p.enforced.process_tree.mechanism).toBe("process_group+pid_namespace");
  });
  test("as an ordinary user the pids limit falls back to RLIMIT_NPROC", () => {
    const p = plan({ cmd: ["x"], limits: { pids: 32 } }, linuxCaps({ uid: 1000 }));
    expect(p.enforced.pids).toMatchObject({ applied: true, mechanism: "rlimit_nproc" });
    expect(p.argv).toContain("--nproc=32");
  });
  test("nothing available: only the group; every limit says why not", () => {
    const caps = linuxCaps({
      bubblewrap: missing("bubblewrap disabled by configuration"),
      unshare: missing("unshare not found on PATH"),
      prlimit: missing("prlimit not found on PATH"),
    });
    const p = plan({ cmd: ["echo", "hi"], limits: { cpu_ms: 1000 } }, caps);
    expect(p.argv).toEqual(["/bin/sh", "-c", READY_SCRIPT, "vltair-exec", "echo", "hi"]);
    for (const key of [
      "memory",
      "network",
      "filesystem",
      "cpu",
      "file_size",
      "open_files",
      "process_tree",
    ] as const) {
      expect(p.enforced[key].applied).toBe(false);
      expect(p.enforced[key].reason.length).toBeGreaterThan(5);
    }
    expect(p.leaderIsWrapper).toBe(false);
    expect(p.enforced.timeout.applied).toBe(true);
  });
});

describe("planLinux: rlimits through the ready stage's ulimit", () => {
  test("no prlimit stage; the ready stage sets them before joining the cgroup", () => {
    const p = plan({ cmd: ["pytest"], limits: { cpu_ms: 1500 } }, withUlimit(), v1);
    expect(p.argv).not.toContain("/usr/bin/prlimit");
    const script = p.argv[p.argv.indexOf("-c") + 1] ?? "";
    expect(script).toBe(
      `ulimit -S -t 2 && ulimit -H -t 3 && ulimit -f 2097152 && ulimit -n 1024 || exit 125; ${READY_ATTACH_SCRIPT}`,
    );
    expect(p.mechanisms).toContain("sh_ulimit");
    expect(p.mechanisms).not.toContain("prlimit");
    expect(p.enforced.cpu).toMatchObject({ applied: true, mechanism: "rlimit_cpu" });
    expect(p.enforced.cpu.reason).toContain("sh ulimit");
    expect(p.enforced.open_files.reason).toContain("sh ulimit");
    expect(p.enforced.memory.reason).not.toContain("ulimit");
  });
  test("without a cgroup the address-space limit is ulimit -v in KiB, before the plain ready script", () => {
    const p = plan({ cmd: ["x"], limits: { mem_bytes: 64 * 1024 * 1024 } }, withUlimit());
    expect(p.enforced.memory).toMatchObject({ applied: true, mechanism: "rlimit_as" });
    expect(p.argv.slice(-3)).toEqual([
      `ulimit -v 65536 && ulimit -f 2097152 && ulimit -n 1024 || exit 125; ${READY_SCRIPT}`,
      "vltair-exec",
      "x",
    ]);
  });
  test("RLIMIT_NPROC (unprivileged, no pids cgroup) keeps every rlimit on prlimit", () => {
    const p = plan({ cmd: ["x"], limits: { pids: 32 } }, withUlimit({ uid: 1000 }));
    expect(p.argv).toContain("--nproc=32");
    expect(p.argv).toContain("--nofile=1024");
    expect(p.argv.join(" ")).not.toContain("ulimit");
    expect(p.enforced.open_files.reason).toContain("set by prlimit");
  });
  test("ulimit alone (no prlimit binary) still applies the rlimits", () => {
    const p = plan({ cmd: ["x"] }, withUlimit({ prlimit: missing("prlimit not found on PATH") }));
    expect(p.enforced.file_size.applied).toBe(true);
    expect(p.argv.join(" ")).toContain("ulimit -f 2097152");
  });
  test("neither prlimit nor ulimit: not applied, naming both", () => {
    const p = plan(
      { cmd: ["x"] },
      linuxCaps({
        prlimit: missing("prlimit disabled by configuration"),
        ulimit: missing("prlimit (rlimits) disabled by configuration"),
      }),
    );
    expect(p.enforced.open_files.applied).toBe(false);
    expect(p.enforced.open_files.reason).toContain("prlimit unavailable");
    expect(p.enforced.open_files.reason).toContain("sh ulimit unavailable");
  });
});

describe("planLinux with a network allowlist", () => {
  const allow = { cmd: ["npm", "ci"], network: { allow: ["registry.npmjs.org"] } };
  function proxied(caps = linuxCaps(), cgroup = noCgroup) {
    const input = shimInput(allow, caps);
    return planLinux({
      req: input.req,
      cwd: input.cwd,
      workspaceRoot: input.workspaceRoot,
      runTempDir: input.temp.root,
      caps,
      limits: input.limits,
      cgroup,
      proxySocket: `${input.temp.root}/proxy.sock`,
    });
  }
  /** Where the command starts in argv, and the bridge stage just before it. */
  const bridgeAt = (argv: string[]) => argv.indexOf("3128") - 3;

  test("bubblewrap: its own netns (and loopback), the bridge after the ready stage, then the command", () => {
    const p = proxied(linuxCaps(), v1);
    expect(p.argv).toContain("--unshare-net");
    const at = bridgeAt(p.argv);
    expect(p.argv.slice(at, at + 6)).toEqual([
      "/usr/bin/perl",
      "-e",
      expect.stringContaining("vltair-proxy-bridge"),
      "3128",
      "/tmp/vltair-ab-1",
      "--",
    ]);
    expect(p.argv.slice(at + 6)).toEqual(["npm", "ci"]);
    expect(p.argv.indexOf(READY_ATTACH_SCRIPT)).toBeLessThan(at);
    expect(p.mechanisms).toContain("proxy_bridge");
    expect(p.enforced.network).toMatchObject({
      requested: ["registry.npmjs.org"],
      applied: true,
      mechanism: "bubblewrap_netns+proxy",
    });
  });

  test("unshare: --net and the init brings the loopback up first", () => {
    const p = proxied(linuxCaps({ bubblewrap: missing("disabled") }));
    expect(p.argv).toContain("--net");
    const sys = p.argv.findIndex((a) => a.startsWith("S"));
    expect(p.argv[sys + 2]).toBe("L");
    expect(p.enforced.network.mechanism).toBe("unshare_netns+proxy");
  });

  test.each([
    [
      "no namespace at all",
      { bubblewrap: missing("gone"), unshare: missing("gone") },
      "no network namespace",
    ],
    ["no perl for the bridge", { perl: missing("perl not found") }, "the proxy bridge needs perl"],
  ])("%s: not applied, and nothing of the bridge in argv", (_, caps, reason) => {
    const p = proxied(linuxCaps(caps));
    expect(p.enforced.network).toMatchObject({ requested: ["registry.npmjs.org"], applied: false });
    expect(p.enforced.network.reason).toContain(reason);
    expect(p.argv).not.toContain("3128");
  });
});
