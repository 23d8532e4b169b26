/**
 * The allowlist's host matching and the server-side proxy on its own (no sandbox): what it
 * admits and refuses, and each of its bounds. Loopback servers only.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostMatches, patternWithin } from "../../../src/sandbox/network-allow.ts";
import {
  addressForbidden,
  type NetworkProxy,
  parseHead,
  startNetworkProxy,
} from "../../../src/sandbox/network-proxy.ts";
import { resolveLimitConfig, type SandboxLimitConfig } from "../../../src/sandbox/options.ts";

describe("allowlist patterns", () => {
  test.each([
    ["a.test", "a.test", true],
    ["A.Test.", "a.test", true],
    ["x.a.test", "a.test", false],
    ["x.a.test", "*.a.test", true],
    ["y.x.a.test", "*.a.test", true],
    ["a.test", "*.a.test", false],
    ["xa.test", "*.a.test", false],
    ["127.0.0.1", "a.test", false],
  ])("host %s against %s: %p", (host, pattern, expected) => {
    expect(hostMatches(host, pattern)).toBe(expected);
  });
  test.each([
    ["a.test", ["a.test"], true],
    ["x.a.test", ["*.a.test"], true],
    ["*.x.a.test", ["*.a.test"], true],
    ["*.a.test", ["*.a.test"], true],
    ["*.a.test", ["*.test"], true],
    ["a.test", ["*.a.test"], false],
    ["*.a.test", ["a.test"], false],
    ["*.a.test", ["x.a.test"], false],
    ["b.test", [], false],
  ])("request %s within ceiling %j: %p", (pattern, ceiling, expected) => {
    expect(patternWithin(pattern, ceiling)).toBe(expected);
  });
  test.each([
    ["127.0.0.1", true],
    ["127.9.9.9", true],
    ["169.254.169.254", true],
    ["0.0.0.0", true],
    ["224.0.0.1", true],
    ["::1", true],
    ["fe80::1", true],
    ["::ffff:127.0.0.1", true],
    ["10.1.2.3", false],
    ["93.184.216.34", false],
    ["2606:2800:220:1::", false],
  ])("address %s forbidden from DNS: %p", (ip, expected) => {
    expect(addressForbidden(ip)).toBe(expected);
  });
  test.each([
    ["CONNECT a.test:443 HTTP/1.1\r\n\r\n", { method: "CONNECT", host: "a.test", port: 443 }],
    ["CONNECT [::1]:443 HTTP/1.1\r\n\r\n", { method: "CONNECT", host: "[::1]", port: 443 }],
    ["GET http://a.test:81/p?q HTTP/1.1\r\nHost: a.test\r\n\r\n", { host: "a.test", port: 81 }],
    ["CONNECT a.test:0 HTTP/1.1\r\n\r\n", null],
    ["CONNECT a.test HTTP/1.1\r\n\r\n", null],
    ["GET /p HTTP/1.1\r\nHost: a.test\r\n\r\n", null],
    ["GET https://a.test/ HTTP/1.1\r\n\r\n", null],
    ["GET http://a.test/ HTTP/2\r\n\r\n", null],
  ])("parseHead %j", (head, expected) => {
    const parsed = parseHead(Buffer.from(head, "latin1"));
    if (expected === null) expect(parsed).toBeNull();
    else expect(parsed).toMatchObject(expected);
  });
  test("an absolute request goes on in origin form with Connection: close", () => {
    const head = "GET http://a.test/p?q=1 HTTP/1.1\r\nProxy-Connection: keep-alive\r\nX: y\r\n\r\n";
    const parsed = parseHead(Buffer.from(head, "latin1"));
    expect(parsed?.head?.toString("latin1")).toBe(
      "GET /p?q=1 HTTP/1.1\r\nHost: a.test\r\nX: y\r\nConnection: close\r\n\r\n",
    );
  });
});

/** Sends `data` to the proxy and reads until it closes (or `untilMs`). */
async function exchange(socketPath: string, data: string | Buffer, untilMs = 5000) {
  const socket = net.connect(socketPath);
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  socket.write(data);
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), untilMs);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on("error", () => undefined);
  });
  socket.destroy();
  return { closed, text: Buffer.concat(chunks).toString("latin1") };
}

