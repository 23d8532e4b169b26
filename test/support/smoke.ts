/**
 * The server smoke used by tests and by .ci/run: start a command on port 0 in an empty
 * directory, wait for `server.listening`, check /v1/health and an authenticated /metrics, once
 * ready upsert a document and find it with a hybrid search (WAL, text and WASM vector index on
 * this runtime), store a policy that forbids one write and see it refused (the embedded Cedar
 * module decides), with `sandbox: true` run one sandboxed command and one that times out, send
 * SIGTERM and expect exit 0 with `server.stopped` logged.
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
  options: { cwd: string; env?: Record<string, string | undefined>; sandbox?: boolean },
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
  await contextSmoke(url, token).catch((e: Error) => fail(e.message));
  await policySmoke(url, token).catch((e: Error) => fail(e.message));
  if (options.sandbox === true) await sandboxSmoke(url, token).catch((e: Error) => fail(e.message));
  child.proc.kill("SIGTERM");
  const exitCode = await child.exited;
  return { url, health, exitCode, lines: jsonLines(child.stdout()) };
}

/** Waits for /v1/ready, then upserts one document and expects a hybrid search to find it. */
async function contextSmoke(url: string, token: string): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const deadline = Date.now() + 30_000;
  while ((await fetch(`${url}/v1/ready`)).status !== 200) {
    if (Date.now() > deadline) throw new Error("/v1/ready stayed 503");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const upsert = await fetch(`${url}/v1/context/docs:upsert`, {
    method: "POST",
    headers,
    body: JSON.stringify({ items: [{ id: "smoke", text: "export function smokeTest() {}" }] }),
  });
  if (upsert.status !== 200) throw new Error(`upsert: ${upsert.status} ${await upsert.text()}`);
  const search = await fetch(`${url}/v1/context/search`, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: "smokeTest", strategy: "hybrid" }),
  });
  const body = (await search.json()) as { results?: { id: string }[] };
  if (search.status !== 200 || body.results?.[0]?.id !== "smoke") {
    throw new Error(`search: ${search.status} ${JSON.stringify(body)}`);
  }
}

/** One sandboxed command (OK, its output) and one past its wall limit (TIMEOUT, rc 124, on time). */
async function sandboxSmoke(url: string, token: string): Promise<void> {
  const exec = async (body: unknown) => {
    const response = await fetch(`${url}/v1/sandbox/exec`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const result = (await response.json()) as Record<string, unknown>;
    if (response.status !== 200)
      throw new Error(`exec: ${response.status} ${JSON.stringify(result)}`);
    return result;
  };
  const ok = await exec({ cmd: ["sh", "-c", "echo sandboxed"] });
  if (ok.status !== "OK" || ok.stdout !== "sandboxed\n") {
    throw new Error(`sandbox exec: ${JSON.stringify(ok).slice(0, 2000)}`);
  }
  const late = await exec({ cmd: ["sleep", "10"], limits: { wall_ms: 300 } });
  if (late.status !== "TIMEOUT" || late.rc !== 124 || Number(late.duration_ms) > 3000) {
    throw new Error(`sandbox timeout: ${JSON.stringify(late).slice(0, 2000)}`);
  }
}

/** The smoke's policy: one write forbidden, everything else as shipped. */
const SMOKE_POLICY = `@id("no-denied-doc") forbid(principal, action == vltair::Action::"context.write", resource)
  when { context.id == "denied" };
@id("default") permit(principal, action, resource);
`;

/**
 * Stores a global policy (as the operator) that forbids writing document `denied`, then expects
 * that upsert to be 403 policy_denied naming the policy, and another write to pass.
 */
async function policySmoke(url: string, token: string): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const put = await fetch(`${url}/v1/policy`, {
    method: "PUT",
    headers,
    body: JSON.stringify({ cedar: SMOKE_POLICY }),
  });
  if (put.status !== 200) throw new Error(`policy put: ${put.status} ${await put.text()}`);
  const upsert = (id: string) =>
    fetch(`${url}/v1/context/docs:upsert`, {
      method: "POST",
      headers,
      body: JSON.stringify({ items: [{ id, text: "policy smoke" }] }),
    });
  const denied = await upsert("denied");
  const body = (await denied.json()) as { error?: { code?: string; details?: { reasons?: [] } } };
  if (
    denied.status !== 403 ||
    body.error?.code !== "policy_denied" ||
    JSON.stringify(body.error.details?.reasons) !== '["no-denied-doc"]'
  ) {
    throw new Error(`policy deny: ${denied.status} ${JSON.stringify(body)}`);
  }
  const allowed = await upsert("allowed");
  if (allowed.status !== 200) throw new Error(`policy allow: ${allowed.status}`);
}
