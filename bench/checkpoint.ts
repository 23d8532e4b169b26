/**
 * Checkpoint and restore of a large workspace (issue 13 item 5): a 10,000-file, 100 MB tree
 * (100 directories × 100 files, sizes drawn around 10 KB from a fixed seed, random bytes),
 * measured against peers on the same tree in the same run. Prints one JSON object (ms, p50):
 *
 * - `checkpoint_first`: vltair's first checkpoint (empty store: every file hashed and copied)
 *   vs `cp -a`, `tar c | tar x`, and `cp -al` (a hard-link farm: cheap, but a run writing a
 *   file in place would change the copy too);
 * - `checkpoint_1pct`: after 100 files changed, a new checkpoint (unchanged files skipped by
 *   the hash cache) vs a new `cp -a`, `cp -al`, and `rsync -a --link-dest` when rsync exists;
 * - `restore_1pct`: a tree with 100 files changed, 50 removed and 50 added, restored vs
 *   `rm -rf && cp -a` from a copy, and `rsync -a --delete` when rsync exists;
 * - `restore_empty` (what a fork does): into an empty directory vs `cp -a`.
 *
 * Every vltair restore is checked byte-exact (outside the timings). The page cache is warm for
 * all peers alike. Between rounds the bench waits 1.1 s: a cached hash is trusted only for a
 * file whose ctime is over 1 s older than the hash (checkpoints of a real workspace are
 * minutes apart, not milliseconds). Usage: `bun bench/checkpoint.ts [rounds]` (default 5).
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CheckpointStore } from "../src/sandbox/checkpoint-store.ts";
import { HashCache, restoreTree, snapshotTree } from "../src/sandbox/checkpoint-tree.ts";

const ROUNDS = Math.max(1, Math.min(20, Number(process.argv[2] ?? 5)));
const DIRS = 100;
const FILES_PER_DIR = 100;
const TREE_BYTES = 100_000_000;
const TENANT = "bench";
const SETTLE_MS = 1100;

/** A small fixed-seed generator (mulberry32) for the file sizes. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** File sizes around 10 KB (1–19 KB), scaled so the tree totals exactly TREE_BYTES. */
function sizes(): number[] {
  const random = seeded(42);
  const raw = Array.from({ length: DIRS * FILES_PER_DIR }, () => 1 + random() * 18);
  const sum = raw.reduce((a, b) => a + b, 0);
  const out = raw.map((r) => Math.floor((r / sum) * TREE_BYTES));
  out[0] = (out[0] ?? 0) + TREE_BYTES - out.reduce((a, b) => a + b, 0);
  return out;
}

const SIZES = sizes();
const pathOf = (i: number) =>
  join(`d${Math.floor(i / FILES_PER_DIR)}`, `f${i % FILES_PER_DIR}.bin`);

function build(tree: string): void {
  for (let d = 0; d < DIRS; d += 1) fs.mkdirSync(join(tree, `d${d}`), { recursive: true });
  for (const [i, size] of SIZES.entries())
    fs.writeFileSync(join(tree, pathOf(i)), randomBytes(size));
}

/** 100 files rewritten (same size, new bytes). */
function change(tree: string, round: number): void {
  for (let k = 0; k < 100; k += 1) {
    const i = (k * 97 + round * 13) % SIZES.length;
    fs.writeFileSync(join(tree, pathOf(i)), randomBytes(SIZES[i] ?? 1));
  }
}

/** 100 changed, 50 removed, 50 added. */
function mangle(tree: string, round: number): void {
  change(tree, round + 1000);
  for (let k = 0; k < 50; k += 1) {
    fs.rmSync(join(tree, pathOf((k * 191 + 7) % SIZES.length)), { force: true });
    fs.writeFileSync(join(tree, `d${k}`, `added-${round}.bin`), randomBytes(10_000));
  }
}

function sh(command: string): void {
  const done = spawnSync("sh", ["-c", command], { stdio: ["ignore", "ignore", "pipe"] });
  if (done.status !== 0) throw new Error(`${command}: ${done.stderr.toString()}`);
}

function timed(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

async function timedAsync(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** SHA-256 of the whole tree (paths, modes, bytes): the byte-exact check. */
function digest(tree: string): string {
  const hash = createHash("sha256");
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(join(tree, rel)).sort()) {
      const path = join(rel, name);
      const info = fs.lstatSync(join(tree, path));
      hash.update(`${path} ${info.mode}\n`);
      if (info.isDirectory()) walk(path);
      else hash.update(fs.readFileSync(join(tree, path)));
    }
  };
  walk("");
  return hash.digest("hex");
}

