/**
 * The vector indexes' helper thread: HNSW insertion of a batch runs there while the main thread
 * goes on (text indexing, the next batch's embedding and log write), on the second core.
 *
 * Each index's module memory is a shared `WebAssembly.Memory`; the helper runs a second
 * instance of the same module over it (no `_initialize`: the state it would set up is already in
 * that memory). The two instances never run at the same time: `VectorIndex` posts a batch and
 * joins it (waits on the index's signal) before any other call into its module, so the module
 * keeps its single-threaded contract (it is built without atomics) and results stay
 * bit-identical to inserting on the main thread. Completion is signalled through a small shared
 * Int32Array per index ([state, result]) with `Atomics`, so joining is synchronous and the
 * callers' synchronous contract (a batch is applied in one step) holds.
 */
import { VltairError } from "../core/mod.ts";
import { SCRIPT_WORKER_PRELUDE, type ScriptWorker, startScriptWorker } from "../platform/mod.ts";
import { usearchModule, usearchModuleBytes } from "./usearch-instance.ts";

/**
 * Codes in the low 3 bits of an index's state word (`signal[0]`); the bits above hold the
 * sequence number of the job the word is about, so a claimed-back job's message, still queued
 * on the helper, can never start a later job.
 */
export const THREAD_STATE = {
  pending: 0,
  idle: 1,
  failed: 2,
  running: 3,
  claimed: 4,
  attaching: 5,
  unusable: 6,
} as const;

const CODE_BITS = 3;
const CODE_MASK = 7;
const SEQUENCE_MAX = 0x0fff_ffff;

/** Longest wait for a job the helper has started (a batch takes well under a second). */
const JOIN_TIMEOUT_MS = 600_000;
/** Longest wait for a new instance on the helper; past it the index goes on without waiting. */
const ATTACH_WAIT_MS = 1_000;
/** Slice of one `Atomics.wait`, so a lost helper is noticed without a busy loop. */
const WAIT_SLICE_MS = 1_000;

/** No identifier named `module`: a runtime may wrap a script that uses `require` as CommonJS. */
const WORKER_SOURCE = `${SCRIPT_WORKER_PRELUDE}
let wasmModule = null;
const instances = new Map();
const wasi = new Proxy({}, {
  get: (_target, name) => name === "proc_exit" ? () => { throw new Error("proc_exit"); } : () => 8,
});
function finish(signal, state, result) {
  Atomics.store(signal, 1, result);
  Atomics.store(signal, 0, state);
  Atomics.notify(signal, 0);
}
onMessage((m) => {
  if (m.type === "module") {
    wasmModule = m.module instanceof WebAssembly.Module ? m.module : new WebAssembly.Module(m.bytes);
    return;
  }
  if (m.type === "attach") {
    const signal = new Int32Array(m.signal);
    try {
      const imports = {
        env: { memory: m.memory },
        wasi_snapshot_preview1: wasi,
        vltair: { filter: () => 0, read: () => 0 },
      };
      instances.set(m.id, { exports: new WebAssembly.Instance(wasmModule, imports).exports, signal });
      finish(signal, 1, 0);
    } catch (error) {
      finish(signal, 6, 0);
    }
    return;
  }
  if (m.type === "detach") {
    instances.delete(m.id);
    return;
  }
  const entry = instances.get(m.id);
  if (entry === undefined) return;
  // Start only the job the index still waits for: it may have claimed this one back.
  const posted = (m.sequence << 3) | 0;
  if (Atomics.compareExchange(entry.signal, 0, posted, (m.sequence << 3) | 3) !== posted) return;
  try {
    const e = entry.exports;
    const result = m.type === "add"
      ? e.vltair_add_batch(m.handle, m.keys, m.vectors, m.count, m.dimensions, m.errorSlot)
      : e.usearch_search(m.handle, m.query, m.scalarKind, m.count, m.keys, m.distances, m.errorSlot);
    finish(entry.signal, (m.sequence << 3) | 1, result >>> 0);
  } catch (error) {
    finish(entry.signal, (m.sequence << 3) | 2, 0);
  }
});
`;

/** One index's link to the helper. */
export interface ThreadLink {
  readonly id: number;
  /** The helper this link belongs to (a helper stopped and started again is a new one). */
  readonly generation: number;
  /** [state word, result]: see {@link THREAD_STATE}. */
  readonly signal: Int32Array;
  /** Sequence number of the last job posted. */
  sequence: number;
}

/** One batch insertion (pointers into the index's memory). */
export interface ThreadAdd {
  type: "add";
  handle: number;
  keys: number;
  vectors: number;
  count: number;
  dimensions: number;
  errorSlot: number;
}

/** One approximate unfiltered search (pointers into the index's memory). */
export interface ThreadSearch {
  type: "search";
  handle: number;
  query: number;
  scalarKind: number;
  count: number;
  keys: number;
  distances: number;
  errorSlot: number;
}

/** How a posted job ended for the index. */
export type ThreadOutcome = { claimed: true } | { claimed: false; ok: boolean; result: number };

