/** Load shapes shared by the orchestrator bench and its Restate peer: latency summaries and N clients. */

/** Latency figures of one side. */
export interface PeerFigures {
  sequential: { p50_ms: number; p95_ms: number; p99_ms: number };
  runs_per_s: number;
  steps_per_s: number;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** p50/p95/p99 of latencies in ms. */
export function latencySummary(samplesMs: readonly number[]): PeerFigures["sequential"] {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    p50_ms: round(quantile(sorted, 0.5)),
    p95_ms: round(quantile(sorted, 0.95)),
    p99_ms: round(quantile(sorted, 0.99)),
  };
}

/** `runs` calls of `once` by `clients` concurrent loops; runs per second over the whole. */
export async function runLoad(
  once: () => Promise<void>,
  options: { runs: number; clients: number },
): Promise<{ runsPerS: number }> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      while (next < options.runs) {
        next += 1;
        await once();
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { runsPerS: Math.round((options.runs / seconds) * 10) / 10 };
}
