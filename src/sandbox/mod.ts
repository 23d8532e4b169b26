/**
 * The sandbox: runs agent-written commands under hard limits with an honest report of what was
 * enforced on this OS (API.md, "Sandbox"; docs/sandbox.md).
 *
 * @example
 * ```ts
 * import { formatSandboxText, runSandboxed } from "../sandbox/mod.ts";
 * const result = await runSandboxed({ cmd: ["npm", "test"], network: "deny" }, {
 *   workspaceRoot: "/srv/ws", tempRoot: "/tmp", traceId, logger,
 * });
 * process.stdout.write(formatSandboxText(result));
 * // once at server start, before serving runs:
 * await sweepLeftovers({ tempRoot: "/tmp", logger });
 * ```
 */

export type { DetectOptions, MechanismProbe, SandboxCapabilities } from "./capabilities.ts";
export { detectCapabilities } from "./capabilities.ts";
export type { CapabilityReport } from "./capability-report.ts";
export { CapabilityReportSchema, capabilityReport } from "./capability-report.ts";
export type { Restored } from "./checkpoint-tree.ts";
export { formatSandboxHeader, formatSandboxText } from "./format.ts";
export { HIDDEN_PATHS_MAX, normalizeHiddenPaths } from "./hidden-paths.ts";
export type { AttachPrime, CgroupLayout, CgroupProbe } from "./linux/mod.ts";
export { HOST_PATTERN, hostMatches, normalizeHost } from "./network-allow.ts";
export type {
  SandboxLimitConfig,
  SandboxLogger,
  SandboxMechanism,
  SandboxOptions,
  SandboxTools,
} from "./options.ts";
export {
  checkRequireList,
  DEFAULT_ENV_PASSTHROUGH,
  resolveLimitConfig,
  SANDBOX_LIMITS,
  SANDBOX_MECHANISMS,
} from "./options.ts";
export type { OutputListener, OutputStream } from "./output-tap.ts";
export { DEFAULT_REQUIRE } from "./requirements.ts";
export type { RunSlot, RunSlotLimits } from "./run-slots.ts";
export { QUEUE_FULL_RETRY_AFTER_SECONDS, RunSlots } from "./run-slots.ts";
export type { PreparedRun } from "./runner.ts";
export { prepareRun, runPrepared, runSandboxed } from "./runner.ts";
export type {
  EnforcedEntry,
  EnforcedKey,
  EnforcedReport,
  SandboxRequest,
  SandboxRequestParsed,
  SandboxResult,
  SandboxStatus,
} from "./schema.ts";
export {
  ENFORCED_KEYS,
  SANDBOX_STATUSES,
  SandboxRequestSchema,
  SandboxResultSchema,
} from "./schema.ts";
export type {
  ExecTarget,
  OpenedRun,
  RunCharge,
  RunOutcome,
  RunStart,
  SandboxService,
  SandboxServiceOptions,
} from "./service.ts";
export { makeSandboxService } from "./service.ts";
export type { SweepOptions, SweepResult } from "./sweep.ts";
export { RUN_LIFETIME_MAX_MS, STALE_AFTER_MS_DEFAULT, sweepLeftovers } from "./sweep.ts";
export type { WorkspaceRecord } from "./workspace-catalog.ts";
export { CHECKPOINT_ID, DEFAULT_WORKSPACE_ID } from "./workspace-catalog.ts";
export type { CheckpointInfo, Taken } from "./workspace-checkpoints.ts";
export { WorkspaceCheckpoints } from "./workspace-checkpoints.ts";
export type { DirEntry, ReadResult, WriteResult } from "./workspace-files.ts";
export type { WorkspaceCreate, WorkspaceWire } from "./workspace-schema.ts";
export {
  CheckpointListSchema,
  CheckpointSchema,
  CheckpointTakenSchema,
  DeletedSchema,
  DirListingSchema,
  FileWriteQuerySchema,
  FileWrittenSchema,
  ForkedSchema,
  RestoredSchema,
  WorkspaceCreateSchema,
  WorkspaceDetailSchema,
  WorkspaceListSchema,
  WorkspaceSchema,
} from "./workspace-schema.ts";
export type { WorkspaceDetail } from "./workspace-service.ts";
export { WorkspaceService } from "./workspace-service.ts";
export type { FoundWorkspace, WorkspacesOptions } from "./workspaces.ts";
export { Workspaces } from "./workspaces.ts";
