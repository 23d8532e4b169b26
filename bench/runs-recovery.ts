// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflows reference values as ${…} text
/**
 * Recovery of many finished runs (issue 16: "recovery of 100k run records < 2 s", "RSS after 10k
 * finished runs"). The in-process app (createApp, the server's composition root) creates N runs
 * of bench/runs.ts's 3-step `echo` chain through the RunService, 64 at a time, each
 * awaited until it has succeeded (`wal_fsync: none` while building: the durability of the build is
 * not what is measured); the process's RSS is read after a full GC before the first run and after
 * 10k. Then a fresh process opens the data dir and times `createApp` + `start()` (recovery,
 * resume, sweep: until the server would answer `ready`), with the storage's recovery report —
 * first as the build left it (snapshots by the default thresholds), then once more after a
 * snapshot at the end of the log. There is no peer: the figures stand against the target.
 *
 * Prints one JSON object.
 *
 *   npx bun bench/runs-recovery.ts [N]          (default 100000)
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { type App, createApp, systemClocks } from "../src/app/app.ts";
import { loadConfig } from "../src/config/mod.ts";
import { localCall } from "../src/core/mod.ts";
import { createLogger } from "../src/obs/mod.ts";
import type { Workflow } from "../src/orchestrator/mod.ts";
import { collectGarbage } from "../src/platform/mod.ts";
import { ADMIN_PRINCIPAL } from "../src/policy/mod.ts";

const TOKEN = "bench-runs-recovery-admin-token-0123456789";
const CONCURRENCY = 64;
/** Runs after which the RSS is read (the "RSS after 10k finished runs"). */
const RSS_AT_RUNS = 10_000;

const WORKFLOW: Workflow = {
  steps: [
    { id: "a", kind: "echo", with: { value: 1 } },
    { id: "b", kind: "echo", needs: ["a"], with: { value: "${steps.a.output}" } },
    { id: "c", kind: "echo", needs: ["b"], with: { value: "${steps.b.output}" } },
  ],
};

function openApp(dataDir: string, walFsync: string, logs: string[]): App {
  const { config } = loadConfig({
    flags: { data_dir: dataDir, wal_fsync: walFsync },
    env: { VLTAIR_ADMIN_TOKEN: TOKEN },
    readFile: () => "",
  });
  const log = createLogger({
    level: "info",
    write: (line) => {
      if (line.includes('"storage.recovered"')) logs.push(line);
    },
  });
  return createApp(config, { log, clocks: systemClocks });
}

function rssAfterGcBytes(): number {
  collectGarbage();
  return process.memoryUsage().rss;
}

/** Creates `total` runs and waits for each to succeed; returns the RSS after `RSS_AT_RUNS`. */
async function build(dataDir: string, total: number) {
  const app = openApp(dataDir, "none", []);
  await app.start();
  const rssBeforeBytes = rssAfterGcBytes();
  let rssAt10kBytes: number | null = null;
  let next = 0;
  let done = 0;
  const startedMs = performance.now();
  const worker = async () => {
    while (next < total) {
      const n = next++;
      const call = localCall(ADMIN_PRINCIPAL, n.toString(16).padStart(32, "0"));
      const started = await app.runs.start(call, { workflow: WORKFLOW, input: { n } });
      const run = await app.runs.wait(call, started.run_id, 60_000);
      if (run.status !== "succeeded") throw new Error(`run ${n} ended ${run.status}`);
      done += 1;
      if (done === RSS_AT_RUNS) rssAt10kBytes = rssAfterGcBytes();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const buildMs = performance.now() - startedMs;
  const walRecords = app.storage.lastIndex;
  await app.close();
  return { buildMs, walRecords, rssBeforeBytes, rssAt10kBytes };
}

/** The child: open the data dir, recover, report (and take a snapshot when asked). */
async function recoverChild(dataDir: string, snapshot: boolean): Promise<void> {
  const logs: string[] = [];
  const t0 = performance.now();
  const app = openApp(dataDir, "always", logs);
  const openedMs = performance.now() - t0;
  await app.start();
  const readyMs = performance.now() - t0;
  const rssReadyBytes = process.memoryUsage().rss;
  const report = logs.length === 0 ? null : JSON.parse(logs[0] as string);
  if (snapshot) await app.storage.takeSnapshot();
  await app.close();
  const out = { openedMs, readyMs, rssReadyBytes, report };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function recoverInChild(dataDir: string, snapshot: boolean) {
  const args = [import.meta.filename, "--recover", dataDir, ...(snapshot ? ["--snapshot"] : [])];
  const child = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 26 });
  if (child.status !== 0) throw new Error(`recovery child failed: ${child.stderr}`);
  const line = child.stdout.trim().split("\n").at(-1) as string;
  return JSON.parse(line) as {
    openedMs: number;
    readyMs: number;
    rssReadyBytes: number;
    report: Record<string, unknown> | null;
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function main(): Promise<void> {
  const recoverAt = process.argv.indexOf("--recover");
  if (recoverAt >= 0) {
    await recoverChild(process.argv[recoverAt + 1] as string, process.argv.includes("--snapshot"));
    return;
  }
  const arg = process.argv[2];
  const total = arg === undefined ? 100_000 : Number(arg);
  if (!Number.isSafeInteger(total) || total <= 0) throw new Error("N must be a positive integer");
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "vltair-bench-runs-recovery-"));
  try {
    const built = await build(dataDir, total);
    const walBytes = fs
      .readdirSync(path.join(dataDir, "wal"))
      .reduce((sum, f) => sum + fs.statSync(path.join(dataDir, "wal", f)).size, 0);
    // The first child also snapshots at the end of the log, for the second.
    const asBuilt = recoverInChild(dataDir, true);
    const fromSnapshot = recoverInChild(dataDir, false);
    const targetMs = 2_000;
    const figures = (r: typeof asBuilt) => ({
      open_ms: round(r.openedMs),
      ready_ms: round(r.readyMs),
      ratio_to_target: round(r.readyMs / targetMs),
      rss_ready_bytes: r.rssReadyBytes,
      recovered: r.report,
    });
    const result = {
      bench: "runs-recovery",
      runtime: `bun ${Bun.version}`,
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model ?? null,
      load_average: os.loadavg().map((l) => round(l)),
      runs: total,
      workflow_steps: WORKFLOW.steps.length,
      wal_records: built.walRecords,
      wal_bytes: walBytes,
      build_ms: round(built.buildMs),
      runs_per_s_build: round((total / built.buildMs) * 1000),
      rss_before_runs_bytes: built.rssBeforeBytes,
      rss_after_10k_runs_bytes: built.rssAt10kBytes,
      target_recovery_ms: targetMs,
      recovery_as_built: figures(asBuilt),
      recovery_from_snapshot: figures(fromSnapshot),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
