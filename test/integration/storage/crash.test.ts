/**
 * Crash test: a child process appends with fsync `always` and streams acknowledgements; the
 * parent SIGKILLs it at a random moment (seeded), recovers the directory and checks that every
 * acknowledged record is present, at its acknowledged index, with identical bytes, and that no
 * record exists that was not written whole. 20 rounds by default, 1000 with VLTAIR_SLOW=1.
 */

import { expect, test } from "bun:test";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createStorage, openDataDir, type Storage } from "../../../src/storage/mod.ts";
import { CRASH_LIMITS, crashBody, crashValue } from "../../fixtures/storage/crash-records.ts";
import { type KvState, kvMachine } from "../../fixtures/storage/kv-machine.ts";
import { seededRandom } from "../../support/random.ts";

const CHILD = path.join(import.meta.dir, "../../fixtures/storage/crash-child.ts");
const SLOW = process.env.VLTAIR_SLOW === "1";
const ROUNDS = SLOW ? 1000 : 20;
const KILL_AFTER_ACKS_MAX = 150;

interface Acked {
  walIndex: number;
  value: string;
}

/** Runs one child until it has acknowledged `killAfterAcks` appends (-1: kill at once), then SIGKILLs it. */
function runChild(
  dir: string,
  round: number,
  writers: number,
  killAfterAcks: number,
  acked: Map<string, Acked>,
) {
  return new Promise<{ acks: number; signal: string | null }>((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(round), String(writers)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let acks = 0;
    let pending = "";
    let stderr = "";
    let killed = false;
    const kill = () => {
      if (!killed) child.kill("SIGKILL");
      killed = true;
    };
    if (killAfterAcks < 0) kill();
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.stdout.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "ready" && killAfterAcks === 0) kill();
        const m = /^ack (\d+) (\d+) (\d+) (\d+)$/.exec(line);
        if (m === null) continue;
        const [first, last, w, seq] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
        if (last - first + 1 !== 1 + ((seq + w) % 3))
          reject(new Error(`ack ${line}: wrong batch size`));
        for (let part = 0; part <= last - first; part++) {
          acked.set(crashBody(round, w, seq, part).key, {
            walIndex: first + part,
            value: crashValue(round, w, seq, part),
          });
        }
        acks++;
        if (acks >= killAfterAcks && killAfterAcks > 0) kill();
      }
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (signal !== "SIGKILL")
        reject(new Error(`child exited on its own (code ${code}): ${stderr}`));
      else resolve({ acks, signal });
    });
  });
}

async function verify(dir: string, acked: Map<string, Acked>): Promise<number> {
  const storage: Storage = createStorage(openDataDir(dir), {
    fsync: "always",
    limits: CRASH_LIMITS,
  });
  storage.register(kvMachine());
  try {
    await storage.recover();
    const state = storage.stateOf("kv") as KvState;
    // Every acknowledged record is in the state with its exact value.
    for (const [key, want] of acked) {
      if (state.entries[key] !== want.value)
        throw new Error(`acked ${key} (index ${want.walIndex}) lost or changed`);
    }
    // Every record in the state was written whole: its value is exactly the one its key implies.
    // (Plain checks in these loops: they run per record, an expect() each would dominate the time.)
    for (const [key, value] of Object.entries(state.entries)) {
      const m = /^r(\d+)\.w(\d+)\.s(\d+)\.p(\d+)$/.exec(key);
      if (
        m === null ||
        value !== crashValue(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]))
      ) {
        throw new Error(`record ${key} holds a value that was never written`);
      }
    }
    expect(state.applied).toBe(storage.lastIndex);
    // The retained log holds identical bytes at the acknowledged indexes, in order.
    const records = storage.wal.read(storage.wal.firstIndex, { limit: 1_000_000 });
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    let previous = storage.wal.firstIndex - 1;
    for (const r of records) {
      if (r.walIndex !== previous + 1) throw new Error(`index ${r.walIndex} after ${previous}`);
      previous = r.walIndex;
      const body = JSON.parse(decoder.decode(r.body)) as { key: string; value: string };
      const want = acked.get(body.key);
      if (want === undefined) continue;
      if (r.walIndex !== want.walIndex)
        throw new Error(`${body.key} at ${r.walIndex}, acked at ${want.walIndex}`);
      const bytes = encoder.encode(JSON.stringify({ op: "set", key: body.key, value: want.value }));
      if (!Buffer.from(r.body).equals(Buffer.from(bytes)))
        throw new Error(`${body.key}: bytes differ`);
    }
    expect(previous).toBe(storage.lastIndex);
    return storage.lastIndex;
  } finally {
    await storage.close();
  }
}

test(
  `SIGKILL at random moments (${ROUNDS} rounds): every acknowledged record survives, nothing half-written appears`,
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vltair-crash-"));
    const rand = seededRandom(0xc0ffee);
    const acked = new Map<string, Acked>();
    let totalAcks = 0;
    let lastIndex = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const writers = 1 + Math.floor(rand() * 8);
      const roll = rand();
      // 5%: kill during start-up/recovery; 5%: right when ready; else after 1..150 acks.
      const killAfterAcks =
        roll < 0.05 ? -1 : roll < 0.1 ? 0 : 1 + Math.floor(rand() * KILL_AFTER_ACKS_MAX);
      const { acks } = await runChild(dir, round, writers, killAfterAcks, acked);
      totalAcks += acks;
      const after = await verify(dir, acked);
      expect(after).toBeGreaterThanOrEqual(lastIndex);
      lastIndex = after;
    }
    expect(totalAcks).toBeGreaterThan(ROUNDS);
    fs.rmSync(dir, { recursive: true, force: true });
  },
  SLOW ? 3_600_000 : 60_000,
);
