/**
 * Redaction end to end (issue 17 item 6): secrets planted in the environment, a created token,
 * headers of any case and a URL query; errors forced over HTTP, failed start-ups, a crash of a
 * process with the crash reporter — then every byte the processes wrote (stdout, stderr, response
 * bodies and headers, /metrics, the data directory) is searched: no secret appears.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { hasPosixSignals } from "../../src/platform/mod.ts";
import { BUN, MAIN, ROOT, readyUrl, run, start } from "../support/process.ts";
import { tempDir } from "../support/tmp.ts";

const ADMIN_SECRET = "plant-admin-9f8e7d6c5b4a3210ffee";
const EMBEDDER_SECRET = "plant-embedder-key-0a1b2c3d4e5f";
const LLM_SECRET = "plant-llm-key-77aa66bb55cc44dd";
/** A model provider whose key is planted; nothing listens at its port (the call fails). */
const PROVIDERS = JSON.stringify({
  local: { base_url: "http://127.0.0.1:9/v1", api_key_env: "PLANT_LLM_KEY" },
});

/** Every file under `dir`, as text. */
function filesText(dir: string): string {
  let out = "";
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out += fs.readFileSync(path.join(entry.parentPath, entry.name), "latin1");
  }
  return out;
}

describe.if(hasPosixSignals())("redaction", () => {
  test("no planted secret appears in logs, responses, metrics, errors or the data dir", async () => {
    const cwd = tempDir();
    const dataDir = path.join(cwd, "data");
    const env = {
      VLTAIR_ADMIN_TOKEN: ADMIN_SECRET,
      VLTAIR_EMBEDDER_API_KEY: EMBEDDER_SECRET,
      VLTAIR_LLM_PROVIDERS: PROVIDERS,
      PLANT_LLM_KEY: LLM_SECRET,
    };
    const server = start(
      BUN,
      [MAIN, "serve", "--port", "0", "--data-dir", dataDir, "--log-level", "debug"],
      { cwd, env },
    );
    let written = "";
    const secrets = [ADMIN_SECRET, EMBEDDER_SECRET, LLM_SECRET];
    try {
      const url = await readyUrl(server);
      const send = async (route: string, init: RequestInit = {}) => {
        const response = await fetch(`${url}${route}`, init);
        written += `${response.status} ${JSON.stringify(response.headers)} ${await response.text()}\n`;
        return response;
      };
      const created = await fetch(`${url}/v1/tokens`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_SECRET}` },
        body: JSON.stringify({ roles: ["writer"], tenant: "acme", subject: "agent" }),
      });
      const token = ((await created.json()) as { token: string }).token;
      secrets.push(token);
      const bearer = (t: string) => ({ authorization: `bEaReR ${t}` });
      await send("/v1/context/docs", { headers: bearer(ADMIN_SECRET) });
      await send(`/v1/context/docs?token=${ADMIN_SECRET}`);
      await send(`/v1/context/docs?api_key=${token}`, { headers: { "X-API-Token": token } });
      await send("/v1/context/docs", { headers: bearer(`${ADMIN_SECRET}x`) });
      await send(`/v1/context/docs/${encodeURIComponent(ADMIN_SECRET)}`, {
        headers: bearer(token),
      });
      // A model call that fails (nothing listens): the key is sent nowhere but the provider.
      const llmRun = await send("/v1/runs?wait_ms=20000", {
        method: "POST",
        headers: { ...bearer(token), "content-type": "application/json" },
        body: JSON.stringify({
          workflow: {
            steps: [
              {
                id: "ask",
                kind: "llm",
                with: { model: "m", messages: [{ role: "user", content: "hi" }] },
              },
            ],
          },
        }),
      });
      expect(llmRun.status).toBe(201);
      expect(written).toContain("llm_unreachable");
      await send(`/v1/tokens/${token}`, { method: "DELETE", headers: bearer(ADMIN_SECRET) });
      await send("/v1/context/search", {
        method: "POST",
        headers: bearer(token),
        body: JSON.stringify({ query: token, k: "ten", strategy: ADMIN_SECRET }),
      });
      await send("/v1/context/docs:upsert", {
        method: "POST",
        headers: bearer(token),
        body: `{"items": [{"id": "${ADMIN_SECRET}", "text": `,
      });
      await send("/v1/context/docs:upsert", {
        method: "POST",
        headers: bearer(token),
        body: JSON.stringify({
          items: [{ id: "x", text: "y", metadata: { [ADMIN_SECRET]: 1 }, bogus: token }],
        }),
      });
      await send("/v1/sandbox/exec", {
        method: "POST",
        headers: bearer(token),
        body: JSON.stringify({
          cmd: ["sh", "-c", "env; echo $VLTAIR_ADMIN_TOKEN $VLTAIR_EMBEDDER_API_KEY"],
        }),
      });
      await send("/metrics", { headers: bearer(ADMIN_SECRET) });
      // A second server on the same data dir fails to start (the lock); a bad config too.
      const locked = await run(BUN, [MAIN, "serve", "--port", "0", "--data-dir", dataDir], {
        cwd,
        env,
      });
      expect(locked.code).toBe(1);
      written += locked.stdout + locked.stderr;
      const badToken = await run(
        BUN,
        [MAIN, "serve", "--port", "0", "--data-dir", path.join(cwd, "d2")],
        {
          cwd,
          env: { VLTAIR_ADMIN_TOKEN: `${ADMIN_SECRET} with spaces` },
        },
      );
      expect(badToken.code).toBe(2);
      written += badToken.stdout + badToken.stderr;
      const cli = await run(
        BUN,
        [MAIN, "search", "--data-dir", dataDir, "--json", ADMIN_SECRET, "--k", "0"],
        { cwd, env },
      );
      written += cli.stdout + cli.stderr;
    } finally {
      server.proc.kill("SIGKILL");
      await server.exited;
    }
    written += server.stdout() + server.stderr() + filesText(dataDir);
    // The secrets were used: the logs saw these requests, the responses were errors.
    expect(server.stdout()).toContain('"status":401');
    expect(written).toContain("[REDACTED]");
    for (const secret of secrets)
      expect({ secret, found: written.includes(secret) }).toEqual({ secret, found: false });
  }, 60_000);

  test("a crash prints one redacted process.crashed line and exits 1", async () => {
    const script = path.join(tempDir(), "crash.ts");
    fs.writeFileSync(
      script,
      [
        `import { addSecret, installCrashReporter } from ${JSON.stringify(path.join(ROOT, "src/obs/mod.ts"))};`,
        "installCrashReporter({ write: (l) => process.stderr.write(l), nowMs: () => 0 });",
        `addSecret(${JSON.stringify(ADMIN_SECRET)});`,
        `setTimeout(() => { throw new Error("boom with ${ADMIN_SECRET} and Bearer abc.def"); }, 1);`,
      ].join("\n"),
    );
    const crashed = await run(BUN, [script]);
    expect(crashed.code).toBe(1);
    const line = JSON.parse(crashed.stderr.trim().split("\n").at(-1) ?? "{}");
    expect(line).toMatchObject({
      level: "error",
      event: "process.crashed",
      kind: "uncaught_exception",
    });
    expect(crashed.stderr).not.toContain(ADMIN_SECRET);
    expect(crashed.stderr).not.toContain("abc.def");
    expect(line.error.message).toContain("boom with [REDACTED]");
  });
});
