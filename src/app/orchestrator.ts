/**
 * The orchestrator as the server configures it: `orchestrator_limits` checked (config_invalid
 * naming the key) before anything is created, then the run service over the storage, the
 * handles of the `runs` and `workflows` machines and the services steps use.
 */
import type { Config } from "../config/mod.ts";
import {
  type ExecutorServices,
  ORCHESTRATOR_LIMITS,
  type OrchestratorLimits,
  RunService,
  type RunServiceOptions,
} from "../orchestrator/mod.ts";

/** Config's snake_case `orchestrator_limits`, resolved. */
export function orchestratorLimits(config: Config): OrchestratorLimits {
  return ORCHESTRATOR_LIMITS.resolveSnake(config.orchestrator_limits);
}

/** The run service over a storage and its registered machines. */
export function createRunService(
  limits: OrchestratorLimits,
  wiring: Omit<RunServiceOptions, "limits" | "services"> & ExecutorServices,
): RunService {
  const { context, sandbox, ...rest } = wiring;
  return new RunService({ ...rest, limits, services: { context, sandbox } });
}
