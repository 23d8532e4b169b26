/**
 * The server smoke used by tests and by .ci/run: start a command on port 0 in an empty
 * directory, wait for `server.listening`, check /v1/health and an authenticated /metrics,
 * send SIGTERM and expect exit 0 with `server.stopped` logged.
 */
import { type Child, jsonLines, listeningUrl, start } from "./process.ts";

export interface SmokeResult {
  url: string;
  health: Record<string, unknown>;
  exitCode: number;
  lines: Record<string, unknown>[];
}

/** Runs the smoke; throws with the server's output when a step fails. */
export async function smokeServe(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): Promise<SmokeResult> {
  const token = "smoke-admin-token-0123456789";
  const child: Child = start(command, [...args, "--port", "0"], {
    cwd: options.cwd,
    env: { VLTAIR_ADMIN_TOKEN: token, ...options.env },
  });
  const fail = (what: string): never => {
    child.proc.kill("SIGKILL");
    throw new Error(`${what}\nstdout:\n${child.stdout()}\nstderr:\n${child.stderr()}`);
  };
  const url = await listeningUrl(child, 30_000).catch((e: Error) => fail(e.message));
  const health = (await (await fetch(`${url}/v1/health`)).json()) as Record<string, unknown>;
  if (health.status !== "ok") fail(`health: ${JSON.stringify(health)}`);
  const denied = await fetch(`${url}/metrics`);
  if (denied.status !== 401) fail(`/metrics without a token: ${denied.status}`);
  const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const text = await metrics.text();
  if (metrics.status !== 200 || !text.includes("vltair_http_requests_total")) {
    fail(`/metrics with a token: ${metrics.status}`);
  }
  child.proc.kill("SIGTERM");
  const exitCode = await child.exited;
  return { url, health, exitCode, lines: jsonLines(child.stdout()) };
}
