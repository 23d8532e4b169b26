/**
 * Server-sent events of a streaming exec: a bounded queue between the run and the client. The
 * run's output listener gets a promise back once more than `highWaterBytes` wait to be sent;
 * the runner then stops reading the command's pipe until the client has taken the queue down
 * to half, so a slow reader slows the command instead of growing the server's memory. When the
 * client goes away (the body is cancelled) the queue is dropped and `onCancel` kills the run.
 */
import { assert } from "../../core/mod.ts";

/** Bytes queued for a client before the run is paused: a few SSE frames of typical output. */
export const SSE_HIGH_WATER_BYTES = 64 * 1024;
/** A comment line this often when nothing else is sent, so proxies keep an idle stream open. */
export const SSE_HEARTBEAT_MS = 15_000;

const encoder = new TextEncoder();

/** Options of {@link SseChannel}. */
export interface SseChannelOptions {
  highWaterBytes: number;
  heartbeatMs: number;
  /** Called once when the client cancels the stream (disconnects). */
  onCancel: () => void;
}

/**
 * One event stream.
 *
 * @example
 * ```ts
 * const channel = new SseChannel({ highWaterBytes: 65536, heartbeatMs: 15000, onCancel });
 * await channel.send("stdout", { data: "1\n" });
 * channel.close();
 * return new Response(channel.readable, { headers: SSE_HEADERS });
 * ```
 */
export class SseChannel {
  readonly readable: ReadableStream<Uint8Array>;
  readonly #options: SseChannelOptions;
  readonly #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #closing = false;
  #cancelled = false;
  #wake: (() => void) | null = null;
  #drained: (() => void)[] = [];
  #heartbeat: ReturnType<typeof setInterval> | null = null;

  constructor(options: SseChannelOptions) {
    assert(options.highWaterBytes > 0, "a positive high-water mark");
    this.#options = options;
    this.readable = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.#pull(controller),
        cancel: () => this.#cancel(),
      },
      { highWaterMark: 0 },
    );
    this.#heartbeat = setInterval(() => {
      if (this.#queue.length === 0) this.#push(encoder.encode(": keep-alive\n\n"));
    }, options.heartbeatMs);
    (this.#heartbeat as { unref?: () => void }).unref?.();
  }

  /** Bytes waiting for the client (bounded by the high-water mark plus one frame). */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * Queues one event (`data` as one JSON line). Returns a promise when the queue is over its
   * high-water mark: it settles once the client took it down to half (or went away).
   */
  send(event: string, data: unknown): Promise<void> | undefined {
    if (this.#cancelled || this.#closing) return undefined;
    this.#push(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
    if (this.#queuedBytes <= this.#options.highWaterBytes) return undefined;
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** No more events: the stream ends once the queue is sent. */
  close(): void {
    this.#closing = true;
    this.#stopHeartbeat();
    this.#wake?.();
  }

  #push(frame: Uint8Array): void {
    this.#queue.push(frame);
    this.#queuedBytes += frame.length;
    this.#wake?.();
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    while (this.#queue.length === 0 && !this.#closing && !this.#cancelled) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = null;
    }
    const frame = this.#queue.shift();
    if (frame === undefined) {
      if (!this.#cancelled) controller.close();
      return;
    }
    this.#queuedBytes -= frame.length;
    controller.enqueue(frame);
    if (this.#queuedBytes <= this.#options.highWaterBytes / 2) this.#release();
  }

  #release(): void {
    for (const resolve of this.#drained.splice(0)) resolve();
  }

  #cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    this.#stopHeartbeat();
    this.#release();
    this.#wake?.();
    this.#options.onCancel();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
  }
}

/** Headers of an event stream; `x-accel-buffering: no` keeps nginx from holding events back. */
export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
};

/** True when the request's `Accept` lists `text/event-stream` (with a non-zero q). */
export function wantsEventStream(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(",").some((part) => {
    const [type, ...params] = part.trim().toLowerCase().split(";");
    if (type?.trim() !== "text/event-stream") return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
