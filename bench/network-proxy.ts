/**
 * Network allowlist throughput. Prints one JSON object: p50 time to download a blob from a
 * loopback origin with curl, directly on the host (bare) and from a sandboxed run through the
 * allowlist's bridge and proxy (plain HTTP, and HTTPS-style CONNECT), plus a sandboxed run that
 * only starts curl (`curl --version`), so the transfer's own cost can be told from the run's.
 * Peers alternate so machine drift hits them alike. Needs curl (the result says so when absent).
 * Usage: `npx bun bench/network-proxy.ts [runs] [mib]` (defaults 10 and 64).
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { runSandboxed, type SandboxOptions } from "../src/sandbox/mod.ts";

const RUNS = Math.max(3, Math.min(100, Number(process.argv[2] ?? 10)));
const MIB = Math.max(1, Math.min(512, Number(process.argv[3] ?? 64)));

function p50(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.floor(sorted.length / 2)] ?? 0) * 100) / 100;
}

function bare(argv: string[]): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] ?? "curl", argv.slice(1), { stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(performance.now() - start) : reject(new Error(`exit ${code}`)),
    );
  });
}

async function sandboxed(cmd: string[], options: SandboxOptions): Promise<number> {
  const start = performance.now();
  const result = await runSandboxed(
    { cmd, network: { allow: ["origin.test"] }, limits: { wall_ms: 120_000 } },
    options,
  );
  if (result.status !== "OK") throw new Error(`${result.status} ${result.reason} ${result.stderr}`);
  return performance.now() - start;
}

const curl = Bun.which("curl");
if (curl === null) {
  console.log(JSON.stringify({ bench: "network-proxy", skipped: "curl is not installed" }));
  process.exit(0);
}
const blob = Buffer.alloc(MIB * 1024 * 1024, 7);
const origin = createServer((_req, res) => {
  res.setHeader("Content-Length", blob.length);
  res.end(blob);
});
await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", () => resolve()));
const port = (origin.address() as AddressInfo).port;
const root = await mkdtemp(join(tmpdir(), "vltair-bench-net-"));
const ws = join(root, "ws");
await mkdir(ws);
const options: SandboxOptions = {
  workspaceRoot: ws,
  tempRoot: root,
  networkAllowDomains: ["origin.test"],
  networkResolve: { "origin.test": `127.0.0.1:${port}` },
};
const get = [curl, "-sS", "-o", "/dev/null"];
const peers: Record<string, () => Promise<number>> = {
  direct: () => bare([...get, `http://127.0.0.1:${port}/blob`]),
  proxied_http: () => sandboxed([...get, "http://origin.test/blob"], options),
  proxied_connect: () => sandboxed([...get, "-p", "http://origin.test/blob"], options),
  sandbox_curl_version: () => sandboxed([curl, "--version"], options),
};
try {
  const samples: Record<string, number[]> = {};
  for (const [name, run] of Object.entries(peers)) {
    await run();
    samples[name] = [];
  }
  for (let i = 0; i < RUNS; i += 1)
    for (const [name, run] of Object.entries(peers)) samples[name]?.push(await run());
  const ms = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, p50(v)]));
  const start = ms.sandbox_curl_version ?? 0;
  const mibPerS = (t: number) => Math.round((MIB / (t / 1000)) * 10) / 10;
  console.log(
    JSON.stringify({
      bench: "network-proxy",
      runtime: `bun ${Bun.version}`,
      machine: { cpus: os.cpus().length, kernel: os.release() },
      load_average_1m: os.loadavg()[0],
      runs: RUNS,
      blob_mib: MIB,
      p50_ms: ms,
      mib_per_s: {
        direct: mibPerS(ms.direct ?? 1),
        proxied_http_minus_start: mibPerS((ms.proxied_http ?? 1) - start),
        proxied_connect_minus_start: mibPerS((ms.proxied_connect ?? 1) - start),
      },
      ratio_vs_direct: {
        proxied_http: Math.round(((ms.proxied_http ?? 0) / (ms.direct ?? 1)) * 100) / 100,
        proxied_connect: Math.round(((ms.proxied_connect ?? 0) / (ms.direct ?? 1)) * 100) / 100,
      },
    }),
  );
} finally {
  origin.close();
  await rm(root, { recursive: true, force: true });
}
