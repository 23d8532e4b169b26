/**
 * vltair's side of bench/search.ts: a data directory with the `context` machine and a
 * {@link ContextService}, instrumented (without touching src/) so that a durable ingest can be
 * split into where its time goes: embedding, WAL writes and fsyncs, the state machine's apply
 * (of which the vector index's `addBatch`), snapshots, and the rest (hashing, planning,
 * record encoding and validation, decode and validation on apply).
 */

import {
  ContextService,
  createContextMachine,
  createHashEmbedder,
  type Embedder,
  resolveContextLimits,
} from "../../src/context/mod.ts";
import type { ContextState } from "../../src/context/store/state.ts";
import type { TokenizerName } from "../../src/search/mod.ts";
import { createStorage, nodeWalIo, openDataDir, type Storage } from "../../src/storage/mod.ts";
import { callAs } from "../../test/support/call.ts";
import { type BenchChunk, metadataOf } from "./corpus.ts";
import { type Meter, meter, round } from "./stats.ts";

export const DIMENSIONS = 384;
export const TENANT = "default";

/** Where ingest time went, summed over the run (ms). */
export interface IngestMeters {
  embed: Meter;
  append: Meter;
  walWrite: Meter;
  walSync: Meter;
  apply: Meter;
  vectorAdd: Meter;
  snapshotEncode: Meter;
}

/** An open engine. */
export interface VltairEngine {
  storage: Storage;
  context: ContextService;
  meters: IngestMeters;
}

function timedEmbedder(inner: Embedder, m: Meter): Embedder {
  return {
    provider: inner.provider,
    model: inner.model,
    dimensions: inner.dimensions,
    embed: async (texts, options) => {
      const start = performance.now();
      try {
        return await inner.embed(texts, options);
      } finally {
        m.ms += performance.now() - start;
        m.calls += 1;
      }
    },
  };
}

function add(m: Meter, start: number): void {
  m.ms += performance.now() - start;
  m.calls += 1;
}

/**
 * Opens (creating) `dir` with fsync `always` and a service whose new tenants use `tokenizer`.
 * `embedder: false` opens without an embedder (text only, as for the unicode61 tenant).
 */
export async function openVltair(
  dir: string,
  tokenizer: TokenizerName,
  withEmbedder: boolean,
): Promise<VltairEngine> {
  const meters: IngestMeters = {
    embed: meter(),
    append: meter(),
    walWrite: meter(),
    walSync: meter(),
    apply: meter(),
    vectorAdd: meter(),
    snapshotEncode: meter(),
  };
  const io = {
    ...nodeWalIo,
    write: async (fd: number, bytes: Uint8Array, positionBytes: number) => {
      const start = performance.now();
      await nodeWalIo.write(fd, bytes, positionBytes);
      add(meters.walWrite, start);
    },
    datasync: async (fd: number) => {
      const start = performance.now();
      await nodeWalIo.datasync(fd);
      add(meters.walSync, start);
    },
    datasyncNow: (fd: number) => {
      const start = performance.now();
      nodeWalIo.datasyncNow?.(fd);
      add(meters.walSync, start);
    },
  };
  const storage = createStorage(openDataDir(dir, {}), { fsync: "always", io });
  const machine = createContextMachine();
  const apply = machine.apply;
  const snapshot = machine.snapshot;
  machine.apply = (state, record) => {
    const start = performance.now();
    try {
      return apply(state, record);
    } finally {
      add(meters.apply, start);
    }
  };
  machine.snapshot = (state) => {
    const start = performance.now();
    try {
      return snapshot(state);
    } finally {
      add(meters.snapshotEncode, start);
    }
  };
  const handle = storage.register(machine);
  await storage.recover();
  const append = storage.append.bind(storage);
  storage.append = async (records) => {
    const start = performance.now();
    try {
      return await append(records);
    } finally {
      add(meters.append, start);
    }
  };
  const embedder = withEmbedder
    ? timedEmbedder(createHashEmbedder({ dimensions: DIMENSIONS }), meters.embed)
    : null;
  const context = new ContextService({
    machine: handle,
    storage,
    embedder,
    limits: resolveContextLimits(),
    tokenizer,
  });
  return { storage, context, meters };
}

/** Wraps the tenant's vector index `addBatch` (once the tenant exists) to time it. */
function meterVectorAdds(engine: VltairEngine, tenant: string): boolean {
  const store = (engine.storage.stateOf("context") as ContextState).tenant(tenant);
  const vectors = store?.vectorIndex();
  if (vectors === null || vectors === undefined) return false;
  const addBatch = vectors.addBatch.bind(vectors);
  vectors.addBatch = (...args: Parameters<typeof addBatch>) => {
    const start = performance.now();
    try {
      return addBatch(...args);
    } finally {
      add(engine.meters.vectorAdd, start);
    }
  };
  return true;
}

/** How ingest batches are cut: at most this many items and (estimated) record bytes. */
export interface BatchLimits {
  itemsMax: number;
  /** Below the WAL's 4 MiB record limit, with room for JSON escaping. */
  bytesMax: number;
}

/** Upserts `chunks` into `tenant` in batches, one at a time; returns per-batch figures. */
export async function ingest(
  engine: VltairEngine,
  tenant: string,
  chunks: readonly BenchChunk[],
  limits: BatchLimits,
  embed: boolean,
): Promise<{
  ms: number;
  batches: number;
  firstBatchMs: number;
  vectorAddsMetered: boolean;
  inserted: number;
}> {
  const vectorBytes = embed ? 4 * Math.ceil((DIMENSIONS * 4) / 3) : 0;
  const start = performance.now();
  let batches = 0;
  let firstBatchMs = 0;
  let inserted = 0;
  let metered = false;
  let at = 0;
  while (at < chunks.length) {
    const items = [];
    let bytes = 0;
    while (at < chunks.length && items.length < limits.itemsMax) {
      const c = chunks[at] as BenchChunk;
      const itemBytes = c.text.length * 1.3 + c.path.length + 200 + vectorBytes;
      if (items.length > 0 && bytes + itemBytes > limits.bytesMax) break;
      bytes += itemBytes;
      items.push({
        id: c.id,
        scope: { kind: "global" as const },
        text: c.text,
        metadata: metadataOf(c),
      });
      at += 1;
    }
    const batchStart = performance.now();
    const result = await engine.context.upsert(callAs(tenant), { items, embed });
    if (batches === 0) firstBatchMs = performance.now() - batchStart;
    inserted += result.inserted;
    batches += 1;
    if (!metered && embed) metered = meterVectorAdds(engine, tenant);
  }
  return {
    ms: performance.now() - start,
    batches,
    firstBatchMs: round(firstBatchMs, 1),
    vectorAddsMetered: metered,
    inserted,
  };
}
