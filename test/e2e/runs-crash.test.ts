// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflows reference values as ${…} text
/**
 * Runs survive `kill -9` of the server (issue 16, phase 1): a real server process is killed
 * while its runs are mid-way, several times; after each restart every unfinished run resumes,
 * and in the end every run has succeeded once, every step completed exactly once (a completed
 * step is never run again; a started one runs again with the same attempt number, counting
 * `restarts`), the context write of each run exists once, and the replay of every run is the
 * same bytes before and after a restart (a prefix of it, until the run has ended).
 */
import { describe, expect, test } from "bun:test";
import { hasPosixSignals } from "../../src/platform/mod.ts";
import { BUN, type Child, MAIN, poll, readyUrl, start } from "../support/process.ts";
import { seededRandom } from "../support/random.ts";
import { tempDir } from "../support/tmp.ts";

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of the API under test
type Json = any;

const TOKEN = "runs-crash-admin-token-0123456789";
const env = { VLTAIR_ADMIN_TOKEN: TOKEN };
const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const RUNS = 4;
const KILLS = Number(process.env.VLTAIR_SLOW) === 1 ? 10 : 3;

async function serve(cwd: string): Promise<{ child: Child; url: string }> {
  const child = start(BUN, [MAIN, "serve", "--port", "0"], { cwd, env });
  return { child, url: await readyUrl(child) };
}

async function get(url: string): Promise<Json> {
  return (await fetch(url, { headers })).json();
}

const workflow = (n: number) => ({
  steps: [
    { id: "first", kind: "echo", with: { value: n } },
    {
      id: "save",
      kind: "context.upsert",
      needs: ["first"],
      with: { items: [{ id: `run-${n}`, text: "run ${run.id} wrote this" }] },
    },
    { id: "slow1", kind: "echo", needs: ["save"], with: { value: 1, delay_ms: 400 } },
    { id: "slow2", kind: "echo", needs: ["slow1"], with: { value: 2, delay_ms: 400 } },
    { id: "slow3", kind: "echo", needs: ["slow2"], with: { value: 3, delay_ms: 400 } },
    { id: "last", kind: "echo", needs: ["slow3"], with: { value: "${steps.first.output}" } },
  ],
});

const completions = (text: string) =>
  [...text.matchAll(/"type":"step.completed","ts":"[^"]+","step_id":"(\w+)"/g)].map((m) => m[1]);

describe.if(hasPosixSignals())("runs under kill -9", () => {
  test("every run resumes and ends once; no completed step runs again; replays are stable", async () => {
    const cwd = tempDir();
    const random = seededRandom(16);
    let server = await serve(cwd);
    const ids: string[] = [];
    for (let n = 0; n < RUNS; n++) {
      const r = await fetch(`${server.url}/v1/runs`, {
        method: "POST",
        headers,
        body: JSON.stringify({ workflow: workflow(n) }),
      });
      expect(r.status).toBe(201);
      ids.push(((await r.json()) as Json).run_id);
    }
    const replays = new Map<string, string>();
    let killedMidStep = 0;
    let restarts = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      // Kill at a seeded random point while the runs are mid-way.
      const waitMs = Math.floor(random() * 300);
      const deadline = performance.now() + waitMs;
      await poll(() => (performance.now() >= deadline ? true : undefined), 5_000, "kill point");
      const running = await Promise.all(ids.map((id) => get(`${server.url}/v1/runs/${id}`)));
      const midStep = running.some((r: Json) => r.steps.some((st: Json) => st.state === "running"));
      for (const id of ids)
        replays.set(
          id,
          await (await fetch(`${server.url}/v1/runs/${id}/replay`, { headers })).text(),
        );
      server.child.proc.kill("SIGKILL");
      if (midStep) killedMidStep += 1;
      expect(await server.child.exited).toBe(137);
      server = await serve(cwd);
      for (const id of ids) {
        const after = await (await fetch(`${server.url}/v1/runs/${id}/replay`, { headers })).text();
        // What was replayed before the kill is still there, byte for byte (the log is the truth).
        expect(after.startsWith(replays.get(id) as string)).toBe(true);
      }
    }
    for (const id of ids) {
      let run: Json = null;
      await poll(
        () => {
          void get(`${server.url}/v1/runs/${id}`).then((r) => {
            run = r;
          });
          return run?.status === "succeeded" ? true : undefined;
        },
        20_000,
        `run ${id} succeeded`,
      );
      const live = await (await fetch(`${server.url}/v1/runs/${id}/events`, { headers })).text();
      const replay = await (await fetch(`${server.url}/v1/runs/${id}/replay`, { headers })).text();
      expect(replay).toBe(live);
      const steps = run.steps.map((s: Json) => s.id);
      expect(completions(live).sort()).toEqual([...steps].sort());
      for (const step of run.steps) expect(step.attempts).toHaveLength(1);
      for (const step of run.steps) restarts += step.attempts[0].restarts;
      expect(run.steps.at(-1).output).toBe(ids.indexOf(id));
      const doc = await get(`${server.url}/v1/context/docs/run-${ids.indexOf(id)}/versions`);
      expect(doc.versions).toHaveLength(1);
    }
    // A kill during a step made it start again (same attempt, one more restart).
    if (killedMidStep > 0) expect(restarts).toBeGreaterThan(0);
    server.child.proc.kill("SIGTERM");
    expect(await server.child.exited).toBe(0);
  }, 120_000);
});
