/**
 * Log lines of one event-loop turn written together: a server logs a line per request, and one
 * write per line was ~3 % of a run's CPU at a thousand requests a second (bench/runs.ts). Lines
 * wait at most until the loop's next check phase; `flush` writes what waits at once (shutdown),
 * and so does process exit. Past `maxBytes` waiting, they are written at once too.
 */
import process from "node:process";
import { setImmediate } from "node:timers";

/** Most bytes (UTF-16 units) of lines waiting before they are written at once. */
const WAITING_CHARS_MAX = 64 * 1024;

/** A writer of lines (each ending in a newline) that joins the lines of one turn. */
export interface LineBatch {
  write(line: string): void;
  /** Writes what waits now. */
  flush(): void;
  /** Writes what waits and stops watching for process exit (lines written later go at once). */
  close(): void;
}

/**
 * Batches `write`'s calls.
 *
 * @example
 * ```ts
 * const lines = batchLines((text) => process.stdout.write(text));
 * lines.write('{"event":"x"}\n');
 * ```
 */
export function batchLines(write: (text: string) => void): LineBatch {
  let waiting = "";
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (waiting === "") return;
    const text = waiting;
    waiting = "";
    write(text);
  };
  let closed = false;
  process.on("exit", flush);
  return {
    write(line) {
      waiting += line;
      if (closed) {
        flush();
        return;
      }
      if (waiting.length >= WAITING_CHARS_MAX) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
    close() {
      closed = true;
      process.off("exit", flush);
      flush();
    },
  };
}
