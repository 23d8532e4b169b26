// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflows reference values as ${…} text
/**
 * Durable runs (issue 16, phase 1): a 3-step `echo` workflow over HTTP against a real vltair
 * server (child process, `wal_fsync: always`, the durable default) — sequential run latency
 * (`POST /v1/runs?wait_ms=…`, one request per run, like a Restate call), runs/s and steps/s
 * with 32 concurrent clients, and fdatasync calls per run (strace, when present) — beside
 * Restate 1.7.12 running an equivalent 3-step handler (three journaled `ctx.run`) in the same
 * run, when its packages are installed (bench/orchestrator/restate-peer.ts, in a network
 * namespace with loopback only). Without them the peer is `null` with the reason, and
 * docs/benchmarks.md gives the figures measured here before (design/ANCHORS.md).
 *
 * Prints one JSON object.
 *
 *   npx bun bench/runs.ts [--sequential 300] [--concurrent-runs 2000] [--clients 32]
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { positiveIntArg } from "./args.ts";
import { latencySummary, type PeerFigures, runLoad } from "./orchestrator/load.ts";
import { runRestatePeer } from "./orchestrator/restate-peer.ts";
import { type BenchServer, startVltair } from "./vltair-server.ts";

const SEQUENTIAL = positiveIntArg("sequential", 300);
const CONCURRENT_RUNS = positiveIntArg("concurrent-runs", 2000);
const CLIENTS = positiveIntArg("clients", 32);
const FSYNC_RUNS = 100;
const TOKEN = "bench-orchestrator-admin-token-0123456789";

/**
 * The 3-step chain. `pure`: echo steps with only `value`, which the scheduler computes inline
 * (one batch per run). `durable`: the same with `delay_ms: 0`, so every step is a real attempt
 * after a durable start (one batch per step, as an effectful step costs).
 */
function workflowOf(extra: Record<string, unknown>): string {
  return JSON.stringify({
    workflow: {
      steps: [
        { id: "a", kind: "echo", with: { value: 1, ...extra } },
        { id: "b", kind: "echo", needs: ["a"], with: { value: "${steps.a.output}", ...extra } },
        { id: "c", kind: "echo", needs: ["b"], with: { value: "${steps.b.output}", ...extra } },
      ],
    },
    input: {},
  });
}
const WORKFLOWS = { pure: workflowOf({}), durable: workflowOf({ delay_ms: 0 }) };
type Variant = keyof typeof WORKFLOWS;

/** One run of the workflow, answered once it has ended; throws unless it succeeded. */
async function oneRun(url: string, variant: Variant): Promise<void> {
  const response = await fetch(`${url}/v1/runs?wait_ms=60000`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: WORKFLOWS[variant],
  });
  const body = (await response.json()) as { status?: string };
  if (body.status !== "succeeded") throw new Error(`run ended ${JSON.stringify(body)}`);
}

/** fdatasync + fsync calls of the server per run over `runs` sequential runs (strace -c), or null. */
async function fsyncsPerRun(
  server: BenchServer,
  runs: number,
  variant: Variant,
): Promise<number | null> {
  if (spawnSync("strace", ["-V"]).status !== 0) return null;
  const strace = spawn(
    "strace",
    ["-f", "-c", "-e", "trace=fdatasync,fsync", "-p", String(server.pid)],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let report = "";
  strace.stderr.on("data", (chunk: Buffer) => {
    report += chunk.toString("utf8");
  });
  // strace says it attached before it counts anything.
  const deadline = performance.now() + 10_000;
  while (!report.includes("attached") && performance.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  for (let i = 0; i < runs; i++) await oneRun(server.url, variant);
  const closed = new Promise((resolve) => strace.once("close", resolve));
  strace.kill("SIGINT");
  await closed;
  let calls = 0;
  for (const line of report.split("\n")) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fdatasync|fsync)\s*$/.exec(line);
    if (m !== null) calls += Number(m[1]);
  }
  return calls > 0 ? calls / runs : null;
}

async function measureVltair(
  variant: Variant,
): Promise<PeerFigures & { fsyncs_per_run: number | null }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "vltair-bench-orch-"));
  const server = await startVltair(dataDir, TOKEN);
  try {
    for (let i = 0; i < 50; i++) await oneRun(server.url, variant);
    const sequential: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      const start = performance.now();
      await oneRun(server.url, variant);
      sequential.push(performance.now() - start);
    }
    const load = await runLoad(() => oneRun(server.url, variant), {
      runs: CONCURRENT_RUNS,
      clients: CLIENTS,
    });
    const fsyncs = await fsyncsPerRun(server, FSYNC_RUNS, variant);
    return {
      sequential: latencySummary(sequential),
      runs_per_s: load.runsPerS,
      steps_per_s: Math.round(load.runsPerS * 3 * 10) / 10,
      fsyncs_per_run: fsyncs,
    };
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const vltair = await measureVltair("pure");
  const durable = await measureVltair("durable");
  const restate = await runRestatePeer({
    sequential: SEQUENTIAL,
    concurrentRuns: CONCURRENT_RUNS,
    clients: CLIENTS,
  });
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b === 0 ? null : Math.round((a / b) * 100) / 100;
  const figures = "figures" in restate ? restate.figures : undefined;
  console.log(
    JSON.stringify({
      bench: "runs",
      workflow:
        "3 echo steps in a chain, POST /v1/runs?wait_ms (one request per run); vltair: pure echo (computed inline), vltair_durable_steps: echo with delay_ms 0 (a durable start per step)",
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model ?? "unknown",
        os: `${os.type()} ${os.release()}`,
      },
      runtime: `bun ${process.versions.bun ?? "?"}`,
      sequential_runs: SEQUENTIAL,
      concurrent_runs: CONCURRENT_RUNS,
      clients: CLIENTS,
      vltair,
      vltair_durable_steps: durable,
      restate: figures ?? null,
      restate_unavailable: "reason" in restate ? restate.reason : null,
      ratios: {
        sequential_p50_restate_over_vltair: ratio(
          figures?.sequential.p50_ms,
          vltair.sequential.p50_ms,
        ),
        runs_per_s_vltair_over_restate: ratio(vltair.runs_per_s, figures?.runs_per_s),
        durable_sequential_p50_restate_over_vltair: ratio(
          figures?.sequential.p50_ms,
          durable.sequential.p50_ms,
        ),
        durable_runs_per_s_vltair_over_restate: ratio(durable.runs_per_s, figures?.runs_per_s),
      },
    }),
  );
}

await main();
