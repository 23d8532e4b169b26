/**
 * Preloaded before every test file (bunfig.toml `[test] preload`), by `npm test` and by a plain
 * `bun test` alike. It gives the run its own temp root: `TMPDIR` points at a fresh
 * `vltair-run-*` directory, so everything the tests and the processes they start put in the
 * temp dir lands there. After the last file, the directories made by `tempDir()` are removed
 * and the root must be empty: an entry left behind fails the run, naming it, and the root is
 * removed either way, so the machine's temp dir holds nothing new afterwards. Every data
 * directory the tests made must pass `vltair audit verify`, and every run in it must replay to
 * the events it streamed live.
 */
import { afterAll } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { removeTempDirs, unverifiedDataDirs } from "./tmp.ts";

const outerTmp = os.tmpdir();
const runRoot = fs.mkdtempSync(path.join(outerTmp, "vltair-run-"));
// Like /tmp itself: tests that run commands as another user (nobody) must reach their files.
fs.chmodSync(runRoot, 0o1777);
process.env.TMPDIR = runRoot;

afterAll(() => {
  const startedMs = performance.now();
  const unverified = unverifiedDataDirs();
  if (process.env.VLTAIR_AUDIT_TIMING === "1")
    console.error(
      `audit verify of test data dirs: ${Math.round(performance.now() - startedMs)} ms`,
    );
  removeTempDirs();
  const left = fs.readdirSync(runRoot);
  fs.rmSync(runRoot, { recursive: true, force: true });
  process.env.TMPDIR = outerTmp;
  if (unverified.length > 0) {
    throw new Error(
      `${unverified.length} data directories made by the tests fail 'vltair audit verify' or ` +
        `have a run whose replay differs from its live events (exempt one damaged on purpose ` +
        `with skipAuditCheck): ${unverified.slice(0, 5).join("; ")}`,
    );
  }
  if (left.length > 0) {
    throw new Error(
      `tests left ${left.length} entries in the temp dir (each test must remove what it ` +
        `creates): ${left.slice(0, 20).join(", ")}`,
    );
  }
}, 120_000);
