// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflows reference values as ${…} text
/**
 * The workload of the orchestrator's crash test (issue 16): seeded runs that mix every step kind
 * whose effects can be counted — echo with `delay_ms`, `context.upsert`, `exec` (appends its
 * idempotency key to a file of the run's workspace: executions are counted from outside), a
 * durable `wait` timer, a retried step, a `wait` for a signal the test sends — each with the end
 * it is designed for (succeeded, failed, or cancelled by the test), and the checks of one
 * finished run against its design.
 */
import type { Json } from "./crash-server.ts";

/** How a run is designed to end. */
export type Fate = "succeeded" | "failed" | "cancelled";

/** One run of the workload, as the test plans it. */
export interface PlannedRun {
  n: number;
  fate: Fate;
  /** The body of `POST /v1/runs` (with its idempotency key). */
  body: { workflow: Json; input: Json; idempotency_key: string };
  /** Attempts each step ends with when the run succeeds. */
  attempts: Record<string, number>;
}

/** Name of the signal a run's gate waits for. */
export const GO = "go";

/** The workspace file run `n`'s exec step appends to. */
export const execLog = (n: number) => `crash-exec-${n}.log`;

/** The document run `n`'s upsert writes. */
export const docOf = (n: number) => `crash-doc-${n}`;

/**
 * Run `n`: `first` feeds five independent branches (upsert, exec, durable timer, a step that
 * fails once and is retried, a gate waiting for the test's signal), which join in `slow`; a run
 * designed to fail then has a step that fails for good; `last` echoes `first`'s output. A run
 * designed to be cancelled is never signalled: only the cancel ends it.
 */
export function planRun(n: number, random: () => number, withExec: boolean): PlannedRun {
  const draw = random();
  const fate: Fate = draw < 0.1 ? "failed" : draw < 0.2 ? "cancelled" : "succeeded";
  const between = (lowMs: number, highMs: number) =>
    lowMs + Math.floor(random() * (highMs - lowMs));
  const branches: Json[] = [
    {
      id: "save",
      kind: "context.upsert",
      needs: ["first"],
      with: { items: [{ id: docOf(n), text: "run ${run.id} wrote this" }] },
    },
    { id: "nap", kind: "wait", needs: ["first"], with: { sleep_ms: between(50, 1_200) } },
    {
      id: "flaky",
      kind: "echo",
      needs: ["first"],
      retry: { max_attempts: 2 },
      with: { value: n, fail_attempts: 1 },
    },
    { id: "gate", kind: "wait", needs: ["first"], with: { signal: GO } },
  ];
  if (withExec) {
    const append = `printf '%s\\n' "$VLTAIR_IDEMPOTENCY_KEY" >> ${execLog(n)}`;
    branches.push({
      id: "tick",
      kind: "exec",
      needs: ["first"],
      with: { cmd: ["sh", "-c", append] },
    });
  }
  const joined = branches.map((b) => b.id);
  const tail: Json[] = [
    { id: "slow", kind: "echo", needs: joined, with: { value: 1, delay_ms: between(20, 300) } },
  ];
  if (fate === "failed")
    tail.push({ id: "doomed", kind: "echo", needs: ["slow"], with: { fail_attempts: 1 } });
  tail.push({
    id: "last",
    kind: "echo",
    needs: [tail.at(-1).id],
    with: { value: "${steps.first.output}" },
  });
  const steps = [
    { id: "first", kind: "echo", with: { value: "${input.n}" } },
    ...branches,
    ...tail,
  ];
  const attempts = Object.fromEntries(steps.map((s) => [s.id, s.id === "flaky" ? 2 : 1]));
  return {
    n,
    fate,
    body: { workflow: { steps }, input: { n }, idempotency_key: `crash-run-${n}` },
    attempts,
  };
}

/** The steps whose `step.completed` event appears in an event stream, in order. */
export function completions(events: string): string[] {
  return [...events.matchAll(/"type":"step.completed","ts":"[^"]+","step_id":"([\w-]+)"/g)].map(
    (m) => m[1] as string,
  );
}

/** The terminal event of a replay or event stream, or null while the run goes on. */
export function endOf(events: string): Fate | null {
  const last = events.match(/event: run\.(succeeded|failed|cancelled)\n/);
  return (last?.[1] as Fate | undefined) ?? null;
}

/**
 * What is wrong with the exec step's executions of `run` (the lines of its workspace file), or
 * an empty list. At least once, never for nothing: every line is the idempotency key of an
 * attempt of the run's exec step; an attempt ran at most once per start of it (its first start
 * and each restart after a crash, with the same key); a completed attempt ran at least once.
 */
export function execProblems(run: Json, lines: readonly string[]): string[] {
  const step = run.steps.find((s: Json) => s.id === "tick");
  if (step === undefined) return lines.length === 0 ? [] : ["executions of a run without exec"];
  const problems: string[] = [];
  const byKey = new Map<string, number>();
  for (const line of lines) byKey.set(line, (byKey.get(line) ?? 0) + 1);
  const starts = new Map<string, number>(
    step.attempts.map((a: Json) => [`${run.run_id}:tick:${a.n}`, 1 + a.restarts]),
  );
  for (const [key, count] of byKey) {
    const allowed = starts.get(key);
    if (allowed === undefined) problems.push(`${key}: no such attempt`);
    else if (count > allowed) problems.push(`${key}: ran ${count} times, started ${allowed}`);
  }
  if (step.state === "succeeded") {
    const key = `${run.run_id}:tick:${step.attempts.at(-1).n}`;
    if (!byKey.has(key)) problems.push(`${key}: completed without running`);
  }
  return problems;
}
