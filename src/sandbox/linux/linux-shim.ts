/**
 * Linux shim: a cgroup (v2 when delegated, else v1) for memory and pids, bubblewrap (or
 * unshare) for PID and network namespaces and the read-only filesystem view, prlimit for
 * rlimits, and a tracker that verifies through the cgroup or `/proc` that nothing survives.
 */

import { PosixTracker } from "../posix-tracker.ts";
import type { LaunchPlan, SandboxShim, ShimInput } from "../shim.ts";
import { primeAttach } from "./attach-prime.ts";
import { type CgroupLayout, createRunCgroup, procsFiles, type RunCgroup } from "./cgroup.ts";
import { type PlannedCgroup, planLinux } from "./linux-plan.ts";

interface CgroupChoice {
  version: 1 | 2 | null;
  memoryParent: string | null;
  pidsParent: string | null;
  /** Where the run's CPU-time cgroup goes (v1 `cpuacct`; v2: the run's one cgroup). */
  cpuParent: string | null;
  memoryReason: string;
  pidsReason: string;
  cpuReason: string;
}

/** Picks v2 when it is delegated, else v1 per controller. */
export function chooseCgroup(layout: CgroupLayout | null): CgroupChoice {
  if (layout === null) {
    const reason = "no cgroup hierarchy";
    return {
      version: null,
      memoryParent: null,
      pidsParent: null,
      cpuParent: null,
      memoryReason: reason,
      pidsReason: reason,
      cpuReason: reason,
    };
  }
  if (layout.v2.available) {
    const dir = layout.v2.parentDir;
    return {
      version: 2,
      memoryParent: dir,
      pidsParent: dir,
      cpuParent: dir,
      memoryReason: layout.v2.reason,
      pidsReason: layout.v2.reason,
      cpuReason: layout.v2.reason,
    };
  }
  const memoryParent = layout.v1Memory.available ? layout.v1Memory.parentDir : null;
  const pidsParent = layout.v1Pids.available ? layout.v1Pids.parentDir : null;
  const cpuParent = layout.v1Cpuacct.available ? layout.v1Cpuacct.parentDir : null;
  const any = memoryParent !== null || pidsParent !== null || cpuParent !== null;
  return {
    version: any ? 1 : null,
    memoryParent,
    pidsParent,
    cpuParent,
    memoryReason: `${layout.v2.reason}; ${layout.v1Memory.reason}`,
    pidsReason: `${layout.v2.reason}; ${layout.v1Pids.reason}`,
    cpuReason: `${layout.v2.reason}; ${layout.v1Cpuacct.reason}`,
  };
}

/** How a run's CPU time is measured here, in the capability report's words. */
export interface CpuUsageSource {
  measured: boolean;
  /** `cgroup_v2` (`cpu.stat`), `cgroup_v1_cpuacct` (`cpuacct.usage`), or `none`. */
  mechanism: string;
  reason: string;
}

/**
 * The CPU-time source of a Linux run: its cgroup, or nothing. node:child_process (under Bun,
 * Deno and Node alike) reports no rusage of a child, so without a cgroup `cpu_ms` is null.
 */
export function linuxCpuUsage(layout: CgroupLayout | null): CpuUsageSource {
  const choice = chooseCgroup(layout);
  if (choice.cpuParent === null) {
    return {
      measured: false,
      mechanism: "none",
      reason: `no cgroup to measure the run's CPU time (${choice.cpuReason}); the runtime reports no rusage of a child`,
    };
  }
  if (choice.version === 2) {
    return {
      measured: true,
      mechanism: "cgroup_v2",
      reason: "cpu.stat usage_usec of the run's cgroup: user + system time of every process",
    };
  }
  return {
    measured: true,
    mechanism: "cgroup_v1_cpuacct",
    reason: `cpuacct.usage of the run's cpuacct cgroup: user + system time of every process (${layout?.v1Cpuacct.reason})`,
  };
}

async function makeCgroup(
  input: ShimInput,
  choice: CgroupChoice,
): Promise<{ cg: RunCgroup | null; planned: PlannedCgroup }> {
  const none: PlannedCgroup = {
    version: null,
    memory: false,
    pids: false,
    procsFiles: [],
    memoryReason: choice.memoryReason,
    pidsReason: choice.pidsReason,
  };
  if (choice.version === null) return { cg: null, planned: none };
  try {
    const cg = await createRunCgroup(
      {
        version: choice.version,
        memoryParent: choice.memoryParent,
        pidsParent: choice.pidsParent,
        cpuParent: choice.cpuParent,
      },
      input.runName,
      { memBytes: input.req.memBytes, pids: input.req.pids },
    );
    const planned: PlannedCgroup = {
      version: choice.version,
      memory: cg.memoryDir !== null,
      pids: cg.pidsDir !== null,
      procsFiles: procsFiles(cg),
      memoryReason: choice.memoryReason,
      pidsReason: choice.pidsReason,
    };
    return { cg, planned };
  } catch (error) {
    const reason = `creating the run cgroup failed: ${(error as NodeJS.ErrnoException).code ?? "error"}`;
    return { cg: null, planned: { ...none, memoryReason: reason, pidsReason: reason } };
  }
}

/** What the run's cgroup would be, creating nothing (for `describe`). */
function plannedCgroup(choice: CgroupChoice): PlannedCgroup {
  const memory = choice.memoryParent !== null;
  const pids = choice.pidsParent !== null;
  const procs = [choice.memoryParent, choice.pidsParent, choice.cpuParent].filter(
    (d): d is string => d !== null,
  );
  return {
    version: choice.version,
    memory,
    pids,
    procsFiles: [...new Set(procs)].map((dir) => `${dir}/vltair-describe/cgroup.procs`),
    memoryReason: choice.memoryReason,
    pidsReason: choice.pidsReason,
  };
}

/** The plan of `input` with the run's cgroup as `cgroup`. */
function planFor(input: ShimInput, cgroup: PlannedCgroup) {
  return planLinux({
    req: input.req,
    cwd: input.cwd,
    workspaceRoot: input.workspaceRoot,
    runTempDir: input.temp.root,
    caps: input.caps,
    limits: input.limits,
    cgroup,
    hidden: input.hidden,
    proxySocket: input.proxySocket ?? null,
  });
}

/** The Linux shim. */
export const linuxShim: SandboxShim = {
  name: "linux",
  async describe(input: ShimInput) {
    return planFor(input, plannedCgroup(chooseCgroup(input.caps.cgroups))).enforced;
  },
  async prepare(input: ShimInput): Promise<LaunchPlan> {
    const { cg, planned } = await makeCgroup(input, chooseCgroup(input.caps.cgroups));
    const plan = planFor(input, planned);
    // Last step before the spawn: start the attach lock's grace period now (attach-prime.ts).
    const prime = input.caps.cgroups?.prime ?? null;
    if (planned.procsFiles.length > 0 && prime !== null) void primeAttach(prime);
    const tracker = new PosixTracker({
      procfs: true,
      cgroup: cg,
      ownPidNamespace: input.caps.ownPidNamespace,
      leaderIsWrapper: plan.leaderIsWrapper,
    });
    return {
      argv: plan.argv,
      detached: true,
      readyMarker: true,
      enforced: plan.enforced,
      tracker,
      wrapperExitStatus: plan.leaderIsWrapper,
      mechanisms: plan.mechanisms,
    };
  },
};
