/**
 * Policy decisions before every side effect (issue 17 item 2) and the versioned policy sets
 * behind them (item 3).
 *
 * `check(call, action, context)` is the one entry point: the context engine calls it for reads,
 * its pre-commit hook (`commitHook`) for every record a batch would write, the sandbox before a
 * run, and the orchestrator before `run.start`. A denial is 403 `policy_denied` with the policy
 * ids in `details.reasons`. When no set can decide (the engine did not load, a stored set no
 * longer compiles) the answer is deny `policy_invalid`, unless config `policy_fail_open` opens
 * it, loudly.
 *
 * A `Call` is evaluated against one version: the views of both levels are pinned to the call
 * at its first decision, so a set stored meanwhile applies from the next call on.
 */
import * as v from "valibot";
import { authorize, type Call, VltairError } from "../core/mod.ts";
import type { Logger } from "../obs/mod.ts";
import type { AppendInput, CommitHook, MachineHandle, Storage } from "../storage/mod.ts";
import { type CedarEngine, loadCedarEngine } from "./cedar-engine.ts";
import {
  ACTION_CONTEXT_SCHEMAS,
  type ActionContext,
  CEDAR_SCHEMA,
  DEFAULT_POLICY,
  type PolicyAction,
} from "./cedar-schema.ts";
import { contextShape } from "./context-shape.ts";
import {
  evaluateLevels,
  isShippedDefault,
  type LevelsOutcome,
  type PolicyDecision,
  versionOf,
} from "./policy-decision.ts";
import { type LevelView, PolicyLevels } from "./policy-levels.ts";
import { levelKey, type PolicyRecord, type PolicyState } from "./policy-machine.ts";
import type { CompiledPolicySet, PolicyProblem } from "./policy-set.ts";
import type { PolicyCheckRequest } from "./policy-wire.ts";
import { isOperator } from "./roles.ts";

/** Most cached decisions; the cache is emptied when full (decisions are cheap to redo). */
const DECISION_CACHE_ENTRIES_MAX = 10_000;
/** Longest cache key; requests with larger contexts (long argv) are evaluated every time. */
const DECISION_CACHE_KEY_CHARS_MAX = 2048;

/** A request a record of a batch implies, for the pre-commit hook. */
export interface PolicyRequest {
  tenant: string;
  action: PolicyAction;
  context: Record<string, unknown>;
}

/** What the policy requests of a record addressed to one machine are. */
export type PolicyExtractor = (body: unknown) => PolicyRequest[];

/** Options of {@link PolicyService}. */
export interface PolicyServiceOptions {
  storage: Storage;
  machine: MachineHandle<PolicyState, PolicyRecord>;
  log: Logger;
  /** Clock (ms since epoch) of `updated_at`. */
  nowMs: () => number;
  /** Config `policy_fail_open`: allow (with a warning each time) when no set can decide. */
  failOpen: boolean;
  /** Sees every decision, allow and deny (the audit hook will record them). */
  onDecision?: (decision: PolicyDecision, call: Call) => void;
}

interface Pin {
  tenant: string;
  levels: readonly [LevelView, LevelView];
}

