/**
 * The orchestrator's clock and timers, injected: the server passes the system's, tests pass a
 * manual clock they advance, so retries (1 s and up), durable timers and timeouts are tested
 * without sleeping.
 */

/** A wall clock (ms since epoch) and one-shot timers on it. */
export interface Timers {
  nowMs(): number;
  /** Calls `fire` once `delayMs` has passed; the returned function cancels it. */
  setTimer(delayMs: number, fire: () => void): () => void;
}

/** Longest delay one `setTimeout` takes (2^31 - 1 ms); longer waits re-arm. */
const TIMEOUT_MS_MAX = 2_147_483_647;

/** The system clock `nowMs` with `setTimeout`. */
export function systemTimers(nowMs: () => number): Timers {
  return {
    nowMs,
    setTimer(delayMs, fire) {
      let handle: ReturnType<typeof setTimeout>;
      const deadline = nowMs() + delayMs;
      const arm = (ms: number) => {
        handle = setTimeout(
          () => {
            const left = deadline - nowMs();
            if (left > 0) arm(left);
            else fire();
          },
          Math.min(Math.max(0, ms), TIMEOUT_MS_MAX),
        );
      };
      arm(delayMs);
      return () => clearTimeout(handle);
    },
  };
}

/** Resolves at `atMs` on `timers`' clock; rejects with the signal's reason when it aborts first. */
export function sleepUntil(timers: Timers, atMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = timers.setTimer(atMs - timers.nowMs(), () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A signal that aborts after `delayMs` on `timers`' clock, and its cancel (no leak once done). */
export function timeoutSignal(
  timers: Timers,
  delayMs: number,
  reason: () => unknown,
): {
  signal: AbortSignal;
  cancel: () => void;
} {
  const controller = new AbortController();
  const cancel = timers.setTimer(delayMs, () => controller.abort(reason()));
  return { signal: controller.signal, cancel };
}
