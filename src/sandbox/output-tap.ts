/**
 * Output of a run as it happens (streaming exec): the bytes of one stream cut into text pieces
 * on UTF-8 code-point boundaries, under the same cap as the captured result. The pieces of a
 * stream, joined, equal the result's `stdout`/`stderr` exactly: a piece is cut only before a
 * lead byte whose sequence is not complete yet (the same rule as the cap's cut), that tail is
 * carried into the next piece, and past the cap the last piece ends with the same
 * `[TRUNCATED at N bytes]` marker.
 */
import { assert } from "../core/mod.ts";
import { decodeUtf8, truncationMarker, utf8Boundary } from "./output.ts";

/** Which stream of the run. */
export type OutputStream = "stdout" | "stderr";

/**
 * Receives the text of a run while it runs. A returned promise is back-pressure: the run's
 * pipe is not read until it settles, so a slow consumer slows the command (which blocks in
 * `write`) instead of growing the server's memory; the wall limit still applies.
 */
export type OutputListener = (stream: OutputStream, text: string) => void | Promise<void>;

/** The tap of one stream. */
export class OutputTap {
  readonly #capBytes: number;
  readonly #emit: (text: string) => void | Promise<void>;
  #carry: Uint8Array = new Uint8Array(0);
  #keptBytes = 0;
  #seenBytes = 0;
  #finished = false;

  constructor(capBytes: number, emit: (text: string) => void | Promise<void>) {
    assert(Number.isInteger(capBytes) && capBytes > 0, "output cap is a positive integer");
    this.#capBytes = capBytes;
    this.#emit = emit;
  }

  /** Takes one chunk; emits the complete characters of it that fit under the cap. */
  push(chunk: Uint8Array): void | Promise<void> {
    assert(!this.#finished, "no output after the end of a stream");
    this.#seenBytes += chunk.length;
    const room = this.#capBytes - this.#keptBytes;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.#keptBytes += part.length;
    const bytes = new Uint8Array(this.#carry.length + part.length);
    bytes.set(this.#carry, 0);
    bytes.set(part, this.#carry.length);
    const cut = utf8Boundary(bytes);
    this.#carry = bytes.slice(cut);
    assert(this.#carry.length <= 3, "at most one incomplete character is carried");
    if (cut === 0) return;
    return this.#emit(decodeUtf8(bytes.subarray(0, cut)));
  }

  /** The stream ended: emits the carried tail, or, past the cap, the cut tail and the marker. */
  finish(): void | Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#seenBytes > this.#capBytes) {
      const head = decodeUtf8(this.#carry.subarray(0, utf8Boundary(this.#carry)));
      return this.#emit(`${head}\n${truncationMarker(this.#capBytes)}`);
    }
    if (this.#carry.length === 0) return;
    return this.#emit(decodeUtf8(this.#carry));
  }
}
