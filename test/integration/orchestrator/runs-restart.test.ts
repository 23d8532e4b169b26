/**
 * Runs across a restart of the app over the same data directory (issue 16, crash semantics): a
 * run whose only unfinished work at the restart is a retry waiting for its backoff resumes once
 * that time comes — the retry timer is armed again by the recovery, not only by a new commit.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { type TestApp, testApp } from "../../support/app.ts";
import { ManualTimers } from "../../support/manual-timers.ts";
import { poll } from "../../support/process.ts";
import { runOf, runUntil, startRun } from "../../support/runs.ts";
import { tempDir } from "../../support/tmp.ts";

const apps: TestApp[] = [];
afterAll(async () => {
  for (const t of apps) await t.app.close();
});

function open(dataDir: string, timers: ManualTimers): TestApp {
  const t = testApp({ data_dir: dataDir }, { timers });
  apps.push(t);
  return t;
}

const flaky = {
  steps: [{ id: "flaky", kind: "echo", retry: { max_attempts: 2 }, with: { fail_attempts: 1 } }],
};

/** A run whose first attempt failed retryably; the app is closed while the retry waits. */
async function closedWhileRetrying(): Promise<{ dataDir: string; id: string; nowMs: number }> {
  const dataDir = tempDir();
  const timers = new ManualTimers();
  const first = open(dataDir, timers);
  const id = await startRun(first, { workflow: flaky });
  await poll(() => (timers.armed === 1 ? true : undefined), 3_000, "the retry timer");
  await first.app.close();
  return { dataDir, id, nowMs: timers.nowMs() };
}

describe("runs across a restart", () => {
  test("a retry due at the restart runs", async () => {
    const before = await closedWhileRetrying();
    const second = open(before.dataDir, new ManualTimers(before.nowMs + 5_000));
    expect((await runOf(second, before.id)).steps[0].attempts).toHaveLength(1);
    expect((await runUntil(second, before.id, "succeeded")).steps[0].attempts).toHaveLength(2);
  });

  test("a retry not yet due at the restart waits for its time, then runs", async () => {
    const before = await closedWhileRetrying();
    const later = new ManualTimers(before.nowMs);
    const second = open(before.dataDir, later);
    expect((await runOf(second, before.id)).status).toBe("running");
    await poll(() => (later.armed >= 1 ? true : undefined), 3_000, "the retry timer re-armed");
    later.advance(1_100); // 1 s ± 10 %
    expect((await runUntil(second, before.id, "succeeded")).steps[0].attempts).toHaveLength(2);
  });
});