/** Jobs posted to the helper and jobs claimed back before it started them, since start-up. */
export const VECTOR_THREAD_COUNTS = { posted: 0, claimedBack: 0 };

let worker: ScriptWorker | null = null;
let startFailed = false;
let nextId = 1;
let attached = 0;
/** Counts helper starts, so a link of a stopped helper never detaches from its successor. */
let generation = 0;

function helper(): ScriptWorker | null {
  if (startFailed) return null;
  if (worker !== null) return worker;
  try {
    worker = startScriptWorker(WORKER_SOURCE);
    generation += 1;
    try {
      worker.postMessage({ type: "module", module: usearchModule() });
    } catch {
      // A runtime that cannot send a compiled module gets the bytes (compiled there once).
      worker.postMessage({ type: "module", bytes: usearchModuleBytes() });
    }
    return worker;
  } catch {
    startFailed = true;
    worker = null;
    return null;
  }
}

/**
 * Gives the helper an instance over `memory` and returns the link, or null when the helper is
 * off or cannot start. Waits briefly for the instance; a helper that takes longer keeps
 * attaching in the background, and jobs run on the caller's thread until it is ready.
 */
export function attachToThread(memory: WebAssembly.Memory): ThreadLink | null {
  const thread = helper();
  if (thread === null) return null;
  const signal = new Int32Array(new SharedArrayBuffer(8));
  Atomics.store(signal, 0, THREAD_STATE.attaching);
  const link: ThreadLink = { id: nextId++, generation, signal, sequence: 0 };
  try {
    thread.postMessage({ type: "attach", id: link.id, memory, signal: signal.buffer });
  } catch {
    return null;
  }
  Atomics.wait(signal, 0, THREAD_STATE.attaching, ATTACH_WAIT_MS);
  if ((Atomics.load(signal, 0) & CODE_MASK) === THREAD_STATE.unusable) return null;
  attached += 1;
  return link;
}

/**
 * Posts `job` when the helper holds an instance and is not busy with another job of this
 * index; returns its sequence number, or null (the caller runs the job itself).
 */
export function tryPost(link: ThreadLink, job: ThreadAdd | ThreadSearch): number | null {
  const code = Atomics.load(link.signal, 0) & CODE_MASK;
  const free =
    code === THREAD_STATE.idle || code === THREAD_STATE.failed || code === THREAD_STATE.claimed;
  if (!free || worker === null || link.generation !== generation) return null;
  const sequence = (link.sequence % SEQUENCE_MAX) + 1;
  link.sequence = sequence;
  VECTOR_THREAD_COUNTS.posted += 1;
  Atomics.store(link.signal, 0, (sequence << CODE_BITS) | THREAD_STATE.pending);
  worker.postMessage({ ...job, id: link.id, sequence });
  return sequence;
}

/** True while job `sequence` is posted or running: ending it now would wait for the helper. */
export function outstanding(link: ThreadLink, sequence: number): boolean {
  const word = Atomics.load(link.signal, 0);
  if (word >>> CODE_BITS !== sequence) return false;
  const code = word & CODE_MASK;
  return code === THREAD_STATE.pending || code === THREAD_STATE.running;
}

/**
 * Ends job `sequence`: claims it back when the helper has not started it (the caller then runs
 * it itself, so a busy machine never makes the caller wait for the helper to be scheduled), or
 * waits until the helper finishes it. Throws `unavailable` when a started job does not finish
 * within {@link JOIN_TIMEOUT_MS}.
 */
export function settle(link: ThreadLink, sequence: number): ThreadOutcome {
  const { signal } = link;
  const posted = (sequence << CODE_BITS) | THREAD_STATE.pending;
  const claimed = (sequence << CODE_BITS) | THREAD_STATE.claimed;
  if (Atomics.compareExchange(signal, 0, posted, claimed) === posted) {
    VECTOR_THREAD_COUNTS.claimedBack += 1;
    return { claimed: true };
  }
  const deadlineMs = performance.now() + JOIN_TIMEOUT_MS;
  let word = Atomics.load(signal, 0);
  while ((word & CODE_MASK) === THREAD_STATE.running) {
    if (performance.now() > deadlineMs) {
      throw new VltairError("unavailable", "the vector index's helper thread did not answer", {
        details: { reason: "vector_thread_lost" },
      });
    }
    Atomics.wait(signal, 0, word, WAIT_SLICE_MS);
    word = Atomics.load(signal, 0);
  }
  return {
    claimed: false,
    ok: (word & CODE_MASK) === THREAD_STATE.idle,
    result: Atomics.load(signal, 1),
  };
}

/** Drops the helper's instance; the helper stops when no index is attached. */
export function detachFromThread(link: ThreadLink): void {
  if (worker === null || link.generation !== generation) return;
  worker.postMessage({ type: "detach", id: link.id });
  attached -= 1;
  if (attached === 0) {
    worker.terminate();
    worker = null;
  }
}
