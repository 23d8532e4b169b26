/**
 * Runs across a restart of the app over the same data directory (issue 16, crash semantics): a
 * run whose only unfinished work at the restart is a retry waiting for its backoff resumes once
 * that time comes — the retry timer is armed again by the recovery, not only by a new commit.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { type TestApp, testApp } from "../../support/app.ts";
import { ManualTimers } from "../../support/manual-timers.ts";
import { poll } from "../../support/process.ts";
import { tempDir } from "../../support/tmp.ts";

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of the API under test
type Json = any;

const apps: TestApp[] = [];
afterAll(async () => {
  for (const t of apps) await t.app.close();
});

function open(dataDir: string, timers: ManualTimers): TestApp {
  const t = testApp({ data_dir: dataDir }, { timers });
  apps.push(t);
  return t;
}

async function runOf(t: TestApp, id: string): Promise<Json> {
  return (await t.request(`/v1/runs/${id}`)).json();
}

describe("runs across a restart", () => {
  test("a retry waiting for its backoff at the restart runs when its time comes", async () => {
    const dataDir = tempDir();
    const timers = new ManualTimers();
    const first = open(dataDir, timers);
    const workflow = {
      steps: [
        { id: "flaky", kind: "echo", retry: { max_attempts: 2 }, with: { fail_attempts: 1 } },
      ],
    };
    const created = await first.request("/v1/runs", {
      method: "POST",
      body: JSON.stringify({ workflow }),
    });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as Json).run_id;
    await poll(() => (timers.armed === 1 ? true : undefined), 10_000, "the retry timer");
    await first.app.close();
    // The second life of the data dir, on a clock past the retry time.
    const later = new ManualTimers(timers.nowMs() + 5_000);
    const second = open(dataDir, later);
    expect((await runOf(second, id)).steps[0].attempts).toHaveLength(1);
    let run: Json = null;
    await poll(
      () => {
        void runOf(second, id).then((r) => {
          run = r;
        });
        return run?.status === "succeeded" ? run : undefined;
      },
      10_000,
      "the retried run's end",
    );
    expect(run.steps[0].attempts).toHaveLength(2);
  });

  test("a retry whose time has not come at the restart waits for it, then runs", async () => {
    const dataDir = tempDir();
    const timers = new ManualTimers();
    const first = open(dataDir, timers);
    const workflow = {
      steps: [
        { id: "flaky", kind: "echo", retry: { max_attempts: 2 }, with: { fail_attempts: 1 } },
      ],
    };
    const created = await first.request("/v1/runs", {
      method: "POST",
      body: JSON.stringify({ workflow }),
    });
    const id = ((await created.json()) as Json).run_id;
    await poll(() => (timers.armed === 1 ? true : undefined), 10_000, "the retry timer");
    await first.app.close();
    const later = new ManualTimers(timers.nowMs());
    const second = open(dataDir, later);
    expect((await runOf(second, id)).status).toBe("running");
    await poll(() => (later.armed >= 1 ? true : undefined), 3_000, "the retry timer re-armed");
    later.advance(1_100); // 1 s ± 10 %
    let run: Json = null;
    await poll(
      () => {
        void runOf(second, id).then((r) => {
          run = r;
        });
        return run?.status === "succeeded" ? run : undefined;
      },
      10_000,
      "the retried run's end",
    );
    expect(run.steps[0].attempts).toHaveLength(2);
  });
});