/** The policy layer of one data directory. */
export class PolicyService {
  #options: PolicyServiceOptions;
  readonly #levels = new PolicyLevels();
  readonly #pins = new WeakMap<Call, Pin>();
  readonly #cache = new Map<string, LevelsOutcome>();
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: PolicyServiceOptions) {
    this.#options = options;
  }

  /**
   * Sets who sees every decision from now on (the composition root: the audit trail records
   * denials), replacing the one given at construction.
   */
  onDecision(listener: (decision: PolicyDecision, call: Call) => void): void {
    this.#options = { ...this.#options, onDecision: listener };
  }

  /** Loads the Cedar engine (once per process); on failure every decision is `policy_invalid`. */
  async load(): Promise<void> {
    const { log, failOpen } = this.#options;
    if (failOpen) {
      log.warn("policy.fail_open_enabled", {
        effect:
          "requests are allowed when no policy set can decide (engine not loaded, invalid set)",
      });
    }
    try {
      const engine = await loadCedarEngine();
      this.#levels.setEngine(engine);
      log.info("policy.engine_loaded", { cedar_version: engine.cedarVersion });
    } catch (error) {
      log.error("policy.engine_failed", {
        error,
        effect: "every policy decision is policy_invalid",
      });
    }
  }

  /** Compiles every stored set once recovery folded them; logs the ones that no longer compile. */
  logLevels(): void {
    const state = this.#options.machine.state();
    const tenants = [null, ...state.tenants.keys()];
    const invalid = tenants
      .map((tenant) => ({ level: levelKey(tenant), view: this.#levels.view(state, tenant) }))
      .filter(({ view }) => view.set === null);
    for (const { level, view } of invalid) {
      this.#options.log.error("policy.level_invalid", {
        level,
        version: view.version,
        problem: view.problem,
        effect: "requests this set decides are denied policy_invalid",
      });
    }
    this.#options.log.info("policy.loaded", {
      version: state.version,
      levels: tenants.length,
      invalid: invalid.length,
    });
  }

  /**
   * Decides whether the caller may do `action` with `context` in `tenant` (default: the
   * caller's tenant), without throwing.
   */
  decide<A extends PolicyAction>(
    call: Call,
    action: A,
    context: ActionContext<A>,
    options: { tenant?: string } = {},
  ): PolicyDecision {
    return this.#decide(call, action, context, options.tenant ?? call.principal.tenant);
  }

  /**
   * Throws 403 `policy_denied` (`details.reasons`, `details.policy_version`) unless policy
   * allows the caller `action` with `context`; returns the decision otherwise.
   *
   * @example
   * ```ts
   * policy.check(call, "run.start", { workflow: "nightly-tests" });
   * ```
   */
  check<A extends PolicyAction>(
    call: Call,
    action: A,
    context: ActionContext<A>,
    options: { tenant?: string } = {},
  ): PolicyDecision {
    const decision = this.#decide(call, action, context, options.tenant ?? call.principal.tenant);
    if (decision.decision === "allow") return decision;
    throw new VltairError("policy_denied", `policy denies ${action}`, {
      details: { action, reasons: decision.reasons, policy_version: decision.policy_version },
    });
  }

  /**
   * The pre-commit hook (ADR 0010, first in the chain): every record addressed to a machine of
   * `extractors` is checked, one decision per request it implies; a denial drops the batch.
   */
  commitHook(extractors: Readonly<Record<string, PolicyExtractor>>): CommitHook {
    return (batch: readonly AppendInput[], call: Call) => {
      for (const record of batch) {
        if (!Object.hasOwn(extractors, record.machine)) continue;
        const extract = extractors[record.machine] as PolicyExtractor;
        for (const request of extract(record.body)) {
          const decision = this.#decide(call, request.action, request.context, request.tenant);
          if (decision.decision === "deny") {
            throw new VltairError("policy_denied", `policy denies ${request.action}`, {
              details: {
                action: request.action,
                reasons: decision.reasons,
                policy_version: decision.policy_version,
              },
            });
          }
        }
      }
      return undefined;
    };
  }

  #decide(
    call: Call,
    action: PolicyAction,
    context: Record<string, unknown>,
    tenant: string,
  ): PolicyDecision {
    const levels = this.#pinned(call, tenant);
    const request = { subject: call.principal.subject, tenant, action, context };
    const outcome = this.#evaluate(levels, request);
    const decision = this.#finish(outcome, { action, tenant, version: versionOf(levels) });
    if (decision.decision === "deny") {
      this.#options.log.info("policy.denied", {
        action,
        tenant,
        reasons: decision.reasons,
        policy_version: decision.policy_version,
        trace_id: call.traceId,
      });
    }
    this.#options.onDecision?.(decision, call);
    return decision;
  }

  /**
   * The version that decided `call`'s requests in `tenant` (what its audit records carry), or
   * null when no decision was made for it there.
   */
  decidedVersion(call: Call, tenant: string): number | null {
    const pin = this.#pins.get(call);
    return pin === undefined || pin.tenant !== tenant ? null : versionOf(pin.levels);
  }

  /** The call's pinned views for `tenant`, taking them on its first decision. */
  #pinned(call: Call, tenant: string): readonly [LevelView, LevelView] {
    const pin = this.#pins.get(call);
    if (pin !== undefined && pin.tenant === tenant) return pin.levels;
    const state = this.#options.machine.state();
    const levels = [this.#levels.view(state, null), this.#levels.view(state, tenant)] as const;
    if (pin === undefined) this.#pins.set(call, { tenant, levels });
    return levels;
  }

  #evaluate(
    levels: readonly [LevelView, LevelView],
    request: {
      subject: string;
      tenant: string;
      action: PolicyAction;
      context: Record<string, unknown>;
    },
  ): LevelsOutcome {
    const engine = this.#levels.engine;
    if (engine === null) return { kind: "invalid", problem: "the Cedar engine is not loaded" };
    const key = `${levels[0].version}\u0000${levels[1].version}\u0000${request.tenant}\u0000${request.subject}\u0000${request.action}\u0000${contextKey(levels, request.context)}`;
    const cacheable = key.length <= DECISION_CACHE_KEY_CHARS_MAX;
    const cached = cacheable ? this.#cache.get(key) : undefined;
    if (cached !== undefined) return cached;
    const outcome = safely(() => evaluateLevels(engine, levels, request));
    if (cacheable && outcome.kind === "decided") {
      if (this.#cache.size >= DECISION_CACHE_ENTRIES_MAX) this.#cache.clear();
      this.#cache.set(key, outcome);
    }
    return outcome;
  }

  /** The decision of an outcome: invalid is deny `policy_invalid`, or allow when fail-open. */
  #finish(
    outcome: LevelsOutcome,
    about: { action: PolicyAction; tenant: string; version: number },
  ): PolicyDecision {
    const base = { action: about.action, tenant: about.tenant, policy_version: about.version };
    if (outcome.kind === "decided")
      return { ...base, decision: outcome.decision, reasons: outcome.reasons };
    if (!this.#options.failOpen) {
      return { ...base, decision: "deny", reasons: ["policy_invalid"] };
    }
    this.#options.log.warn("policy.fail_open", {
      action: about.action,
      tenant: about.tenant,
      problem: outcome.problem,
      effect: "allowed because policy_fail_open is true",
    });
    return { ...base, decision: "allow", reasons: ["policy_fail_open"] };
  }

  /** The Cedar schema, as text and as JSON (`GET /v1/policy/schema`). */
  schema(): { cedar: string; json: unknown } {
    return { cedar: CEDAR_SCHEMA, json: this.#engine().schemaJson };
  }

  /** A level's set (`GET /v1/policy`): the shipped default is version 0. */
  current(
    call: Call,
    tenant?: string,
  ): { cedar: string; version: number; updated_at: string | null } {
    authorize(call, "admin", "policy.read");
    const stored = this.#options.machine.state().stored(this.#levelOf(call, tenant));
    if (stored === null) return { cedar: DEFAULT_POLICY, version: 0, updated_at: null };
    return { cedar: stored.cedar, version: stored.version, updated_at: stored.updated_at };
  }

  /** A level's recent versions, newest first (`GET /v1/policy/versions`). */
  versions(call: Call, tenant?: string) {
    authorize(call, "admin", "policy.read");
    const key = levelKey(this.#levelOf(call, tenant));
    const list = this.#options.machine.state().history.get(key) ?? [];
    return { versions: [...list].reverse() };
  }

  /**
   * Validates `cedar` against the schema and stores it as the new set of the caller's level
   * (`PUT /v1/policy`); 400 `policy_invalid` with the validator's messages leaves the old one.
   */
  async put(call: Call, cedar: string, tenant?: string): Promise<{ version: number }> {
    authorize(call, "admin", "policy.write");
    const level = this.#levelOf(call, tenant);
    const set = this.#compile(cedar);
    // One write at a time, so each gets the next version of the counter it read.
    const run = this.#tail.then(async () => {
      const { storage, machine, nowMs, log } = this.#options;
      const record: PolicyRecord = {
        op: "put",
        tenant: level,
        cedar,
        sha256: set.sha256,
        version: machine.state().version + 1,
        updated_at: new Date(nowMs()).toISOString(),
        subject: call.principal.subject,
      };
      await storage.commit([machine.record(record)], call);
      this.#levels.adopt(level, record.version, set);
      log.info("policy.stored", {
        level: levelKey(level),
        version: record.version,
        sha256: set.sha256,
        policies: set.ids.length,
      });
      return { version: record.version };
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * A dry run (`POST /v1/policy:check`): the decision for a described request, against the
   * stored sets or with `cedar` in place of the level `PUT` would replace. Never throws on deny.
   */
  dryRun(
    call: Call,
    input: PolicyCheckRequest,
    tenant?: string,
  ): { decision: "allow" | "deny"; reasons: string[]; policy_version: number | null } {
    authorize(call, "admin", "policy.check");
    const principal = input.principal ?? {
      tenant: tenant ?? call.principal.tenant,
      subject: call.principal.subject,
    };
    if (principal.tenant !== call.principal.tenant && !isOperator(call.principal)) {
      throw operatorOnly("policy.check");
    }
    const context = checkContext(input.action, input.context);
    const state = this.#options.machine.state();
    const levels: [LevelView, LevelView] = [
      this.#levels.view(state, null),
      this.#levels.view(state, principal.tenant),
    ];
    const candidate = input.cedar !== undefined;
    if (input.cedar !== undefined) {
      const level = this.#levelOf(call, tenant);
      if (level !== null && level !== principal.tenant) {
        throw new VltairError(
          "validation_failed",
          "principal.tenant must be the tenant whose set the candidate replaces",
          { details: { field: "principal.tenant", tenant: level } },
        );
      }
      levels[level === null ? 0 : 1] = {
        version: 0,
        set: this.#compile(input.cedar),
        problem: null,
      };
    }
    const request = { ...principal, action: input.action, context };
    const outcome = safely(() => evaluateLevels(this.#engine(), levels, request));
    const decision = this.#finish(outcome, {
      action: input.action,
      tenant: principal.tenant,
      version: versionOf(levels),
    });
    return {
      decision: decision.decision,
      reasons: decision.reasons,
      policy_version: candidate ? null : decision.policy_version,
    };
  }

  /** The level a management call names: the operator's default is global, an admin's its own. */
  #levelOf(call: Call, tenant: string | undefined): string | null {
    const principal = call.principal;
    if (tenant === undefined) return isOperator(principal) ? null : principal.tenant;
    if (tenant === principal.tenant || isOperator(principal)) return tenant;
    throw operatorOnly("policy.manage");
  }

  #engine(): CedarEngine {
    const engine = this.#levels.engine;
    if (engine !== null) return engine;
    throw new VltairError("unavailable", "the Cedar policy engine is not loaded", {
      details: { reason: "policy_engine_unavailable" },
    });
  }

  #compile(cedar: string): CompiledPolicySet {
    const compiled = this.#engine().compile(cedar);
    if ("problems" in compiled) throw policyInvalid(compiled.problems);
    return compiled;
  }
}

