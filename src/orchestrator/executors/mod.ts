/**
 * The step kinds this binary runs, one file per kind, each a {@link StepKindSpec}.
 *
 * @example
 * ```ts
 * import { STEP_KIND_SPECS } from "./executors/mod.ts";
 * const spec = STEP_KIND_SPECS.echo;
 * ```
 */
import type { StepKind } from "../workflow-schema.ts";
import { agentKind } from "./agent.ts";
import { contextMergeKind, contextSearchKind, contextUpsertKind } from "./context.ts";
import { echoKind } from "./echo.ts";
import { execKind } from "./exec.ts";
import type { StepKindSpec } from "./executor.ts";
import { httpKind } from "./http.ts";
import { llmKind } from "./llm.ts";
import { mapKind } from "./map.ts";

export { MAP_TEMPLATE_KINDS } from "./map.ts";

import { waitKind } from "./wait.ts";

export type {
  ExecutorServices,
  HeldUnit,
  HttpSettings,
  JournalEntry,
  SandboxRunner,
  SideEffect,
  StepAttempt,
  StepContext,
  StepKindSpec,
  StepResult,
  TakenSignal,
  TenantBudgets,
} from "./executor.ts";
export { HttpHostAllowlist } from "./http-hosts.ts";

/** Every step kind's spec, by kind. */
export const STEP_KIND_SPECS: Readonly<Record<StepKind, StepKindSpec<unknown>>> = {
  echo: echoKind as StepKindSpec<unknown>,
  wait: waitKind as StepKindSpec<unknown>,
  "context.search": contextSearchKind as StepKindSpec<unknown>,
  "context.upsert": contextUpsertKind as StepKindSpec<unknown>,
  "context.merge": contextMergeKind as StepKindSpec<unknown>,
  exec: execKind as StepKindSpec<unknown>,
  http: httpKind as StepKindSpec<unknown>,
  map: mapKind(() => STEP_KIND_SPECS) as StepKindSpec<unknown>,
  llm: llmKind as StepKindSpec<unknown>,
  agent: agentKind as StepKindSpec<unknown>,
};
