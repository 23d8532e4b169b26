/**
 * WAL benchmark: durable appends/s and ack latency (p50/p99) at 1, 8 and 64 concurrent writers
 * for 256 B and 4 KiB records with fsync `always`, against SQLite (`bun:sqlite`, WAL mode,
 * `synchronous=FULL`, one autocommit insert per record) on the same payloads in the same run;
 * plus the recovery time of a log of 1M small records. Prints one JSON object. Each case warms
 * both engines up, then alternates them in slices so that machine noise falls on both.
 *
 * Usage: bun bench/wal.ts [--seconds 2] [--recovery-records 1000000]
 */
import { Database } from "bun:sqlite";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { createStorage, openDataDir, type StateMachine, type Storage } from "../src/storage/mod.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const SECONDS = arg("seconds", 2);
const RECOVERY_RECORDS = arg("recovery-records", 1_000_000);
const WRITERS = [1, 8, 64];
const PAYLOAD_BYTES = [256, 4096];

/** A counting machine: the cheapest honest fold (parses and validates nothing beyond JSON). */
const counter: StateMachine<{ count: number; bytes: number }, { p: string }> = {
  name: "bench",
  init: () => ({ count: 0, bytes: 0 }),
  apply: (state, record) => ({ count: state.count + 1, bytes: state.bytes + record.body.p.length }),
  snapshot: (state) => new TextEncoder().encode(JSON.stringify(state)),
  restore: (bytes) => JSON.parse(new TextDecoder().decode(bytes)),
};

/** A JSON body whose encoded size is exactly `sizeBytes`. */
function bodyOf(sizeBytes: number): { p: string } {
  const overhead = JSON.stringify({ p: "" }).length;
  return { p: "x".repeat(sizeBytes - overhead) };
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "vltair-bench-wal-"));
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

interface Figures {
  appendsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  appends: number;
}

/** Un-measured appends before each case: JIT warm-up and the segment's first zero fill. */
const WARMUP_APPENDS = 500;
/** Each case alternates the engines in this many slices, so machine noise falls on both. */
const SLICES = 4;

/** One engine under test: `once` is one durable append of one record. */
interface Engine {
  once: () => Promise<unknown>;
  close: () => Promise<void>;
}

/** Runs `writers` concurrent loops of `once` for `sliceMs`; returns the latencies (ms). */
async function runSlice(writers: number, once: () => Promise<unknown>, sliceMs: number) {
  const latencies: number[] = [];
  const started = performance.now();
  const endAt = started + sliceMs;
  async function loop(): Promise<void> {
    // Bounded by the deadline; each turn awaits one durable append.
    while (performance.now() < endAt) {
      const t0 = performance.now();
      await once();
      latencies.push(performance.now() - t0);
    }
  }
  await Promise.all(Array.from({ length: writers }, loop));
  return { latencies, elapsedMs: performance.now() - started };
}

function figuresOf(latencies: number[], elapsedMs: number): Figures {
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    appendsPerSec: Math.round((latencies.length / elapsedMs) * 1000),
    p50Ms: round(percentile(latencies, 0.5)),
    p99Ms: round(percentile(latencies, 0.99)),
    appends: latencies.length,
  };
}

/** Warms both engines up, then alternates them slice by slice and aggregates each one's figures. */
async function compare(writers: number, engines: Engine[]): Promise<Figures[]> {
  for (const e of engines) for (let i = 0; i < WARMUP_APPENDS; i++) await e.once();
  const all = engines.map(() => ({ latencies: [] as number[], elapsedMs: 0 }));
  for (let slice = 0; slice < SLICES; slice++) {
    for (let i = 0; i < engines.length; i++) {
      const run = await runSlice(writers, (engines[i] as Engine).once, (SECONDS * 1000) / SLICES);
      const acc = all[i] as { latencies: number[]; elapsedMs: number };
      for (const l of run.latencies) acc.latencies.push(l);
      acc.elapsedMs += run.elapsedMs;
    }
  }
  return all.map((a) => figuresOf(a.latencies, a.elapsedMs));
}

