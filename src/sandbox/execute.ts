/**
 * The process lifecycle of one run: spawn the plan, capture output with caps, enforce the wall
 * limit, kill on timeout/limit/cancel (TERM to the run, bounded grace, KILL), and return only
 * once the tracker verifies that no process of the run is alive (AR-16).
 */
import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { parseInitStatus } from "./linux/mod.ts";
import type { SandboxLogger } from "./options.ts";
import { OutputCapture } from "./output.ts";
import { type OutputListener, type OutputStream, OutputTap } from "./output-tap.ts";
import type { LaunchPlan } from "./shim.ts";
import { type KillReason, signalName } from "./status.ts";

/** Longest poll interval while waiting for killed processes to vanish. */
const POLL_MS_MAX = 10;

/** Poll backoff: 1, 2, 4, 8, 10, 10… ms, so a process that is already exiting costs ~1 ms. */
function pollMs(attempt: number): number {
  return Math.min(POLL_MS_MAX, 2 ** Math.min(attempt, 4));
}
/** How long to wait for the pipes to close once no process of the run is alive. */
const PIPE_DRAIN_MS = 1000;
/** Most characters kept from fd 3: `R` and one `X<status>\n` record fit many times over. */
const MARKER_CHARS_MAX = 256;

/** Inputs of {@link execute}. */
export interface ExecuteInput {
  plan: LaunchPlan;
  cwd: string;
  env: Record<string, string>;
  stdin: string | undefined;
  wallMs: number;
  outputBytes: number;
  killGraceMs: number;
  reapTimeoutMs: number;
  clockMs: () => number;
  signal: AbortSignal | undefined;
  log: SandboxLogger;
  /** Receives the output while the run runs (streaming exec); may push back. */
  onOutput?: OutputListener | undefined;
}

/** What happened. */
export interface Executed {
  spawnError: string | null;
  ready: boolean;
  /** The command's own exit: from the run's init when it reported one, else the leader's. */
  exitCode: number | null;
  exitSignal: string | null;
  killReason: KillReason | null;
  durationMs: number;
  survivors: number;
  stdout: OutputCapture;
  stderr: OutputCapture;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function ended(stream: Readable | Writable | null | undefined): Promise<void> {
  if (stream === null || stream === undefined || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once("close", () => resolve());
    stream.once("error", () => resolve());
  });
}

/** Deadlines use the real monotonic clock, never the injected one (which may be a test fake). */
const nowMs = () => performance.now();

/** Waits until `members()` is empty or the deadline passes; returns the last count. */
async function waitGone(members: () => Promise<number[]>, untilMs: number): Promise<number> {
  let alive = (await members()).length;
  for (let attempt = 0; alive > 0 && nowMs() < untilMs; attempt += 1) {
    await delay(pollMs(attempt));
    alive = (await members()).length;
  }
  return alive;
}

type Child = ReturnType<typeof spawn>;

function spawnPlan(input: ExecuteInput): Child {
  const [file, ...args] = input.plan.argv;
  return spawn(file ?? "", args, {
    cwd: input.cwd,
    env: input.env,
    detached: input.plan.detached,
    windowsHide: true,
    stdio: [
      input.stdin === undefined ? "ignore" : "pipe",
      "pipe",
      "pipe",
      input.plan.readyMarker ? "pipe" : "ignore",
    ],
  });
}

/** Resolves when the leader exited, or when spawning it failed (no pid). */
function waitExit(
  child: Child,
  result: Executed,
  clockMs: () => number,
  startMs: number,
): Promise<void> {
  return new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      result.durationMs = clockMs() - startMs;
      result.exitCode = code;
      result.exitSignal = signal;
      resolve();
    });
    child.once("error", (error) => {
      result.spawnError = (error as NodeJS.ErrnoException).code ?? error.message;
      if (child.pid === undefined) {
        result.durationMs = clockMs() - startMs;
        resolve();
      }
    });
  });
}

function streamsOf(child: Child): (Readable | Writable | null)[] {
  return [child.stdout, child.stderr, child.stdio[3] as Readable | null, child.stdin];
}

