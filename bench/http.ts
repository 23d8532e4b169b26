/**
 * Server overhead (issue 14 item 4): the per-request work of vltair's HTTP layer (request id,
 * trace context, auth, readiness, validation, the route, JSON encoding, the access log line,
 * metrics) measured as latency above a bare `Bun.serve` that answers the SAME bytes, in the
 * same run, from the same client, interleaved round by round so that machine noise falls on
 * both. Routes: `GET /v1/health` (public), `GET /v1/context/docs/{id}` (authenticated JSON),
 * `POST /v1/context/search` (sparse, over 500 documents). Both servers are child processes on
 * loopback; the client is this process, one request at a time (latency, not throughput).
 *
 * Prints one JSON object: per route the p50/p95 of both servers and `overhead_p50_ms`.
 *
 *   npx bun bench/http.ts [--requests 4000] [--rounds 8]
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { positiveIntArg } from "./args.ts";
import { startVltair } from "./vltair-server.ts";

const REQUESTS = positiveIntArg("requests", 4000);
const ROUNDS = positiveIntArg("rounds", 8);
const TOKEN = "bench-http-admin-token-0123456789";
const ROOT = path.resolve(import.meta.dirname, "..");
const DOCS = 500;

interface Child {
  url: string;
  stop(): Promise<void>;
}

/** Starts `args` with Bun and waits for its JSON line carrying `"url"`. */
function startServer(args: string[], env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no url from ${args.join(" ")}`)), 30_000);
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const line = out.split("\n").find((l) => l.includes('"url"') && l.includes("ready_url"));
      if (line === undefined) return;
      clearTimeout(timer);
      // Keep draining stdout so the server never blocks on a full pipe.
      resolve({
        url: (JSON.parse(line) as { ready_url: string }).ready_url,
        stop: () =>
          new Promise((done) => {
            child.once("close", () => done());
            child.kill("SIGTERM");
          }),
      });
    });
  });
}

interface Probe {
  name: string;
  method: string;
  path: string;
  body?: string;
  auth: boolean;
}

async function once(
  base: string,
  probe: Probe,
): Promise<{ ms: number; status: number; bytes: string; type: string }> {
  const headers: Record<string, string> = {};
  if (probe.auth) headers.authorization = `Bearer ${TOKEN}`;
  if (probe.body !== undefined) headers["content-type"] = "application/json";
  const start = performance.now();
  const init: RequestInit = { method: probe.method, headers };
  if (probe.body !== undefined) init.body = probe.body;
  const response = await fetch(`${base}${probe.path}`, init);
  const bytes = await response.text();
  return {
    ms: performance.now() - start,
    status: response.status,
    bytes,
    type: response.headers.get("content-type") ?? "",
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vltair-bench-http-"));
  const vltair = await startVltair(path.join(tmp, "data"), TOKEN);
  const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const words = ["lock", "queue", "parse", "token", "merge", "index", "graph", "cache"];
  for (let at = 0; at < DOCS; at += 100) {
    const items = Array.from({ length: 100 }, (_, i) => ({
      id: `d${at + i}`,
      text: Array.from({ length: 40 }, (_, j) => words[(at + i * 7 + j * 3) % words.length]).join(
        " ",
      ),
    }));
    const r = await fetch(`${vltair.url}/v1/context/docs:upsert`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ items }),
    });
    if (r.status !== 200) throw new Error(`upsert ${r.status}`);
  }
  const probes: Probe[] = [
    { name: "health", method: "GET", path: "/v1/health", auth: false },
    { name: "get_doc", method: "GET", path: "/v1/context/docs/d42", auth: true },
    {
      name: "search_sparse_500",
      method: "POST",
      path: "/v1/context/search",
      body: JSON.stringify({ query: "lock queue", k: 10, strategy: "sparse" }),
      auth: true,
    },
  ];
  // The bare server answers each probe with the bytes vltair answered (health: its uptime changes,
  // the size does not matter), so both write the same response.
  const answers: Record<string, { bytes: string; type: string }> = {};
  for (const p of probes) {
    const a = await once(vltair.url, p);
    if (a.status !== 200) throw new Error(`${p.name}: ${a.status} ${a.bytes}`);
    answers[p.path] = { bytes: a.bytes, type: a.type };
  }
  const answersFile = path.join(tmp, "answers.json");
  fs.writeFileSync(answersFile, JSON.stringify(answers));
  const bare = await startServer([path.join(ROOT, "bench/http/bare-server.ts"), answersFile], {});
  const samples: Record<string, { vltair: number[]; bare: number[] }> = {};
  for (const p of probes) samples[p.name] = { vltair: [], bare: [] };
  const perRound = Math.max(1, Math.floor(REQUESTS / ROUNDS));
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which server goes first, so neither always runs on a warmer machine.
    const order =
      round % 2 === 0
        ? ([
            ["vltair", vltair.url],
            ["bare", bare.url],
          ] as const)
        : ([
            ["bare", bare.url],
            ["vltair", vltair.url],
          ] as const);
    for (const p of probes) {
      for (const [name, base] of order) {
        for (let i = 0; i < perRound; i++) {
          const r = await once(base, p);
          if (r.status !== 200) throw new Error(`${name} ${p.name}: ${r.status}`);
          if (round > 0) (samples[p.name] as { vltair: number[]; bare: number[] })[name].push(r.ms);
        }
      }
    }
  }
  await vltair.stop();
  await bare.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
  const routes: Record<string, unknown> = {};
  for (const p of probes) {
    const s = samples[p.name] as { vltair: number[]; bare: number[] };
    const v = s.vltair.sort((a, b) => a - b);
    const b = s.bare.sort((a, b2) => a - b2);
    routes[p.name] = {
      vltair_p50_ms: +quantile(v, 0.5).toFixed(3),
      vltair_p95_ms: +quantile(v, 0.95).toFixed(3),
      bare_p50_ms: +quantile(b, 0.5).toFixed(3),
      bare_p95_ms: +quantile(b, 0.95).toFixed(3),
      overhead_p50_ms: +(quantile(v, 0.5) - quantile(b, 0.5)).toFixed(3),
      samples: v.length,
    };
  }
  const load = os.loadavg()[0] ?? 0;
  console.log(
    JSON.stringify({
      bench: "http",
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model ?? "",
        load_1m: +load.toFixed(2),
      },
      runtime: `bun ${process.versions.bun ?? "?"}`,
      requests_per_route: REQUESTS,
      rounds: ROUNDS,
      target_overhead_p50_ms: 0.3,
      routes,
    }),
  );
}

await main();
