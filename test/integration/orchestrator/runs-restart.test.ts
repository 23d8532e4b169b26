/**
 * Runs across a restart of the app over the same data directory (issue 16, crash semantics): a
 * run whose only unfinished work at the restart is a retry waiting for its backoff resumes once
 * that time comes — the retry timer is armed again by the recovery, not only by a new commit.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflows reference values as ${…} text
import { afterAll, describe, expect, test } from "bun:test";
import { createRunsMachine, RUNS_MACHINE, type RunsState } from "../../../src/orchestrator/mod.ts";
import { foldOffline } from "../../../src/storage/mod.ts";
import { type TestApp, testApp } from "../../support/app.ts";
import { ManualTimers } from "../../support/manual-timers.ts";
import { poll } from "../../support/process.ts";
import { callJson, runOf, runUntil, startRun } from "../../support/runs.ts";
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

describe("finished runs restored from a snapshot", () => {
  test("are folded only when read, and read, list, replay and deduplicate as before", async () => {
    const dataDir = tempDir();
    const timers = new ManualTimers();
    const first = open(dataDir, timers);
    const pure = { steps: [{ id: "a", kind: "echo", with: { value: "${input.n}" } }] };
    const done: string[] = [];
    for (let n = 0; n < 3; n++)
      done.push(await startRun(first, { workflow: pure, input: { n }, idempotency_key: `k${n}` }));
    const gated = await startRun(first, {
      workflow: { steps: [{ id: "w", kind: "wait", with: { signal: "go" } }] },
    });
    await runUntil(first, gated, "waiting");
    const replays = await Promise.all(
      done.map(async (id) => (await first.request(`/v1/runs/${id}/replay`)).text()),
    );
    const listed = (await callJson(first, "/v1/runs")).body;
    expect((await callJson(first, "/v1/admin/snapshot", { body: {} })).status).toBe(200);
    await first.app.close();

    // Restored from the snapshot, the finished runs are briefs with their journal text.
    const offline = foldOffline(dataDir, [createRunsMachine()]);
    const state = (offline.ok ? offline.states.get(RUNS_MACHINE) : undefined) as RunsState;
    for (const id of done) expect(state.runs.get(id)?.folded).toBe(false);
    expect(state.runs.get(gated)?.brief().status).toBe("waiting");
    const second = open(dataDir, timers);
    expect((await callJson(second, "/v1/runs")).body).toEqual(listed);
    for (const [i, id] of done.entries()) {
      expect(await (await second.request(`/v1/runs/${id}/replay`)).text()).toBe(
        replays[i] as string,
      );
      expect((await runOf(second, id)).steps[0].output).toBe(i);
    }
    const again = await callJson(second, "/v1/runs", {
      body: { workflow: pure, input: { n: 0 }, idempotency_key: "k0" },
    });
    expect(again.status).toBe(200);
    expect(again.body.run_id).toBe(done[0]);
    await callJson(second, `/v1/runs/${gated}:signal`, { body: { name: "go" } });
    await runUntil(second, gated, "succeeded");
  });
});
