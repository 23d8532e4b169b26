/**
 * The progress line `vltair ingest` redraws on a terminal's stderr: a bar, files done of total,
 * chunks, chunks/s and an ETA from the bytes read so far (files differ in size, bytes do not).
 */

/** Where an ingest stands. */
export interface ProgressState {
  files: number;
  filesTotal: number;
  chunks: number;
  bytes: number;
  bytesTotal: number;
  elapsedMs: number;
}

/** Width of the bar in characters. */
const BAR_CHARS = 24;
/** Least time between two redraws. */
export const REDRAW_INTERVAL_MS = 100;

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/**
 * One progress line (no newline).
 *
 * @example
 * ```ts
 * progressLine({ files: 5, filesTotal: 10, chunks: 40, bytes: 50, bytesTotal: 100, elapsedMs: 2000 });
 * // "[############............] 5/10 files  40 chunks  20 chunks/s  ETA 2s"
 * ```
 */
export function progressLine(state: ProgressState): string {
  const fraction = state.bytesTotal === 0 ? 1 : Math.min(1, state.bytes / state.bytesTotal);
  const filled = Math.round(fraction * BAR_CHARS);
  const bar = `[${"#".repeat(filled)}${".".repeat(BAR_CHARS - filled)}]`;
  const seconds = state.elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round(state.chunks / seconds) : 0;
  const eta =
    fraction > 0 && fraction < 1 ? duration((state.elapsedMs * (1 - fraction)) / fraction) : "-";
  return `${bar} ${state.files}/${state.filesTotal} files  ${state.chunks} chunks  ${rate} chunks/s  ETA ${eta}`;
}

/** Redraws the progress line in place, at most every {@link REDRAW_INTERVAL_MS}. */
export class ProgressBar {
  readonly #write: (text: string) => void;
  readonly #monotonicMs: () => number;
  #lastMs = Number.NEGATIVE_INFINITY;
  #drawn = false;

  constructor(write: (text: string) => void, monotonicMs: () => number) {
    this.#write = write;
    this.#monotonicMs = monotonicMs;
  }

  /** Redraws unless the last redraw was too recent (`force` draws anyway). */
  update(state: ProgressState, force = false): void {
    const now = this.#monotonicMs();
    if (!force && now - this.#lastMs < REDRAW_INTERVAL_MS) return;
    this.#lastMs = now;
    this.#drawn = true;
    this.#write(`\r\x1b[K${progressLine(state)}`);
  }

  /** Ends the line so later output starts on its own line. */
  finish(): void {
    if (this.#drawn) this.#write("\n");
    this.#drawn = false;
  }
}
