/**
 * The orchestrator as the server configures it: `orchestrator_limits` checked (config_invalid
 * naming the key) before anything is created, then the run service over the storage, the
 * handles of the `runs` and `workflows` machines and the services steps use.
 */
import type { Config } from "./config/mod.ts";
import type { ContextService } from "./context/mod.ts";
import type { Logger } from "./obs/mod.ts";
import {
  ORCHESTRATOR_LIMITS,
  type OrchestratorLimits,
  type RunRecord,
  RunService,
  type RunsState,
  type SandboxRunner,
  type Timers,
  type WorkflowRecord,
  type WorkflowsState,
} from "./orchestrator/mod.ts";
import type { MachineHandle, Storage } from "./storage/mod.ts";

/** Config's snake_case `orchestrator_limits`, resolved. */
export function orchestratorLimits(config: Config): OrchestratorLimits {
  return ORCHESTRATOR_LIMITS.resolveSnake(config.orchestrator_limits);
}

/** The run service over a storage and its registered machines. */
export function createRunService(
  limits: OrchestratorLimits,
  wiring: {
    storage: Storage;
    runs: MachineHandle<RunsState, RunRecord>;
    workflows: MachineHandle<WorkflowsState, WorkflowRecord>;
    context: ContextService;
    sandbox: SandboxRunner;
    timers: Timers;
    log: Logger;
  },
): RunService {
  const { context, sandbox, ...rest } = wiring;
  return new RunService({ ...rest, limits, services: { context, sandbox } });
}