/** Validator messages listed in `details.errors`; the rest are counted. */
const PROBLEMS_LISTED_MAX = 20;

/** 400 `policy_invalid` with the validator's messages in `details.errors`. */
export function policyInvalid(problems: readonly PolicyProblem[]): VltairError {
  const first = problems[0]?.message ?? "no policy set";
  return new VltairError("policy_invalid", `the policy set is invalid: ${first}`, {
    details: { errors: problems.slice(0, PROBLEMS_LISTED_MAX), error_count: problems.length },
  });
}

function operatorOnly(action: string): VltairError {
  return new VltairError("forbidden", "only the operator acts on another tenant's policy", {
    details: { role_needed: "operator", action },
  });
}

/** A dry run's context checked against its action's schema (400 naming `context.<field>`). */
function checkContext(action: PolicyAction, context: unknown): Record<string, unknown> {
  const parsed = v.safeParse(ACTION_CONTEXT_SCHEMAS[action], context);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0];
  const path = v.getDotPath(issue);
  const field = path === null ? "context" : `context.${path}`;
  throw new VltairError("validation_failed", `${field}: ${issue.message}`, {
    details: { field, action },
  });
}

/** An engine call that throws (a trap inside the module) decides nothing: invalid, fail closed. */
function safely(evaluate: () => LevelsOutcome): LevelsOutcome {
  try {
    return evaluate();
  } catch (error) {
    return { kind: "invalid", problem: `the Cedar engine failed: ${(error as Error).message}` };
  }
}

/**
 * The context's part of a decision cache key: its shape (context-shape.ts) when both levels
 * hold the shipped default, which reads no context, else the context itself.
 */
function contextKey(levels: readonly [LevelView, LevelView], context: unknown): string {
  const shape = levels.every(isShippedDefault) ? contextShape(context) : null;
  return shape === null ? `v${JSON.stringify(context)}` : `s${shape}`;
}
