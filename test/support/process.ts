/**
 * Child-process helpers for end-to-end tests: start a server command, wait (with a deadline,
 * never a sleep) for its `server.listening` line, signal it, and collect its exit.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import process from "node:process";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const BUN = process.execPath;
export const DENO = path.join(ROOT, "node_modules", ".bin", "deno");
export const MAIN = path.join(ROOT, "src", "main.ts");
/** Permissions Deno needs: sockets, the data dir, env (config), sys (memory metrics). */
export const DENO_RUN = [
  "run",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
];

/** A started child with its output so far. */
export interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or 128+signal) once the process has exited. */
  exited: Promise<number>;
}

/** Starts a command; output is collected, never inherited. */
export function start(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Child {
  const env: Record<string, string | undefined> = {
    ...process.env,
    TZ: "UTC",
    LC_ALL: "C.UTF-8",
    ...options.env,
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const proc = spawn(command, [...args], {
    cwd: options.cwd ?? ROOT,
    env: env as Record<string, string>,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
  });
  proc.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString("utf8");
  });
  const exited = new Promise<number>((resolve) => {
    proc.on("close", (code, signal) => {
      resolve(code ?? 128 + (signal === "SIGKILL" ? 9 : signal === "SIGTERM" ? 15 : 2));
    });
  });
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** Runs a command to completion with a deadline. */
export async function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = start(command, args, options);
  const code = await withDeadline(child.exited, options.timeoutMs ?? 30_000, () =>
    child.proc.kill("SIGKILL"),
  );
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `deadlineMs`. */
export async function poll<T>(
  probe: () => T | undefined,
  deadlineMs: number,
  what: string,
): Promise<T> {
  const end = performance.now() + deadlineMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > end)
      throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits for the `server.listening` JSON line and returns its URL. */
export async function listeningUrl(child: Child, deadlineMs = 20_000): Promise<string> {
  let exitCode: number | null = null;
  void child.exited.then((code) => {
    exitCode = code;
  });
  return poll(
    () => {
      if (exitCode !== null) {
        throw new Error(
          `server exited ${exitCode} before listening:\n${child.stdout()}\n${child.stderr()}`,
        );
      }
      for (const line of child.stdout().split("\n")) {
        if (!line.includes('"server.listening"')) continue;
        return (JSON.parse(line) as { url: string }).url;
      }
      return undefined;
    },
    deadlineMs,
    "server.listening",
  );
}

/**
 * Waits for `server.listening` and then `server.ready` (recovery finished: data routes answer
 * instead of 503 `recovering`), and returns the URL.
 */
export async function readyUrl(child: Child, deadlineMs = 20_000): Promise<string> {
  const url = await listeningUrl(child, deadlineMs);
  await poll(
    () => (child.stdout().includes('"server.ready"') ? true : undefined),
    deadlineMs,
    "server.ready",
  );
  return url;
}

async function withDeadline(
  exited: Promise<number>,
  timeoutMs: number,
  onTimeout: () => void,
): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      onTimeout();
      resolve(-1);
    }, timeoutMs);
  });
  const code = await Promise.race([exited, late]);
  clearTimeout(timer);
  return code;
}

/** Parses the JSON lines a server printed. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
