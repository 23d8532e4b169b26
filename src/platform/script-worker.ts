/**
 * A thread running one self-contained script (no imports), for work that must leave the main
 * thread: Bun and Deno start it as a Web Worker from a Blob URL, Node through
 * `node:worker_threads` with `eval`. The script sees the message as its only argument either way
 * (see `SCRIPT_WORKER_PRELUDE`). The thread never keeps the process alive where the runtime
 * allows that (`unref`: Bun, Node); Deno ends it with the process.
 */
import { Worker as NodeWorker } from "node:worker_threads";

/** What the caller can do with a started worker. */
export interface ScriptWorker {
  postMessage(message: unknown): void;
  terminate(): void;
}

interface WebWorkerLike {
  postMessage(message: unknown): void;
  terminate(): void;
  unref?: () => void;
}

interface WorkerGlobals {
  Worker?: new (url: string, options: { type: "module" }) => WebWorkerLike;
  Bun?: unknown;
  Deno?: unknown;
}

/**
 * Defines `onMessage(handler)` for the script in both worker kinds: a Web Worker's `self`, or
 * `node:worker_threads`' `parentPort`.
 */
export const SCRIPT_WORKER_PRELUDE = `
const onMessage = (handler) => {
  if (typeof self !== "undefined" && typeof self.addEventListener === "function") {
    self.addEventListener("message", (event) => handler(event.data));
  } else {
    require("node:worker_threads").parentPort.on("message", handler);
  }
};
`;

/** Starts `source` (which should begin with {@link SCRIPT_WORKER_PRELUDE}) on a new thread. */
export function startScriptWorker(source: string): ScriptWorker {
  const g = globalThis as WorkerGlobals;
  if (typeof g.Worker === "function" && (g.Bun !== undefined || g.Deno !== undefined)) {
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    const worker = new g.Worker(url, { type: "module" });
    worker.unref?.();
    return {
      postMessage: (message) => worker.postMessage(message),
      terminate: () => {
        worker.terminate();
        URL.revokeObjectURL(url);
      },
    };
  }
  const worker = new NodeWorker(source, { eval: true });
  worker.unref();
  return {
    postMessage: (message) => worker.postMessage(message),
    terminate: () => {
      void worker.terminate();
    },
  };
}
