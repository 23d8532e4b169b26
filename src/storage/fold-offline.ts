/**
 * Folds a data directory's log (newest valid snapshot, then the records after it) into fresh
 * states of the given machines, reading files only — no lock, no writes — so offline tools
 * (`vltair audit verify`) can check a copy of a data dir, or one a server is using.
 */
import { dataDirPaths } from "./data-dir.ts";
import { resolveLimits, type StorageLimits } from "./options.ts";
import { replay } from "./replay.ts";
import { type AnyStateMachine, MachineRegistry } from "./state-machine.ts";
import { type VerifyReport, verifyWal } from "./verify.ts";

/** The states, or the damage that stopped the fold. */
export type OfflineFold =
  | { ok: true; states: Map<string, unknown>; walIndex: number; wal: VerifyReport }
  | { ok: false; wal: VerifyReport };

/**
 * Folds `dir` into `machines`' states. Records of other machines are skipped.
 *
 * @example
 * ```ts
 * const fold = foldOffline(dir, [createAuditMachine()]);
 * if (fold.ok) fold.states.get("audit");
 * ```
 */
export function foldOffline(
  dir: string,
  machines: readonly AnyStateMachine[],
  options: { limits?: Partial<StorageLimits> } = {},
): OfflineFold {
  const wal = verifyWal(dir, options);
  if (!wal.ok) return { ok: false, wal };
  const registry = new MachineRegistry();
  for (const machine of machines) registry.register(machine);
  const result = replay(
    registry,
    dataDirPaths(dir),
    { walIndex: wal.lastIndex },
    { limits: resolveLimits(options.limits), lastIndex: wal.lastIndex, log: () => {} },
  );
  return { ok: true, states: result.states, walIndex: result.walIndex, wal };
}
