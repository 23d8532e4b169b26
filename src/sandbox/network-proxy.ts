/**
 * The server's side of a run's network allowlist: an HTTP proxy on a Unix socket in the run's
 * temp dir (the run reaches it through the bridge, proxy-bridge.ts). It admits `CONNECT
 * host:port` (HTTPS and any TCP) and absolute-form plain HTTP requests (`GET http://host/…`)
 * whose host matches the allowlist, and refuses everything else with a 4xx, counted and logged.
 * Host names are resolved here, never in the run, and the connection goes to the address that
 * was checked (no second lookup to rebind). Bounded per run: connections at once, idle time,
 * bytes relayed, size of a request head.
 */
import { randomBytes } from "node:crypto";
import { lookup } from "node:dns/promises";
import { link, unlink } from "node:fs/promises";
import * as net from "node:net";
import { dirname, join } from "node:path";
import { SOCKET_PATH_BYTES_MAX } from "./linux/mod.ts";
import { hostAllowed, normalizeHost } from "./network-allow.ts";
import type { SandboxLogger } from "./options.ts";

/** The proxy's bounds (`sandbox_limits`). */
export interface ProxyLimits {
  networkConnectionsMax: number;
  networkIdleMs: number;
  networkBytesMax: number;
  networkHeaderBytesMax: number;
  networkRefusalLogsMax: number;
}

/** Inputs of {@link startNetworkProxy}. */
export interface NetworkProxyOptions {
  /** In the run's temp dir; its directory's parent (the temp root) holds a short name first. */
  socketPath: string;
  /** Canonical patterns (network-allow.ts). */
  allow: readonly string[];
  /** Test resolver: host name → `ip:port`, used instead of DNS and the requested port. */
  resolve: Readonly<Record<string, string>>;
  limits: ProxyLimits;
  log: SandboxLogger;
}

/** A running proxy. */
export interface NetworkProxy {
  /** Requests refused so far (host not allowed, address not allowed). */
  readonly refused: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

type Target = { method: string; host: string; port: number; head: Buffer | null };

const CONNECTED = "HTTP/1.1 200 Connection Established\r\n\r\n";
const HOP_BY_HOP = /^(proxy-connection|proxy-authorization|connection|keep-alive)\s*:/i;
const REQUEST_LINE = /^([A-Z]{1,16}) (\S{1,8192}) (HTTP\/1\.[01])$/;
const AUTHORITY = /^(\[[0-9a-fA-F:.]+\]|[^:/\s[\]]+):(\d{1,5})$/;

function reply(status: string, body: string): string {
  const text = `vltair proxy: ${body}\n`;
  return `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`;
}

/** Addresses a name from DNS may not lead to: loopback, link-local (cloud metadata), any, multicast. */
export function addressForbidden(ip: string): boolean {
  if (net.isIPv4(ip)) {
    const [a = 0, b = 0] = ip.split(".").map(Number);
    return a === 127 || a === 0 || (a === 169 && b === 254) || a >= 224;
  }
  const v6 = ip.toLowerCase();
  if (v6.startsWith("::ffff:") && net.isIPv4(v6.slice(7))) return addressForbidden(v6.slice(7));
  return v6 === "::1" || v6 === "::" || /^fe[89ab]/.test(v6) || v6.startsWith("ff");
}

/** The request line's target, or null when the request is not one the proxy serves. */
export function parseHead(head: Buffer): Target | null {
  const lines = head.toString("latin1").split("\r\n");
  const m = REQUEST_LINE.exec(lines[0] ?? "");
  if (m === null) return null;
  const [, method = "", target = "", version = ""] = m;
  if (method === "CONNECT") {
    const a = AUTHORITY.exec(target);
    const port = Number(a?.[2]);
    if (a === null || port < 1 || port > 65_535) return null;
    return { method, host: a[1] ?? "", port, head: null };
  }
  if (!target.startsWith("http://")) return null;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return null;
  }
  const headers = lines.slice(1).filter((line) => line !== "" && !HOP_BY_HOP.test(line));
  if (!headers.some((line) => /^host\s*:/i.test(line))) headers.unshift(`Host: ${url.host}`);
  const request = [`${method} ${url.pathname}${url.search} ${version}`, ...headers];
  const rewritten = Buffer.from(`${request.join("\r\n")}\r\nConnection: close\r\n\r\n`, "latin1");
  return { method, host: url.hostname, port: Number(url.port || 80), head: rewritten };
}

/**
 * Starts the proxy of one run, listening on `socketPath`.
 *
 * @example
 * ```ts
 * const proxy = await startNetworkProxy({ socketPath, allow: ["a.test"], resolve: {}, limits, log });
 * // … run …
 * await proxy.close(); proxy.refused; // 0
 * ```
 */