async function vltairEngine(payloadBytes: number): Promise<Engine> {
  const dir = tempDir();
  const storage: Storage = createStorage(openDataDir(dir), { fsync: "always" });
  storage.register(counter);
  await storage.recover();
  const records = [{ machine: "bench", body: bodyOf(payloadBytes) }];
  return {
    once: () => storage.append(records),
    async close() {
      await storage.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function sqliteEngine(payloadBytes: number): Engine {
  const dir = tempDir();
  const db = new Database(path.join(dir, "bench.db"));
  db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  db.exec("CREATE TABLE log (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
  const insert = db.prepare("INSERT INTO log (body) VALUES (?)");
  const body = new TextEncoder().encode(JSON.stringify(bodyOf(payloadBytes)));
  return {
    // bun:sqlite is synchronous: concurrent writers take turns, each insert its own durable transaction.
    async once() {
      await Promise.resolve();
      insert.run(body);
    },
    async close() {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function benchRecovery(records: number): Promise<Record<string, number>> {
  const dir = tempDir();
  const body = bodyOf(64);
  const batchRecords = 1000;
  let storage = createStorage(openDataDir(dir), {
    fsync: "none",
    limits: { snapshotEveryBytes: 0 },
  });
  storage.register(counter);
  await storage.recover();
  const batch = Array.from({ length: batchRecords }, () => ({ machine: "bench", body, wallMs: 0 }));
  const writeStart = performance.now();
  for (let done = 0; done < records; done += batchRecords) await storage.append(batch);
  const writeMs = performance.now() - writeStart;
  await storage.close();
  let sizeBytes = 0;
  for (const name of fs.readdirSync(path.join(dir, "wal")))
    sizeBytes += fs.statSync(path.join(dir, "wal", name)).size;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  storage = createStorage(openDataDir(dir), { fsync: "none" });
  storage.register(counter);
  const report = await storage.recover();
  const recoverMs = performance.now() - t0;
  // CPU time is reported beside wall time: on a shared machine the wall figure includes waiting.
  const cpu = process.cpuUsage(cpu0);
  const count = (storage.stateOf("bench") as { count: number }).count;
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
  if (count !== records || report.replayedRecords !== records)
    throw new Error("recovery lost records");
  return {
    records,
    recordBodyBytes: 64,
    logBytes: sizeBytes,
    writeMs: Math.round(writeMs),
    recoverMs: Math.round(recoverMs),
    recoverCpuMs: Math.round((cpu.user + cpu.system) / 1000),
    recordsPerSec: Math.round((records / recoverMs) * 1000),
  };
}

const cases: Record<string, unknown>[] = [];
for (const payloadBytes of PAYLOAD_BYTES) {
  for (const writers of WRITERS) {
    const engines = [await vltairEngine(payloadBytes), sqliteEngine(payloadBytes)];
    const [vltair, sqlite] = (await compare(writers, engines)) as [Figures, Figures];
    for (const e of engines) await e.close();
    const ratio = Math.round((vltair.appendsPerSec / sqlite.appendsPerSec) * 100) / 100;
    cases.push({ payloadBytes, writers, vltair, sqlite, ratio });
  }
}
const recovery = await benchRecovery(RECOVERY_RECORDS);
const ratioOf = (writers: number, payloadBytes: number) =>
  (cases.find((c) => c.writers === writers && c.payloadBytes === payloadBytes) as { ratio: number })
    .ratio;
const cpu = os.cpus()[0]?.model ?? "unknown";

process.stdout.write(
  `${JSON.stringify({
    bench: "wal",
    machine: {
      cpu,
      cores: os.cpus().length,
      platform: `${os.platform()}-${os.arch()}`,
      runtime: `bun ${Bun.version}`,
    },
    fsync: "always",
    secondsPerCase: SECONDS,
    slicesPerCase: SLICES,
    cases,
    recovery,
    targets: {
      writers64AtLeast5xSqlite: PAYLOAD_BYTES.map((p) => ({
        payloadBytes: p,
        ratio: ratioOf(64, p),
        met: ratioOf(64, p) >= 5,
      })),
      writers1AtLeast08xSqlite: PAYLOAD_BYTES.map((p) => ({
        payloadBytes: p,
        ratio: ratioOf(1, p),
        met: ratioOf(1, p) >= 0.8,
      })),
      recovery1MUnder2s: {
        recoverMs: recovery.recoverMs,
        met: RECOVERY_RECORDS >= 1_000_000 && (recovery.recoverMs as number) < 2000,
      },
    },
  })}\n`,
);
