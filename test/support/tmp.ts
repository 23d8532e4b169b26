/**
 * Temporary directories for tests, removed after the run (test/support/preload.ts). Before a
 * directory is removed, every data directory in it must pass `vltair audit verify` (issue 17:
 * "passes on every data dir the test suite produces"), unless the test exempted it with
 * {@link skipAuditCheck} (damaged on purpose, or no app data dir at all).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { verifyAuditDir } from "../../src/policy/audit/mod.ts";

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
    }
  }
  return bad;
}

/** Removes every directory {@link tempDir} made so far (the preload calls it after the run). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
