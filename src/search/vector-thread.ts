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

/** Signal states (index 0 of an index's signal array). */
export const THREAD_STATE = { pending: 0, done: 1, failed: 2 } as const;

/** Longest wait for the helper before it is declared lost (a batch takes well under a second). */
const JOIN_TIMEOUT_MS = 600_000;
/** Longest wait for a new instance on the helper; past it the index inserts on its own thread. */
const ATTACH_TIMEOUT_MS = 10_000;
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
      finish(signal, 2, 0);
    }
    return;
  }
  if (m.type === "detach") {
    instances.delete(m.id);
    return;
  }
  const entry = instances.get(m.id);
  if (entry === undefined) return;
  try {
    const e = entry.exports;
    const result = m.type === "add"
      ? e.vltair_add_batch(m.handle, m.keys, m.vectors, m.count, m.dimensions, m.errorSlot)
      : e.usearch_search(m.handle, m.query, m.scalarKind, m.count, m.keys, m.distances, m.errorSlot);
    finish(entry.signal, 1, result >>> 0);
  } catch (error) {
    finish(entry.signal, 2, 0);
  }
});
`;

/** One index's link to the helper. */
export interface ThreadLink {
  readonly id: number;
  /** [state, result]: see {@link THREAD_STATE}. */
  readonly signal: Int32Array;
}

/** Arguments of one batch insertion (pointers into the index's memory). */
export interface ThreadAdd {
  handle: number;
  keys: number;
  vectors: number;
  count: number;
  dimensions: number;
  errorSlot: number;
}

let enabled = true;
let worker: ScriptWorker | null = null;
let startFailed = false;
let nextId = 1;
let attached = 0;

/**
 * Turns the helper thread on or off for indexes that attach afterwards (config
 * `vector_threads`); with it off every insertion runs on the calling thread.
 */
export function setVectorThreadEnabled(on: boolean): void {
  enabled = on;
}

function helper(): ScriptWorker | null {
  if (!enabled || startFailed) return null;
  if (worker !== null) return worker;
  try {
    worker = startScriptWorker(WORKER_SOURCE);
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
 * Waits until the helper reports on `signal`; returns the state and result. Throws
 * `unavailable` when it does not report within `timeoutMs`.
 */
export function waitForThread(
  signal: Int32Array,
  timeoutMs = JOIN_TIMEOUT_MS,
): { state: number; result: number } {
  const deadlineMs = performance.now() + timeoutMs;
  while (Atomics.load(signal, 0) === THREAD_STATE.pending) {
    if (performance.now() > deadlineMs) {
      throw new VltairError("unavailable", "the vector index's helper thread did not answer", {
        details: { reason: "vector_thread_lost" },
      });
    }
    Atomics.wait(signal, 0, THREAD_STATE.pending, WAIT_SLICE_MS);
  }
  return { state: Atomics.load(signal, 0), result: Atomics.load(signal, 1) };
}

/**
 * Gives the helper an instance over `memory`; returns the link, or null when the helper is off
 * or cannot run one (then the index inserts on its own thread).
 */
export function attachToThread(memory: WebAssembly.Memory): ThreadLink | null {
  const thread = helper();
  if (thread === null) return null;
  const link: ThreadLink = { id: nextId++, signal: new Int32Array(new SharedArrayBuffer(8)) };
  try {
    thread.postMessage({ type: "attach", id: link.id, memory, signal: link.signal.buffer });
    if (waitForThread(link.signal, ATTACH_TIMEOUT_MS).state !== THREAD_STATE.done) return null;
  } catch {
    return null;
  }
  attached += 1;
  return link;
}

/** Arguments of one approximate unfiltered search (pointers into the index's memory). */
export interface ThreadSearch {
  handle: number;
  query: number;
  scalarKind: number;
  count: number;
  keys: number;
  distances: number;
  errorSlot: number;
}

/** Posts one batch insertion; the caller joins it with {@link waitForThread}. */
export function postAdd(link: ThreadLink, add: ThreadAdd): void {
  Atomics.store(link.signal, 0, THREAD_STATE.pending);
  (worker as ScriptWorker).postMessage({ type: "add", id: link.id, ...add });
}

/** Posts one search; the result (the number found) comes back through {@link waitForThread}. */
export function postSearch(link: ThreadLink, search: ThreadSearch): void {
  Atomics.store(link.signal, 0, THREAD_STATE.pending);
  (worker as ScriptWorker).postMessage({ type: "search", id: link.id, ...search });
}

/** Drops the helper's instance; the helper stops when no index is attached. */
export function detachFromThread(link: ThreadLink): void {
  if (worker === null) return;
  worker.postMessage({ type: "detach", id: link.id });
  attached -= 1;
  if (attached === 0) {
    worker.terminate();
    worker = null;
  }
}
