/**
 * The orchestrator as the server configures it: `orchestrator_limits` checked (config_invalid
 * naming the key) before anything is created, then the run service over the storage, the
 * handles of the `runs` and `workflows` machines and the services steps use.
 */
import type { Config } from "../config/mod.ts";
import { addSecret } from "../obs/mod.ts";
import {
  type ExecutorServices,
  HttpHostAllowlist,
  type LlmProviderConfig,
  ModelGateway,
  ORCHESTRATOR_LIMITS,
  type OrchestratorLimits,
  RunService,
  type RunServiceOptions,
  resolveProviders,
} from "../orchestrator/mod.ts";

/** Config's snake_case `orchestrator_limits`, resolved. */
export function orchestratorLimits(config: Config): OrchestratorLimits {
  return ORCHESTRATOR_LIMITS.resolveSnake(config.orchestrator_limits);
}

/**
 * The run service over a storage and its registered machines. `http` steps reach the hosts of
 * `allowedHosts` (config `http_allowed_hosts`), after policy allows each `http.fetch`, and are
 * audited in their run's tenant's chain.
 */
export function createRunService(
  limits: OrchestratorLimits,
  wiring: Omit<RunServiceOptions, "limits" | "services"> &
    Omit<ExecutorServices, "http"> & { allowedHosts: readonly string[] },
): RunService {
  const { context, sandbox, budgets, models, policy, audit, allowedHosts, ...rest } = wiring;
  const services: ExecutorServices = { context, sandbox };
  if (budgets !== undefined) services.budgets = budgets;
  if (models !== undefined) services.models = models;
  if (policy !== undefined) services.policy = policy;
  if (audit !== undefined) services.audit = audit;
  services.http = {
    allowedHosts: new HttpHostAllowlist(allowedHosts),
    responseBytesMax: limits.httpResponseBytesMax,
    timeoutMsDefault: limits.httpTimeoutMsDefault,
  };
  return new RunService({ ...rest, limits, services });
}

/** The model providers of `llm_providers`, their keys read from `env` (a missing one: config_invalid). */
export function modelGateway(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
): ModelGateway {
  const providers = resolveProviders(
    config.llm_providers as Record<string, LlmProviderConfig>,
    env,
  );
  for (const provider of providers.values()) addSecret(provider.apiKey);
  return new ModelGateway(providers);
}