/** Waits (bounded) for the output pipes to close, then releases every stream of the child. */
async function closeStreams(child: Child, drain: boolean): Promise<void> {
  if (drain) {
    const pipes = [child.stdout, child.stderr, child.stdio[3] as Readable | null].map(ended);
    await Promise.race([Promise.all(pipes), delay(PIPE_DRAIN_MS)]);
  }
  for (const stream of streamsOf(child)) stream?.destroy();
}

/**
 * Runs the plan to the end.
 *
 * @example
 * ```ts
 * const done = await execute({ plan, cwd, env, stdin: undefined, wallMs: 1000, … });
 * ```
 */
export async function execute(input: ExecuteInput): Promise<Executed> {
  const child = spawnPlan(input);
  try {
    return await supervise(input, child);
  } catch (error) {
    // A bug (failed assertion) escaped mid-run: still leave no process of the run behind.
    if (child.pid !== undefined) await killEverything(input, child.pid);
    throw error;
  }
}

/** Best effort, never throws: SIGKILL every process of the run until none is left or time is up. */
async function killEverything(input: ExecuteInput, leaderPid: number): Promise<void> {
  const deadline = nowMs() + input.reapTimeoutMs;
  try {
    await input.plan.tracker.started(leaderPid);
    for (let attempt = 0; nowMs() < deadline; attempt += 1) {
      await input.plan.tracker.signalAll("SIGKILL", false);
      if ((await input.plan.tracker.members()).length === 0) return;
      await delay(pollMs(attempt));
    }
  } catch {
    // The tracker itself failed; the caller rethrows the original error.
  }
}

async function supervise(input: ExecuteInput, child: Child): Promise<Executed> {
  const { plan, clockMs, log } = input;
  const startMs = clockMs();
  const result: Executed = {
    spawnError: null,
    ready: false,
    exitCode: null,
    exitSignal: null,
    killReason: null,
    durationMs: 0,
    survivors: 0,
    stdout: new OutputCapture(input.outputBytes),
    stderr: new OutputCapture(input.outputBytes),
  };
  let started: Promise<void> | null = null;
  const ensureStarted = (): Promise<void> => {
    started ??= child.pid === undefined ? Promise.resolve() : plan.tracker.started(child.pid);
    return started;
  };
  let exited = false;
  let killing: Promise<void> = Promise.resolve();
  const terminate = (reason: KillReason): void => {
    if (result.killReason !== null || exited || child.pid === undefined) return;
    result.killReason = reason;
    log("info", "sandbox.run.kill", { reason, signal: "SIGTERM", grace_ms: input.killGraceMs });
    killing = (async () => {
      await ensureStarted();
      await plan.tracker.signalAll("SIGTERM", true);
      await waitGone(() => plan.tracker.members(), nowMs() + input.killGraceMs);
      await plan.tracker.signalAll("SIGKILL", false);
    })();
    // Awaited (and rethrown) after the exit; this only keeps an early failure from being
    // reported as an unhandled rejection in the meantime.
    killing.catch(() => undefined);
  };
  const exit = waitExit(child, result, clockMs, startMs).then(() => {
    exited = true;
  });
  const markReady = () => {
    if (result.ready) return;
    result.ready = true;
    // Awaited after the exit; the catch only avoids an "unhandled" report before then.
    ensureStarted().catch(() => undefined);
  };
  let marker = "";
  if (plan.readyMarker) {
    child.stdio[3]?.on("data", (chunk: Uint8Array) => {
      if (marker.length < MARKER_CHARS_MAX) marker += new TextDecoder().decode(chunk);
      if (marker.includes("R")) markReady();
    });
  } else child.once("spawn", markReady);
  const taps = tapOutput(child, input, () => exited);
  child.stdout?.on("data", (chunk: Uint8Array) => {
    if (result.stdout.push(chunk)) terminate("output_limit");
  });
  child.stderr?.on("data", (chunk: Uint8Array) => {
    if (result.stderr.push(chunk)) terminate("output_limit");
  });
  child.stdin?.on("error", () => undefined); // EPIPE when the command does not read its stdin.
  child.stdin?.end(input.stdin ?? "");
  const timer = setTimeout(() => terminate("timeout"), input.wallMs);
  const onAbort = () => terminate("cancelled");
  input.signal?.addEventListener("abort", onAbort, { once: true });
  if (input.signal?.aborted) onAbort();
  try {
    await exit;
  } finally {
    clearTimeout(timer);
    input.signal?.removeEventListener("abort", onAbort);
  }
  // Spawn failed: there is no process to track, signal or reap.
  if (child.pid === undefined) return closeStreams(child, false).then(() => result);
  await ensureStarted();
  await killing;
  result.survivors = await reap(input);
  // Nothing of the run writes any more: what is left in the pipes is read without waiting for
  // the consumer (at most a pipe buffer per stream), so the drain below cannot stall.
  child.stdout?.resume();
  child.stderr?.resume();
  await closeStreams(child, true);
  await taps.finish();
  commandStatus(result, parseInitStatus(marker), plan.wrapperExitStatus);
  return result;
}