describe("the allowlist proxy", () => {
  let root: string;
  let echo: net.Server;
  let echoPort: number;
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const proxies: NetworkProxy[] = [];
  let n = 0;

  async function proxy(limits: Partial<SandboxLimitConfig> = {}) {
    n += 1;
    const dir = join(root, `run-${n}`);
    await mkdir(dir);
    const socketPath = join(dir, "proxy.sock");
    const started = await startNetworkProxy({
      socketPath,
      allow: ["a.test", "localhost"],
      resolve: { "a.test": `127.0.0.1:${echoPort}` },
      limits: resolveLimitConfig({ networkIdleMs: 1000, ...limits }),
      log: (_level, event, fields) => logs.push({ event, fields }),
    });
    proxies.push(started);
    return { socketPath, proxy: started };
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "vltair-proxy-"));
    echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", () => resolve()));
    echoPort = (echo.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    echo.close();
    await rm(root, { recursive: true, force: true });
  });

  test("CONNECT to an allowed host tunnels both ways", async () => {
    const { socketPath } = await proxy();
    const socket = net.connect(socketPath);
    let got = "";
    socket.on("data", (c: Buffer) => {
      got += c.toString("latin1");
      if (got.endsWith("ping")) socket.end();
    });
    socket.write("CONNECT a.test:443 HTTP/1.1\r\n\r\nping");
    await new Promise((resolve) => socket.on("close", resolve));
    expect(got).toBe("HTTP/1.1 200 Connection Established\r\n\r\nping");
  });

  test("refusals are answered 403, counted, and logged up to the cap", async () => {
    const { socketPath, proxy: p } = await proxy({ networkRefusalLogsMax: 1 });
    const before = logs.length;
    for (const head of [
      "CONNECT b.test:443 HTTP/1.1\r\n\r\n",
      "GET http://b.test/ HTTP/1.1\r\n\r\n",
    ]) {
      const { closed, text } = await exchange(socketPath, head);
      expect(closed).toBe(true);
      expect(text).toStartWith("HTTP/1.1 403 Forbidden");
    }
    expect(p.refused).toBe(2);
    const logged = logs.slice(before).filter((l) => l.event === "sandbox.network.refused");
    expect(logged).toHaveLength(1);
    expect(logged[0]?.fields).toMatchObject({ host: "b.test", reason: "host_not_allowed" });
  });

  test("an allowed name that resolves to loopback is refused (address_not_allowed)", async () => {
    const { socketPath, proxy: p } = await proxy();
    const { text } = await exchange(socketPath, `CONNECT localhost:${echoPort} HTTP/1.1\r\n\r\n`);
    expect(text).toStartWith("HTTP/1.1 403 Forbidden");
    expect(text).toContain("address_not_allowed");
    expect(p.refused).toBe(1);
  });

  test.each([
    [
      "a request head over network_header_bytes_max is 431",
      `GET http://a.test/ HTTP/1.1\r\nX: ${"y".repeat(2000)}\r\n\r\n`,
      "431",
    ],
    ["an origin-form request is 400", "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", "400"],
  ])("%s", async (_, head, status) => {
    const { socketPath, proxy: p } = await proxy({ networkHeaderBytesMax: 1024 });
    const { text } = await exchange(socketPath, head);
    expect(text).toStartWith(`HTTP/1.1 ${status} `);
    expect(p.refused).toBe(0);
  });

  test("connections past network_connections_max are answered 503", async () => {
    const { socketPath } = await proxy({ networkConnectionsMax: 2 });
    const idle = [net.connect(socketPath), net.connect(socketPath)];
    await Promise.all(idle.map((s) => new Promise((resolve) => s.on("connect", resolve))));
    const { text } = await exchange(socketPath, "CONNECT a.test:443 HTTP/1.1\r\n\r\n");
    expect(text).toStartWith("HTTP/1.1 503 ");
    for (const s of idle) s.destroy();
  });

  test("an idle connection is closed after network_idle_ms", async () => {
    const { socketPath } = await proxy({ networkIdleMs: 1000 });
    const started = performance.now();
    const { closed } = await exchange(socketPath, "CONNECT a.test:443 HTTP/1.1\r\n\r\n", 4000);
    expect(closed).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  });

  test("past network_bytes_max the run's connections are closed", async () => {
    const { socketPath } = await proxy({ networkBytesMax: 1024 * 1024 });
    const socket = net.connect(socketPath);
    let received = 0;
    socket.on("data", (c: Buffer) => {
      received += c.length;
    });
    socket.write("CONNECT a.test:443 HTTP/1.1\r\n\r\n");
    const closed = new Promise((resolve) => socket.on("close", resolve));
    socket.on("error", () => undefined);
    for (let i = 0; i < 40 && !socket.destroyed; i += 1) socket.write(Buffer.alloc(64 * 1024));
    await closed;
    expect(received).toBeLessThan(2 * 1024 * 1024);
    const { text } = await exchange(socketPath, "CONNECT a.test:443 HTTP/1.1\r\n\r\n");
    expect(text).toStartWith("HTTP/1.1 503 ");
  });

  test("the socket's short name is gone once it listens", async () => {
    await proxy();
    expect((await readdir(root)).filter((name) => name.startsWith(".vltair-px-"))).toEqual([]);
  });
});
