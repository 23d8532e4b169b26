/**
 * What this host's sandbox can enforce, for the `sandbox.capabilities` start-up log line, for
 * `GET /v1/sandbox/capabilities` and for `vltair exec`: the mechanisms found (and why not), the
 * `enforced` report a typical run would get (network denied, a CPU limit asked), and which
 * required limits are missing, with how to get them. Built by the same planner as real runs.
 */
import * as v from "valibot";
import {
  detectCapabilities,
  type MechanismProbe,
  type SandboxCapabilities,
} from "./capabilities.ts";
import { unappliedKeys } from "./enforced.ts";
import { normalizeHiddenPaths, resolveHiddenPaths } from "./hidden-paths.ts";
import { type CpuUsageSource, linuxCpuUsage } from "./linux/mod.ts";
import { checkRequireList, resolveLimitConfig, type SandboxOptions } from "./options.ts";
import { DEFAULT_REQUIRE, hintFor, missingRequired } from "./requirements.ts";
import { ENFORCED_KEYS, EnforcedReportSchema } from "./schema.ts";
import { selectShim } from "./select-shim.ts";
import { validateRequest } from "./validate.ts";

const MechanismSchema = v.strictObject({ available: v.boolean(), reason: v.string() });

/** Wire shape of the report (`GET /v1/sandbox/capabilities`). */
export const CapabilityReportSchema = v.strictObject({
  platform: v.string(),
  arch: v.string(),
  kernel: v.string(),
  /** Each mechanism the sandbox looks for, found or not and why. */
  mechanisms: v.record(v.string(), MechanismSchema),
  /** The report a run gets with the defaults, `network:"deny"` and a `cpu_ms` limit. */
  enforced: EnforcedReportSchema,
  /** Limits every run must have (`sandbox_require`; `hidden_paths` always). */
  require: v.array(v.picklist(ENFORCED_KEYS)),
  /** Whether a request's `allow_partial:true` may waive `require` (`sandbox_allow_partial`). */
  allow_partial: v.boolean(),
  /** Required limits this host cannot apply, why, and how to get them. */
  missing: v.array(
    v.strictObject({ limit: v.picklist(ENFORCED_KEYS), reason: v.string(), hint: v.string() }),
  ),
  /** How a run's `cpu_ms` is measured here (`measured:false`: it is null). */
  cpu_usage: v.strictObject({ measured: v.boolean(), mechanism: v.string(), reason: v.string() }),
  /** Limits not applied at all here (required or not). */
  not_applied: v.array(v.picklist(ENFORCED_KEYS)),
  /**
   * True when every run is refused, even one asking `allow_partial:true`, until something is
   * installed or configured.
   */
  runs_refused: v.boolean(),
});

/** What the sandbox can enforce here. */
export type CapabilityReport = v.InferOutput<typeof CapabilityReportSchema>;

const mech = (probe: MechanismProbe) => ({ available: probe.available, reason: probe.reason });

/** The source of `cpu_ms`: the run's cgroup on Linux; nothing elsewhere (no rusage of a child). */
function cpuUsage(caps: SandboxCapabilities): CpuUsageSource {
  if (caps.platform === "linux") return linuxCpuUsage(caps.cgroups);
  return {
    measured: false,
    mechanism: "none",
    reason: `no source on ${caps.platform}: the runtime reports no CPU time of a child and there is no cgroup`,
  };
}

/**
 * The report for a configuration; `options` as for `runSandboxed` (the workspace need not
 * exist). Probes are cached, so this is cheap after the first call.
 *
 * @example
 * ```ts
 * const report = await capabilityReport({ workspaceRoot: "/srv/ws", tempRoot: "/tmp" });
 * report.runs_refused; // false when every required limit can be applied
 * ```
 */
export async function capabilityReport(
  options: Omit<SandboxOptions, "traceId" | "signal">,
): Promise<CapabilityReport> {
  const limits = resolveLimitConfig(options.limits);
  const require = checkRequireList(options.require ?? DEFAULT_REQUIRE);
  const caps = await detectCapabilities({
    ...(options.tools === undefined ? {} : { tools: options.tools }),
    ...(options.cgroupRoot === undefined ? {} : { cgroupRoot: options.cgroupRoot }),
    ...(options.disable === undefined ? {} : { disable: options.disable }),
  });
  const hidden = await resolveHiddenPaths(normalizeHiddenPaths(options.hiddenPaths));
  const tempRoot = `${options.tempRoot}/vltair-describe`;
  const enforced = await selectShim(caps.platform).describe({
    req: validateRequest({ cmd: ["true"], limits: { cpu_ms: 1000 } }, limits),
    cwd: options.workspaceRoot,
    workspaceRoot: options.workspaceRoot,
    temp: { root: tempRoot, home: `${tempRoot}/home`, tmp: `${tempRoot}/tmp` },
    runName: "vltair-describe",
    caps,
    limits,
    hidden,
  });
  const policy = { require, allowPartial: options.allowPartial === true };
  const missing = missingRequired(enforced, policy, false);
  // Refused even when the request allows partial runs (and the operator lets it).
  const alwaysRefused = missingRequired(enforced, policy, true).length > 0;
  const procfsDenied = caps.platform === "linux" && !caps.procfs.available;
  return {
    platform: caps.platform,
    arch: caps.arch,
    kernel: caps.kernel,
    mechanisms: {
      procfs: mech(caps.procfs),
      bubblewrap: mech(caps.bubblewrap),
      unshare: mech(caps.unshare),
      perl_init: mech(caps.perl),
      unshare_mount: mech(caps.mountStage),
      prlimit: mech(caps.prlimit),
      sh_ulimit: mech(caps.ulimit),
      cgroup_v2: {
        available: caps.cgroups?.v2.available ?? false,
        reason: caps.cgroups?.v2.reason ?? "no cgroups",
      },
      cgroup_v1_memory: {
        available: caps.cgroups?.v1Memory.available ?? false,
        reason: caps.cgroups?.v1Memory.reason ?? "no cgroups",
      },
      cgroup_v1_pids: {
        available: caps.cgroups?.v1Pids.available ?? false,
        reason: caps.cgroups?.v1Pids.reason ?? "no cgroups",
      },
      cgroup_v1_cpuacct: {
        available: caps.cgroups?.v1Cpuacct.available ?? false,
        reason: caps.cgroups?.v1Cpuacct.reason ?? "no cgroups",
      },
      sandbox_exec: mech(caps.sandboxExec),
      taskkill: mech(caps.taskkill),
    },
    enforced,
    require: [...require],
    allow_partial: options.allowPartial === true,
    missing: missing.map((limit) => ({
      limit,
      reason: enforced[limit].reason,
      hint: hintFor(limit, caps),
    })),
    cpu_usage: cpuUsage(caps),
    not_applied: unappliedKeys(enforced),
    runs_refused: alwaysRefused || procfsDenied,
  };
}