/** The streaming taps of a run: pieces of text to `onOutput`, reading paused while it pushes back. */
function tapOutput(
  child: Child,
  input: ExecuteInput,
  exited: () => boolean,
): { finish(): Promise<void> } {
  const listener = input.onOutput;
  if (listener === undefined) return { finish: () => Promise.resolve() };
  const taps: [Readable | null, OutputTap][] = (["stdout", "stderr"] as OutputStream[]).map(
    (name) => {
      const stream = name === "stdout" ? child.stdout : child.stderr;
      return [stream, new OutputTap(input.outputBytes, (text) => listener(name, text))];
    },
  );
  for (const [stream, tap] of taps) {
    stream?.on("data", (chunk: Uint8Array) => {
      const pending = tap.push(chunk);
      if (pending === undefined || exited()) return;
      stream.pause();
      pending.then(
        () => stream.resume(),
        () => stream.resume(),
      );
    });
  }
  return {
    finish: async () => {
      for (const [, tap] of taps) await tap.finish();
    },
  };
}

/** Highest signal number a wrapper's 128 + n exit is read as (SIGRTMAX on Linux). */
const SIGNAL_MAX = 64;

/**
 * How the command itself ended. The init's report replaces the leader's exit (it saw the real
 * wait status; unshare 2.38 even exits 1 when its child died of SIGKILL). Without it, a
 * wrapper's exit 128 + n is read as a death by signal n, as bash and bubblewrap spell it.
 */
function commandStatus(result: Executed, status: number | null, wrapperExit: boolean): void {
  if (status !== null) {
    const signo = status & 0x7f;
    result.exitSignal = signo === 0 ? null : signalName(signo);
    result.exitCode = signo === 0 ? (status >> 8) & 0xff : null;
    return;
  }
  const code = result.exitCode;
  if (wrapperExit && code !== null && code > 128 && code <= 128 + SIGNAL_MAX) {
    result.exitSignal = signalName(code - 128);
    result.exitCode = null;
  }
}

/** Kills whatever of the run is still alive after the leader exited; returns survivors. */
async function reap(input: ExecuteInput): Promise<number> {
  const { plan, log } = input;
  const first = await plan.tracker.members();
  if (first.length === 0) return 0;
  log("info", "sandbox.run.kill", {
    reason: "leftover_after_exit",
    signal: "SIGKILL",
    count: first.length,
    pids: first.slice(0, 16),
  });
  const deadline = nowMs() + input.reapTimeoutMs;
  let alive = first.length;
  for (let attempt = 0; alive > 0 && nowMs() < deadline; attempt += 1) {
    await plan.tracker.signalAll("SIGKILL", false);
    await delay(pollMs(attempt));
    alive = (await plan.tracker.members()).length;
  }
  if (alive > 0)
    log("error", "sandbox.run.survivors", { count: alive, reap_timeout_ms: input.reapTimeoutMs });
  return alive;
}
