/**
 * Temporary directories for tests, removed after the run (test/support/preload.ts). Before a
 * directory is removed, every data directory in it must pass `vltair audit verify` (issue 17:
 * "passes on every data dir the test suite produces"), unless the test exempted it with
 * {@link skipAuditCheck} (damaged on purpose, or no app data dir at all).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  createRunsMachine,
  foldJournal,
  RUNS_MACHINE,
  type RunsState,
  sseFrame,
} from "../../src/orchestrator/mod.ts";
import { verifyAuditDir } from "../../src/policy/audit/mod.ts";
import { foldOffline } from "../../src/storage/mod.ts";

const made: string[] = [];
const exempt = new Set<string>();

/** A fresh empty directory under the run's temp root; removed when the run ends. */
export function tempDir(prefix = "vltair-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/**
 * Exempts a directory (and every data dir under it) from the audit check at removal; `why` says
 * why, for the reader (a log damaged on purpose, a storage-engine fixture without app machines).
 */
export function skipAuditCheck(dir: string, why: string): void {
  if (why.trim() === "") throw new Error("skipAuditCheck needs a reason");
  exempt.add(path.resolve(dir));
}

/** Data directories (they hold a `wal/` directory) under `root`, a few levels deep. */
function dataDirsUnder(root: string, depth = 3): string[] {
  if (depth < 0 || !fs.existsSync(root)) return [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  if (entries.some((e) => e.isDirectory() && e.name === "wal")) return [root];
  return entries
    .filter((e) => e.isDirectory())
    .flatMap((e) => dataDirsUnder(path.join(root, e.name), depth - 1));
}

/** Every data directory made by the tests whose audit trail does not verify. */
export function unverifiedDataDirs(): string[] {
  const bad: string[] = [];
  for (const dir of made) {
    if (exempt.has(path.resolve(dir))) continue;
    for (const dataDir of dataDirsUnder(dir)) {
      if (exempt.has(path.resolve(dataDir))) continue;
      const report = verifyAuditDir(dataDir);
      if (!report.ok) bad.push(`${dataDir}: ${JSON.stringify(report)}`);
      else bad.push(...unreplayableRuns(dataDir));
    }
  }
  return bad;
}

/**
 * Runs of `dataDir` whose replay (the events folded again from the run's journal, what
 * `/replay` serves) differs from the events the state holds (what `/events` streamed live):
 * issue 16's "replay equals the live stream for every run of the test suite".
 */
function unreplayableRuns(dataDir: string): string[] {
  const fold = foldOffline(dataDir, [createRunsMachine()]);
  if (!fold.ok) return [];
  const state = fold.states.get(RUNS_MACHINE) as RunsState | undefined;
  const bad: string[] = [];
  for (const [id, entry] of state?.runs ?? []) {
    const live = entry.events.map((e) => sseFrame(id, e)).join("");
    const replayed = (foldJournal(entry.journal)?.events ?? [])
      .map((e) => sseFrame(id, e))
      .join("");
    if (live !== replayed) bad.push(`${dataDir}: run ${id}'s replay differs from its live events`);
  }
  return bad;
}

/** Removes every directory {@link tempDir} made so far (the preload calls it after the run). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
