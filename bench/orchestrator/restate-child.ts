/**
 * The Restate side of bench/runs.ts, run inside a network namespace with loopback only
 * (Restate checks for updates at start): starts restate-server (durable default) in a temp base
 * dir and the Node endpoint of restate/endpoint.mjs, registers it, warms up, then measures the
 * same shapes as vltair's side (sequential calls, N clients). Prints one JSON object.
 *
 *   bun restate-child.ts SEQUENTIAL CONCURRENT_RUNS CLIENTS
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { latencySummary, runLoad } from "./load.ts";

const [sequential, concurrentRuns, clients] = process.argv.slice(2).map(Number) as [
  number,
  number,
  number,
];
const PEER = path.join(import.meta.dirname, "restate");
const SERVER_BIN = path.join(
  PEER,
  "node_modules/@restatedev/restate-server-linux-x64/bin/restate-server",
);
const INGRESS = "http://127.0.0.1:8080";
const ADMIN = "http://127.0.0.1:9070";

async function until(probe: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function once(): Promise<void> {
  const response = await fetch(`${INGRESS}/bench/run`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ value: 1 }),
  });
  if (response.status !== 200) throw new Error(`restate answered ${response.status}`);
  await response.arrayBuffer();
}

async function main(): Promise<void> {
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), "vltair-bench-restate-"));
  const children: ChildProcess[] = [];
  try {
    children.push(
      spawn(SERVER_BIN, ["--base-dir", baseDir], {
        stdio: ["ignore", "ignore", "ignore"],
        env: { ...process.env, RESTATE_LOG_FORMAT: "compact" },
      }),
    );
    children.push(
      spawn("node", [path.join(PEER, "endpoint.mjs"), "9080"], {
        cwd: PEER,
        stdio: ["ignore", "ignore", "inherit"],
      }),
    );
    await until(async () => (await fetch(`${ADMIN}/health`)).ok, "restate admin");
    await until(async () => {
      const r = await fetch(`${ADMIN}/deployments`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ uri: "http://127.0.0.1:9080" }),
      });
      return r.ok;
    }, "the deployment to register");
    await until(async () => {
      await once();
      return true;
    }, "the first call");
    for (let i = 0; i < 50; i++) await once();
    const samples: number[] = [];
    for (let i = 0; i < sequential; i++) {
      const start = performance.now();
      await once();
      samples.push(performance.now() - start);
    }
    const load = await runLoad(once, { runs: concurrentRuns, clients });
    console.log(
      JSON.stringify({
        sequential: latencySummary(samples),
        runs_per_s: load.runsPerS,
        steps_per_s: Math.round(load.runsPerS * 3 * 10) / 10,
      }),
    );
  } finally {
    for (const child of children) child.kill("SIGKILL");
    fs.rmSync(baseDir, { recursive: true, force: true });
  }
}

await main();