function p50(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number((sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(1));
}

const hasRsync = spawnSync("rsync", ["--version"], { stdio: "ignore" }).status === 0;
const root = fs.mkdtempSync(join(os.tmpdir(), "vltair-bench-ckpt-"));

async function main() {
  const tree = join(root, "tree");
  // The peers work on their own copy: a hard-link peer changes the ctime of every file it
  // links, which would make vltair's hash cache (rightly) distrust the whole tree.
  const peerTree = join(root, "peer-tree");
  build(tree);
  sh(`cp -a ${tree} ${peerTree}`);
  const samples: Record<string, number[]> = {};
  const add = (key: string, ms: number) => {
    samples[key] ??= [];
    samples[key].push(ms);
  };
  for (let round = 0; round < ROUNDS; round += 1) {
    // A fresh store and cache each round: the first checkpoint stores everything.
    const store = new CheckpointStore(join(root, `store-${round}`));
    const cache = new HashCache();
    const options = { store, tenant: TENANT, cache, hidden: [], entriesMax: 1_000_000 };
    await sleep(SETTLE_MS);
    let first = { entries: [] as Parameters<typeof store.putManifest>[1] };
    add(
      "checkpoint_first.vltair",
      await timedAsync(async () => {
        first = await snapshotTree(tree, options);
        await store.putManifest(TENANT, first.entries);
      }),
    );
    add(
      "checkpoint_first.cp_a",
      timed(() => sh(`cp -a ${peerTree} ${root}/cp-${round}`)),
    );
    add(
      "checkpoint_first.tar",
      timed(() =>
        sh(
          `mkdir ${root}/tar-${round} && tar -C ${peerTree} -cf - . | tar -C ${root}/tar-${round} -xf -`,
        ),
      ),
    );
    add(
      "checkpoint_first.cp_al",
      timed(() => sh(`cp -al ${peerTree} ${root}/al-${round}`)),
    );
    const firstManifest = await store.putManifest(TENANT, first.entries);
    const expected = digest(tree);

    change(tree, round);
    change(peerTree, round);
    await sleep(SETTLE_MS);
    add(
      "checkpoint_1pct.vltair",
      await timedAsync(async () => {
        const snap = await snapshotTree(tree, options);
        await store.putManifest(TENANT, snap.entries);
      }),
    );
    add(
      "checkpoint_1pct.cp_a",
      timed(() => sh(`cp -a ${peerTree} ${root}/cp2-${round}`)),
    );
    add(
      "checkpoint_1pct.cp_al",
      timed(() => sh(`cp -al ${peerTree} ${root}/al2-${round}`)),
    );
    if (hasRsync)
      add(
        "checkpoint_1pct.rsync_link_dest",
        timed(() =>
          sh(`rsync -a --link-dest=${root}/cp-${round} ${peerTree}/ ${root}/rs-${round}/`),
        ),
      );

    // Restore the first checkpoint over a tree that drifted from it.
    mangle(tree, round);
    await sleep(SETTLE_MS);
    add("restore_1pct.vltair", await timedAsync(() => restoreTree(tree, firstManifest, options)));
    if (digest(tree) !== expected) throw new Error("vltair restore is not byte-exact");
    const peer = join(root, `peer-${round}`);
    sh(`cp -a ${root}/cp-${round} ${peer}`);
    mangle(peer, round + 500);
    add(
      "restore_1pct.cp_a",
      timed(() => sh(`rm -rf ${peer} && cp -a ${root}/cp-${round} ${peer}`)),
    );
    if (hasRsync) {
      mangle(peer, round + 700);
      add(
        "restore_1pct.rsync_delete",
        timed(() => sh(`rsync -a --delete ${root}/cp-${round}/ ${peer}/`)),
      );
    }

    const empty = join(root, `fork-${round}`);
    fs.mkdirSync(empty);
    add(
      "restore_empty.vltair",
      await timedAsync(() =>
        restoreTree(empty, firstManifest, { ...options, cache: new HashCache() }),
      ),
    );
    if (digest(empty) !== expected) throw new Error("vltair fork is not byte-exact");
    add(
      "restore_empty.cp_a",
      timed(() => sh(`cp -a ${root}/cp-${round} ${root}/forkpeer-${round}`)),
    );
    for (const name of fs.readdirSync(root)) {
      if (name !== "tree" && name !== "peer-tree")
        fs.rmSync(join(root, name), { recursive: true, force: true });
    }
  }
  const result: Record<string, Record<string, number>> = {};
  for (const [key, values] of Object.entries(samples)) {
    const [op, peer] = key.split(".") as [string, string];
    result[op] ??= {};
    result[op][`${peer}_ms`] = p50(values);
  }
  for (const op of Object.values(result)) {
    const ours = op.vltair_ms ?? 0;
    for (const [key, value] of Object.entries(op)) {
      if (key !== "vltair_ms" && key.endsWith("_ms") && ours > 0)
        op[`${key.replace(/_ms$/, "")}_over_vltair`] = Number((value / ours).toFixed(2));
    }
  }
  process.stdout.write(
    `${JSON.stringify({
      bench: "checkpoint",
      tree: { files: SIZES.length, directories: DIRS, bytes: TREE_BYTES },
      rounds: ROUNDS,
      rsync: hasRsync,
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model ?? "unknown",
        kernel: os.release(),
        runtime: `bun ${process.versions.bun ?? "?"}`,
        loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
      },
      ...result,
    })}\n`,
  );
}

try {
  await main();
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
