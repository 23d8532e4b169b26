import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { hasPosixFileModes, hasPosixSignals } from "../../src/platform/mod.ts";
import { BUN, jsonLines, MAIN, readyUrl, run, start } from "../support/process.ts";
import { smokeServe } from "../support/smoke.ts";
import { tempDir } from "../support/tmp.ts";

const NO_ADMIN_ENV = { VLTAIR_ADMIN_TOKEN: undefined };
// Windows has no SIGTERM to handle nor file modes: those tests run on POSIX systems only.
const posix = hasPosixSignals() && hasPosixFileModes();

describe.if(posix)("vltair serve (Bun, real process)", () => {
  test("boots on port 0, serves, and exits 0 on SIGTERM", async () => {
    const result = await smokeServe(BUN, [MAIN, "serve"], { cwd: tempDir() });
    expect(result.exitCode).toBe(0);
    expect(result.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(result.url.endsWith(":0")).toBe(false);
    const events = result.lines.map((l) => l.event);
    expect(events).toContain("server.listening");
    expect(events.at(-1)).toBe("server.stopped");
    for (const line of result.lines) {
      expect(line.ts).toMatch(/Z$/);
      expect(typeof line.level).toBe("string");
    }
  });

  test("SIGINT stops it gracefully too", async () => {
    const child = start(BUN, [MAIN, "serve", "--port", "0"], { cwd: tempDir() });
    const url = await readyUrl(child);
    expect((await fetch(`${url}/v1/health`)).status).toBe(200);
    child.proc.kill("SIGINT");
    expect(await child.exited).toBe(0);
    expect(
      jsonLines(child.stdout()).some((l) => l.event === "server.stopped" && l.signal === "SIGINT"),
    ).toBe(true);
  });

  test("without VLTAIR_ADMIN_TOKEN it creates DIR/admin.token (0600), logs its path, never the token", async () => {
    const cwd = tempDir();
    const child = start(BUN, [MAIN, "serve", "--port", "0", "--data-dir", "data"], {
      cwd,
      env: NO_ADMIN_ENV,
    });
    const url = await readyUrl(child);
    const file = path.join(cwd, "data", "admin.token");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const token = fs.readFileSync(file, "utf8").trim();
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    child.proc.kill("SIGTERM");
    expect(await child.exited).toBe(0);
    const lines = jsonLines(child.stdout());
    expect(lines.find((l) => l.event === "auth.admin_token")).toMatchObject({
      path: "data/admin.token",
      created: true,
    });
    expect(child.stdout()).not.toContain(token);
  });

  test("a token made by `vltair token create` while the server runs works at once, and revoke ends it", async () => {
    const cwd = tempDir();
    const child = start(BUN, [MAIN, "serve", "--port", "0"], { cwd });
    const url = await readyUrl(child);
    const created = await run(
      BUN,
      [MAIN, "token", "create", "--tenant", "acme", "--role", "reader", "--json"],
      { cwd },
    );
    expect(created.code).toBe(0);
    const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
    const auth = { headers: { authorization: `Bearer ${token}` } };
    expect((await fetch(`${url}/metrics`, auth)).status).toBe(200);
    expect((await fetch(`${url}/v1/tokens`, auth)).status).toBe(403);
    expect((await run(BUN, [MAIN, "token", "revoke", id], { cwd })).code).toBe(0);
    expect((await fetch(`${url}/metrics`, auth)).status).toBe(401);
    child.proc.kill("SIGTERM");
    expect(await child.exited).toBe(0);
  });

  test("a port in use exits 1 with server.bind_failed, no stack trace, and creates nothing", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const cwd = tempDir();
    const result = await run(BUN, [MAIN, "serve", "--port", String(port)], { cwd });
    blocker.close();
    expect(result.code).toBe(1);
    const failed = jsonLines(result.stdout).find((l) => l.event === "server.bind_failed");
    expect(failed?.reason).toBeString();
    expect(result.stdout + result.stderr).not.toContain("    at ");
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  test("--no-auth on a non-loopback host exits 2 naming the field; on loopback it warns", async () => {
    const refused = await run(
      BUN,
      [MAIN, "serve", "--no-auth", "--host", "0.0.0.0", "--port", "0"],
      { cwd: tempDir() },
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("no_auth: is only allowed on a loopback host");
    const child = start(BUN, [MAIN, "serve", "--no-auth", "--port", "0"], { cwd: tempDir() });
    const url = await readyUrl(child);
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    child.proc.kill("SIGTERM");
    expect(await child.exited).toBe(0);
    expect(jsonLines(child.stdout()).find((l) => l.event === "auth.disabled")?.level).toBe("warn");
  });

  test("an unknown flag exits 2 before anything is created", async () => {
    const cwd = tempDir();
    const result = await run(BUN, [MAIN, "serve", "--prot", "1"], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown flag --prot");
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  test("config file < env < flag in a real process", async () => {
    const cwd = tempDir();
    fs.writeFileSync(
      path.join(cwd, "c.json"),
      JSON.stringify({ data_dir: "from-file", host: "127.0.0.2" }),
    );
    const child = start(
      BUN,
      [MAIN, "serve", "--config", "c.json", "--port", "0", "--host", "127.0.0.1"],
      {
        cwd,
        env: { VLTAIR_DATA_DIR: "from-env" },
      },
    );
    const url = await readyUrl(child);
    expect(url).toStartWith("http://127.0.0.1:");
    child.proc.kill("SIGTERM");
    expect(await child.exited).toBe(0);
    expect(fs.existsSync(path.join(cwd, "from-env"))).toBe(true);
    expect(fs.existsSync(path.join(cwd, "from-file"))).toBe(false);
  });
});
