/**
 * What a sandbox run costs its tenant's budgets: `sandbox_runs` (1 per run that started) and
 * `sandbox_cpu_ms` (the CPU time the sandbox measured). Both are held before the run, so a
 * tenant whose budget has no room is refused (`429 budget_exceeded`) before anything starts,
 * and settled after it with what was spent.
 */
import type { Call } from "../core/mod.ts";
import type { Logger } from "../obs/mod.ts";
import type { BudgetService, Hold } from "../policy/budgets/mod.ts";
import type { RunCharge } from "../sandbox/mod.ts";

/**
 * The `sandbox_cpu_ms` held for a run that asks no `limits.cpu_ms`: 1 ms. Its real CPU time is
 * unknown until it ended, so the hold only checks that the budget has room at all; the measured
 * figure replaces it. A run that asks a CPU limit holds that limit (its largest expected spend).
 */
export const CPU_MS_HOLD_DEFAULT = 1;

/**
 * The sandbox service's `charge` option for `budgets`.
 *
 * @example
 * ```ts
 * makeSandboxService({ …, charge: sandboxCharge(budgets, log) });
 * ```
 */
export function sandboxCharge(budgets: BudgetService, log: Logger): RunCharge {
  return async (call: Call, run) => {
    const runs = await budgets.reserve(call, "sandbox_runs", 1);
    let cpu: Hold;
    try {
      cpu = await budgets.reserve(call, "sandbox_cpu_ms", run.cpuMsLimit ?? CPU_MS_HOLD_DEFAULT);
    } catch (error) {
      await budgets.settle(call, runs, 0);
      throw error;
    }
    return async (outcome) => {
      await budgets.settle(call, runs, outcome.ran ? 1 : 0);
      // A hold of no budget (id "") settles nothing: a tenant without a CPU budget writes nothing.
      if (cpu.id === "") return;
      // A refused run (SANDBOX_DENIED) ran nothing: 0 is its exact CPU time, not a guess.
      if (outcome.ran && outcome.cpuMs === null && outcome.status !== "SANDBOX_DENIED") {
        log.warn("budget.sandbox_cpu_ms.unmeasured", {
          tenant: call.principal.tenant,
          trace_id: call.traceId,
          status: outcome.status,
          charged: 0,
        });
      }
      await budgets.settle(call, cpu, outcome.cpuMs ?? 0);
    };
  };
}