export async function startNetworkProxy(options: NetworkProxyOptions): Promise<NetworkProxy> {
  const { limits, log } = options;
  const sockets = new Set<net.Socket>();
  let refused = 0;
  let bytes = 0;
  let exhausted = false;

  let clients = 0;
  /** Ends a connection with a short answer; what the client still sends is discarded. */
  const answer = (client: net.Socket, status: string, body: string) => {
    client.resume();
    client.end(reply(status, body));
  };
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.setTimeout(limits.networkIdleMs, () => socket.destroy());
    socket.on("error", () => socket.destroy());
    socket.on("close", () => sockets.delete(socket));
  };
  const count = (n: number): boolean => {
    bytes += n;
    if (bytes <= limits.networkBytesMax) return true;
    if (!exhausted)
      log("warn", "sandbox.network.bytes_limit", { bytes_max: limits.networkBytesMax });
    exhausted = true;
    for (const s of sockets) s.destroy();
    return false;
  };
  const refuse = (client: net.Socket, t: Target, reason: string) => {
    refused += 1;
    if (refused <= limits.networkRefusalLogsMax) {
      log("warn", "sandbox.network.refused", {
        host: t.host,
        port: t.port,
        method: t.method,
        reason,
      });
    }
    answer(client, "403 Forbidden", `${t.host} is not allowed (${reason})`);
  };
  const destination = async (t: Target): Promise<{ ip: string; port: number } | string> => {
    const override = options.resolve[normalizeHost(t.host)];
    if (override !== undefined) {
      const at = override.lastIndexOf(":");
      return { ip: override.slice(0, at), port: Number(override.slice(at + 1)) };
    }
    const found = await lookup(t.host, { all: true }).catch(() => []);
    const usable = found.find((a) => !addressForbidden(a.address));
    if (usable !== undefined) return { ip: usable.address, port: t.port };
    return found.length === 0 ? "not_resolved" : "address_not_allowed";
  };
  const relay = (a: net.Socket, b: net.Socket) => {
    a.on("data", (chunk: Buffer) => {
      if (count(chunk.length) && !b.write(chunk)) a.pause();
    });
    b.on("drain", () => a.resume());
    a.on("end", () => b.end());
    a.on("close", () => b.destroy());
  };
  const open = async (client: net.Socket, t: Target, rest: Buffer) => {
    if (!hostAllowed(t.host, options.allow)) return refuse(client, t, "host_not_allowed");
    const to = await destination(t);
    if (typeof to === "string") {
      if (to === "address_not_allowed") return refuse(client, t, to);
      return answer(client, "502 Bad Gateway", `${t.host} could not be resolved`);
    }
    if (client.destroyed) return;
    const upstream = net.connect({ host: to.ip, port: to.port, allowHalfOpen: true });
    track(upstream);
    let connected = false;
    upstream.once("error", () => {
      if (connected) client.destroy();
      else answer(client, "502 Bad Gateway", `${t.host} unreachable`);
    });
    upstream.once("connect", () => {
      connected = true;
      const first = t.head === null ? rest : Buffer.concat([t.head, rest]);
      if (t.head === null) client.write(CONNECTED);
      if (first.length > 0 && count(first.length)) upstream.write(first);
      relay(client, upstream);
      relay(upstream, client);
      client.resume();
    });
  };
  const serve = (client: net.Socket) => {
    track(client);
    clients += 1;
    client.on("close", () => {
      clients -= 1;
    });
    if (exhausted || clients > limits.networkConnectionsMax) {
      answer(client, "503 Service Unavailable", "the run's proxy limits are reached");
      return;
    }
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0 && head.length <= limits.networkHeaderBytesMax) return;
      client.off("data", onData);
      client.pause();
      if (end < 0 || end + 4 > limits.networkHeaderBytesMax) {
        answer(client, "431 Request Header Fields Too Large", "request head too large");
        return;
      }
      const target = parseHead(head.subarray(0, end + 4));
      if (target === null) {
        answer(client, "400 Bad Request", "only CONNECT and absolute http:// requests");
        return;
      }
      void open(client, target, head.subarray(end + 4));
    };
    client.on("data", onData);
  };

  const server = net.createServer({ allowHalfOpen: true }, serve);
  await listenAt(server, options.socketPath);
  return {
    get refused() {
      return refused;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Listens on `socketPath`, whose length may pass `sun_path`'s 107 bytes: binds a short name in
 * the temp root, links the socket into place and removes the short name (the bridge connects
 * by the bare name from inside the directory).
 */
async function listenAt(server: net.Server, socketPath: string): Promise<void> {
  const short = join(dirname(dirname(socketPath)), `.vltair-px-${randomBytes(6).toString("hex")}`);
  if (new TextEncoder().encode(short).length > SOCKET_PATH_BYTES_MAX) {
    throw Object.assign(new Error(`${short} is longer than a Unix socket path may be`), {
      code: "ENAMETOOLONG",
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(short, () => resolve());
  });
  try {
    await link(short, socketPath);
  } catch (error) {
    server.close();
    throw error;
  } finally {
    await unlink(short).catch(() => undefined);
  }
}
