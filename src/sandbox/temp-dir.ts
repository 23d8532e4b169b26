/**
 * The per-run temp dir `vltair-<traceId>-<n>` (AR-17): created before the run with `home/` and
 * `tmp/` inside, removed on every outcome. The name is bounded (trace ids are at most 32 hex
 * characters) so Windows long-path limits are not reached under a normal temp root.
 */
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { assert } from "../core/mod.ts";

const TRACE_ID = /^[0-9a-f]{1,32}$/;
let runCounter = 0;

/** Paths of one run's temp dir. */
export interface RunTempDir {
  root: string;
  home: string;
  tmp: string;
}

/** The directory name of a run; `n` is a per-process counter so two runs of one trace differ. */
export function runTempDirName(traceId: string, n: number): string {
  assert(TRACE_ID.test(traceId), "trace id is 1-32 lowercase hex characters");
  assert(Number.isInteger(n) && n > 0, "run counter is a positive integer");
  return `vltair-${traceId}-${n}`;
}

/** Creates the run's temp dir (mode 0700) under `tempRoot`. */
export async function createRunTempDir(tempRoot: string, traceId: string): Promise<RunTempDir> {
  runCounter += 1;
  const root = join(tempRoot, runTempDirName(traceId, runCounter));
  await mkdir(root, { recursive: false, mode: 0o700 });
  const home = join(root, "home");
  const tmp = join(root, "tmp");
  await mkdir(home, { mode: 0o700 });
  await mkdir(tmp, { mode: 0o700 });
  return { root, home, tmp };
}

/** Removes the run's temp dir; returns false (never throws) when it is still there afterwards. */
export async function removeRunTempDir(dir: RunTempDir): Promise<boolean> {
  try {
    await rm(dir.root, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // Reported below through the existence check, which is what the caller needs.
  }
  try {
    await stat(dir.root);
    return false;
  } catch {
    return true;
  }
}
