/**
 * `vltair audit verify`: checks a data directory offline — every WAL record's checksum, then
 * every tenant's chain folded from the newest snapshot and the records after it — and names
 * the first broken record: an edit, a deletion or a reordering of audit records, or any damaged
 * record of the log.
 */
import { foldOffline, type StorageLimits } from "../../storage/mod.ts";
import { AUDIT_MACHINE, type AuditState, createAuditMachine } from "./machine.ts";
import type { ChainBreak } from "./record.ts";
import { verifyState } from "./service.ts";

/** What `vltair audit verify` reports. */
export interface AuditDirReport {
  ok: boolean;
  chains: number;
  records: number;
  /** The first broken chain link found, or null. */
  first_broken: ChainBreak | null;
  /** A record of the log whose frame is damaged (checksum, length), or null. */
  wal_corruption: { wal_index: number; problem: string } | null;
}

/**
 * Verifies the audit chains of the data directory `dir`.
 *
 * @example
 * ```ts
 * const report = verifyAuditDir("./.vltair");
 * process.exitCode = report.ok ? 0 : 1;
 * ```
 */
export function verifyAuditDir(
  dir: string,
  options: { limits?: Partial<StorageLimits> } = {},
): AuditDirReport {
  let fold: ReturnType<typeof foldOffline>;
  try {
    fold = foldOffline(dir, [createAuditMachine()], options);
  } catch (error) {
    // A log that cannot be folded (no usable snapshot before a gap): nothing verifies.
    const problem = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      chains: 0,
      records: 0,
      first_broken: null,
      wal_corruption: { wal_index: 0, problem },
    };
  }
  if (!fold.ok) {
    const damage = fold.wal.corruption;
    return {
      ok: false,
      chains: 0,
      records: 0,
      first_broken: null,
      wal_corruption:
        damage === null ? null : { wal_index: damage.walIndex, problem: damage.problem },
    };
  }
  const state = fold.states.get(AUDIT_MACHINE) as AuditState;
  const report = verifyState(state);
  return {
    ok: report.broken.length === 0,
    chains: report.chains,
    records: report.records,
    first_broken: report.broken[0] ?? null,
    wal_corruption: null,
  };
}
