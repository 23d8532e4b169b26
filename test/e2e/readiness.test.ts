/**
 * Readiness under a real restart (API.md "Readiness"): the port opens early, health and ready
 * answer while the server recovers, and every data route answers either 503 `unavailable`
 * (`recovering`, with Retry-After) or the full, correct answer — never a 500, never an answer
 * from a partly recovered state.
 */
import { describe, expect, test } from "bun:test";
import { hasPosixSignals } from "../../src/platform/mod.ts";
import { ADMIN } from "../support/app.ts";
import { contextApp, type Json } from "../support/context.ts";
import { BUN, listeningUrl, MAIN, start } from "../support/process.ts";
import { seededRandom } from "../support/random.ts";

/** Documents written before the restart: enough that recovery takes well over 300 ms. */
const DOCS = 24_000;
const BATCH = 500;
const WORDS = [
  "alpha",
  "beta",
  "gamma",
  "delta",
  "lock",
  "queue",
  "parse",
  "token",
  "index",
  "merge",
];

function textOf(random: () => number, n: number): string {
  const words: string[] = [`doc${n}`];
  for (let i = 0; i < 24; i++) words.push(WORDS[Math.floor(random() * WORDS.length)] as string);
  return words.join(" ");
}

interface Expected {
  dataDir: string;
  doc: Json;
  search: Json;
}

const SEARCH = { query: "lock queue doc777", k: 5, strategy: "sparse" };

async function buildDataDir(): Promise<Expected> {
  const t = await contextApp({ embedder: '{"provider":"none"}' });
  const random = seededRandom(20261204);
  for (let at = 0; at < DOCS; at += BATCH) {
    const items = [];
    for (let n = at; n < at + BATCH; n++)
      items.push({ id: `d${n}`, scope: { kind: "global" }, text: textOf(random, n) });
    const r = await t.post("/v1/context/docs:upsert", { items });
    expect(r.status).toBe(200);
  }
  const doc = await t.call("GET", "/v1/context/docs/d777");
  const search = await t.post("/v1/context/search", SEARCH);
  expect(search.body.results.length).toBe(5);
  await t.app.close();
  return { dataDir: t.config.data_dir, doc: doc.body, search: search.body };
}

/** The answer without fields that differ between two identical requests. */
function stable(body: Json): Json {
  const { took_ms: _took, ...rest } = body;
  return rest;
}

describe.if(hasPosixSignals())("readiness during recovery", () => {
  test("data routes answer 503 recovering or the full answer; health answers meanwhile", async () => {
    const expected = await buildDataDir();
    const child = start(
      BUN,
      [
        MAIN,
        "serve",
        "--port",
        "0",
        "--data-dir",
        expected.dataDir,
        "--embedder",
        '{"provider":"none"}',
        // The records were written on the test clock (2026-01-01): keep them, so that retention
        // appends nothing and answers stand at the same wal_index as before the restart.
        "--audit-retention-days",
        "36500",
      ],
      { env: { VLTAIR_ADMIN_TOKEN: ADMIN } },
    );
    try {
      const url = await listeningUrl(child);
      const auth = { authorization: `Bearer ${ADMIN}` };
      const seen = { recovering: 0, full: 0, healthWhileRecovering: 0 };
      const deadline = performance.now() + 60_000;
      let ready = false;
      while (!ready || seen.full < 4) {
        expect(performance.now()).toBeLessThan(deadline);
        const [health, readyRes, doc, search] = await Promise.all([
          fetch(`${url}/v1/health`),
          fetch(`${url}/v1/ready`),
          fetch(`${url}/v1/context/docs/d777`, { headers: auth }),
          fetch(`${url}/v1/context/search`, {
            method: "POST",
            headers: auth,
            body: JSON.stringify(SEARCH),
          }),
        ]);
        expect(health.status).toBe(200);
        await health.arrayBuffer();
        const answers = [
          { res: doc, want: expected.doc },
          { res: search, want: expected.search },
        ];
        for (const { res, want } of answers) {
          const body = await res.json();
          if (res.status === 503) {
            expect(body.error.code).toBe("unavailable");
            expect(body.error.details.reason).toBe("recovering");
            expect(res.headers.get("retry-after")).toBe("1");
            seen.recovering++;
          } else {
            expect(res.status).toBe(200);
            expect(stable(body)).toEqual(stable(want));
            seen.full++;
          }
        }
        const readyBody = await readyRes.json();
        if (readyRes.status === 503) {
          expect(readyBody.error.details.reason).toBe("recovering");
          seen.healthWhileRecovering++;
        } else {
          expect(readyRes.status).toBe(200);
          ready = true;
        }
      }
      const recovered = child
        .stdout()
        .split("\n")
        .filter((l) => l.includes('"storage.recovered"'))
        .map((l) => JSON.parse(l))[0];
      expect(recovered.durationMs).toBeGreaterThanOrEqual(300);
      // Requests were answered while recovery ran, not queued behind it.
      expect(seen.recovering).toBeGreaterThan(0);
      expect(seen.healthWhileRecovering).toBeGreaterThan(1);
    } finally {
      child.proc.kill("SIGKILL");
      await child.exited;
    }
  }, 120_000);
});
