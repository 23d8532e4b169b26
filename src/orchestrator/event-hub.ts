/**
 * Live event streams: `GET /v1/runs/{id}/events` writes the run's events from `afterSeq` on,
 * then each new one as the driver commits it, and ends after the terminal event (or when the
 * client goes, or the server stops). Frames come from run-events.ts `sseFrame`, as `/replay`'s.
 */
import { isTerminalEvent, sseFrame } from "./run-events.ts";
import type { RunEntry } from "./runs-machine.ts";

const encoder = new TextEncoder();

/** Who listens to which run. */
export class EventHub {
  readonly #listeners = new Map<string, Set<() => void>>();
  readonly #open = new Set<() => void>();
  #closed = false;

  /** Calls `listener` after each commit of `runId`'s records; returns the unsubscribe. */
  subscribe(runId: string, listener: () => void): () => void {
    let set = this.#listeners.get(runId);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(runId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(runId) === set) this.#listeners.delete(runId);
    };
  }

  /** Tells `runId`'s listeners that its records changed. */
  notify(runId: string): void {
    for (const listener of [...(this.#listeners.get(runId) ?? [])]) listener();
  }

  /**
   * The SSE stream of a run from event `afterSeq + 1` on. `entryOf` reads the run's live entry
   * (its events are appended by the fold as records commit).
   */
  stream(
    runId: string,
    entryOf: () => RunEntry | undefined,
    options: { afterSeq: number; signal?: AbortSignal },
  ): ReadableStream<Uint8Array> {
    let sent = options.afterSeq;
    let stop = () => {};
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          stop();
          controller.close();
        };
        const flush = () => {
          if (done) return;
          const events = entryOf()?.events ?? [];
          let text = "";
          for (const event of events.slice(sent)) {
            text += sseFrame(runId, event);
            sent = event.seq;
          }
          if (text !== "") controller.enqueue(encoder.encode(text));
          // Also a client resuming at or after the terminal event: its stream ends at once.
          const last = events.at(-1);
          if (last !== undefined && isTerminalEvent(last) && sent >= last.seq) finish();
        };
        const unsubscribe = this.subscribe(runId, flush);
        const onAbort = () => finish();
        options.signal?.addEventListener("abort", onAbort, { once: true });
        this.#open.add(finish);
        stop = () => {
          unsubscribe();
          options.signal?.removeEventListener("abort", onAbort);
          this.#open.delete(finish);
        };
        if (this.#closed) finish();
        else flush();
      },
      cancel: () => stop(),
    });
  }

  /** Ends every open stream (the server stops). */
  closeAll(): void {
    this.#closed = true;
    for (const finish of [...this.#open]) finish();
  }
}
