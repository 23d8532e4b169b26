/**
 * The durable orchestrator (issue 16): workflows as DAGs of steps, folded from the same WAL as
 * the context engine — the `runs` and `workflows` state machines, a scheduler with bounded
 * queues, step executors acting with the run's `Call`, retries, durable timers, signals,
 * cancellation, and event streams that replay byte for byte.
 *
 * @example
 * ```ts
 * import { createRunsMachine, createWorkflowsMachine, RunService } from "./orchestrator/mod.ts";
 * const runs = storage.register(createRunsMachine());
 * const workflows = storage.register(createWorkflowsMachine());
 * await storage.recover();
 * const service = new RunService({ storage, runs, workflows, services: { context }, limits, timers, log });
 * service.resume();
 * const { run_id } = await service.start(call, { workflow, input: {} });
 * ```
 */
export type { ExecutorServices, SandboxRunner, StepKindSpec } from "./executors/mod.ts";
export { HttpHostAllowlist } from "./executors/mod.ts";
export type { OrchestratorLimits } from "./limits.ts";
export { ORCHESTRATOR_LIMITS, resolveOrchestratorLimits } from "./limits.ts";
export type { LlmProviderConfig } from "./llm/mod.ts";
export { ModelGateway, resolveProviders } from "./llm/mod.ts";
export type { EventType, RunEvent } from "./run-events.ts";
export { EVENT_TYPES, sseFrame } from "./run-events.ts";
export type { RunRecord } from "./run-record.ts";
export { RUNS_MACHINE } from "./run-record.ts";
export type {
  ForkRunRequest,
  RunList,
  RunSummary,
  RunView,
  SignalRequest,
  StartRunRequest,
} from "./run-schemas.ts";
export {
  ForkRunRequestSchema,
  ForkRunResponseSchema,
  ReplayQuerySchema,
  RunBudgetHistorySchema,
  RunBudgetViewSchema,
  RunListQuerySchema,
  RunListSchema,
  RunViewSchema,
  SignalRequestSchema,
  StartRunQuerySchema,
  StartRunRequestSchema,
  StartRunResponseSchema,
  WAIT_MS_MAX,
  WorkflowGetQuerySchema,
  WorkflowListSchema,
  WorkflowPutResponseSchema,
  WorkflowVersionSchema,
} from "./run-schemas.ts";
export type { RunServiceOptions, StartedRun } from "./run-service.ts";
export { RunService } from "./run-service.ts";
export type { RunStatus, StepStatus } from "./run-state.ts";
export { RUN_STATUSES, STEP_STATUSES } from "./run-state.ts";
export type { RunsState } from "./runs-machine.ts";
export { foldJournal } from "./runs-machine.ts";
export { createRunsMachine } from "./runs-snapshot.ts";
export { STEP_ERROR_CODES } from "./step-error.ts";
export type { Timers } from "./timers.ts";
export { systemTimers } from "./timers.ts";
export { validateWorkflow } from "./validate-workflow.ts";
export type { Workflow } from "./workflow-schema.ts";
export { STEP_KINDS, WorkflowNameSchema, WorkflowSchema } from "./workflow-schema.ts";
export type { WorkflowRecord, WorkflowsState } from "./workflows-machine.ts";
export { createWorkflowsMachine, WORKFLOWS_MACHINE } from "./workflows-machine.ts";
