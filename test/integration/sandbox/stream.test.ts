/**
 * Streaming exec over SSE (issue 13 item 6): output arrives while the command runs, in
 * UTF-8-safe pieces that join to the result's text; a reader that does not read stops the
 * command in `write` instead of growing the server; a client that goes away (cancelled body,
 * closed connection) kills the run, with nothing of it left alive, in both sandbox modes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import * as net from "node:net";
import { serve } from "../../../src/platform/mod.ts";
import type { SandboxResult } from "../../../src/sandbox/mod.ts";
import { killAll, marker, processesWith, sandboxModes } from "./harness.ts";
import { disposeServers, type SandboxServer, sandboxServer, waitFor } from "./server-harness.ts";

afterAll(disposeServers);

const linux = process.platform === "linux";

type Event = { event: string; data: Record<string, unknown> };

/** Reads SSE frames from a body, one at a time. */
function events(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    reader,
    async next(): Promise<Event | null> {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (frame.startsWith(":")) continue;
          const event = /^event: (.*)$/m.exec(frame)?.[1] ?? "";
          const data = /^data: (.*)$/m.exec(frame)?.[1] ?? "null";
          return { event, data: JSON.parse(data) };
        }
        const { done, value } = await reader.read();
        if (done) return null;
        buffer += decoder.decode(value, { stream: true });
      }
    },
    async rest(): Promise<Event[]> {
      const out: Event[] = [];
      for (let e = await this.next(); e !== null; e = await this.next()) out.push(e);
      return out;
    },
  };
}

function stream(server: SandboxServer, body: unknown, ws = "default") {
  return server.request(`/v1/sandbox/workspaces/${ws}/exec`, {
    method: "POST",
    headers: { accept: "text/event-stream" },
    body: JSON.stringify(body),
  });
}

/** Bytes a process wrote so far (`wchar` of /proc/<pid>/io), or null when it is gone. */
async function writtenBytes(pid: number): Promise<number | null> {
  const io = await readFile(`/proc/${pid}/io`, "utf8").catch(() => null);
  const wchar = io === null ? undefined : /^wchar: (\d+)$/m.exec(io)?.[1];
  return wchar === undefined ? null : Number(wchar);
}

/**
 * Waits until the writer (the `perl` process carrying `tag`) has been asleep in a write to its
 * stdout (a pipe or a socket, as the runtime made it), without writing a byte more, for 20
 * samples in a row (10 ms apart): a buffer that is merely full for a moment drains long
 * before that when someone reads it. Returns the bytes it had written by then.
 */
async function stalledInWrite(tag: string): Promise<number> {
  let last = -1;
  let same = 0;
  return waitFor("the command to stall in write", async () => {
    let found: { wchan: string; written: number | null } | null = null;
    for (const pid of await processesWith(tag)) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
      if (!cmdline.startsWith("perl\0")) continue;
      const wchan = await readFile(`/proc/${pid}/wchan`, "utf8").catch(() => "");
      found = { wchan, written: await writtenBytes(pid) };
    }
    const asleep = found !== null && /pipe_write|sock_alloc_send|unix_stream/.test(found.wchan);
    if (!asleep || found?.written == null || found.written !== last) {
      last = found?.written ?? -1;
      same = 0;
      return undefined;
    }
    same += 1;
    return same >= 20 ? found.written : undefined;
  });
}

/** A command carrying `tag` in its argv that writes `chunks` × 64 KiB to stdout, one write each. */
function writer(tag: string, chunks: number): string[] {
  return ["perl", "-e", `syswrite STDOUT, "x" x 65536 for 1..${chunks}`, tag];
}

/** Joined text of one stream's events, and the final result. */
function collect(all: Event[]) {
  const text = { stdout: "", stderr: "" };
  for (const e of all) {
    if (e.event === "stdout" || e.event === "stderr") text[e.event] += String(e.data.data);
  }
  const results = all.filter((e) => e.event === "result");
  expect(results).toHaveLength(1);
  expect(all.at(-1)?.event).toBe("result");
  return { ...text, result: results[0]?.data as unknown as SandboxResult };
}

describe("streaming exec", () => {
  test.if(linux)(
    "the first stdout event arrives while the command still runs; the last event is the result",
    async () => {
      const server = sandboxServer();
      const tag = marker("first-event");
      const response = await stream(server, {
        cmd: ["sh", "-c", `for i in 1 2 3; do echo $i; sleep 0.3; done # ${tag}`],
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      const reader = events(response.body as ReadableStream<Uint8Array>);
      const first = await reader.next();
      expect(first).toEqual({ event: "stdout", data: { data: "1\n" } });
      // The command is still running when its first line arrived.
      expect((await processesWith(tag)).length).toBeGreaterThan(0);
      const { stdout, result } = collect([first as Event, ...(await reader.rest())]);
      expect(stdout).toBe("1\n2\n3\n");
      expect(result).toMatchObject({ status: "OK", stdout: "1\n2\n3\n" });
      expect(result.duration_ms).toBeGreaterThanOrEqual(600);
    },
    20_000,
  );

  test.if(linux)(
    "stdout and stderr pieces join to the result's text: characters split across writes, the cap and its marker",
    async () => {
      const server = sandboxServer();
      // "é" and "€" written one byte at a time, to both streams; then far past the cap.
      const script =
        "printf '\\303'; sleep 0.05; printf '\\251\\342'; sleep 0.05; printf '\\202\\254\\n'; " +
        "printf '\\342\\202' >&2; sleep 0.05; printf '\\254 err\\n' >&2; head -c 5000 /dev/zero | tr '\\0' x";
      const response = await stream(server, {
        cmd: ["sh", "-c", script],
        limits: { output_bytes: 1000 },
      });
      const { stdout, stderr, result } = collect(
        await events(response.body as ReadableStream<Uint8Array>).rest(),
      );
      expect(result.status).toBe("OUTPUT_LIMIT");
      expect(stdout).toBe(result.stdout);
      expect(stderr).toBe(result.stderr);
      expect(stdout).toStartWith("é€\nxxx");
      expect(stdout).toEndWith("\n[TRUNCATED at 1000 bytes]");
      expect(stderr).toBe("€ err\n");
    },
    20_000,
  );

  test.if(linux)(
    "a reader that does not read stops the command in write; reading again lets it finish",
    async () => {
      const server = sandboxServer();
      const tag = marker("slow-reader");
      const response = await stream(server, {
        cmd: writer(tag, 46),
        limits: { output_bytes: 4_000_000, wall_ms: 30_000 },
      });
      // Nobody reads: the server stops reading the pipe once its queue is full, so the
      // command stalls after about a pipe buffer and the queue's high-water mark.
      const stalledAt = await stalledInWrite(tag);
      expect(stalledAt).toBeLessThan(1024 * 1024);
      const { stdout, result } = collect(
        await events(response.body as ReadableStream<Uint8Array>).rest(),
      );
      expect(result.status).toBe("OK");
      expect(stdout.length).toBe(46 * 65536);
      expect(stdout).toBe(result.stdout);
    },
    30_000,
  );

  test("errors come before the stream as the JSON envelope", async () => {
    const server = sandboxServer();
    const cases: [unknown, string, number, string][] = [
      [{ cmd: [] }, "default", 400, "validation_failed"],
      [{ cmd: ["true"], cwd: "../.." }, "default", 400, "validation_failed"],
      [{ cmd: ["true"] }, "ws_aaaaaaaaaaaaaaaaaaaa", 404, "not_found"],
    ];
    for (const [body, ws, status, code] of cases) {
      const response = await stream(server, body, ws);
      expect(response.status).toBe(status);
      expect(response.headers.get("content-type")).toStartWith("application/json");
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
    }
  });

  test.if(linux)("POST /v1/sandbox/exec streams too", async () => {
    const server = sandboxServer();
    const response = await server.request("/v1/sandbox/exec", {
      method: "POST",
      headers: { accept: "text/event-stream" },
      body: JSON.stringify({ cmd: ["echo", "hi"] }),
    });
    const { stdout, result } = collect(
      await events(response.body as ReadableStream<Uint8Array>).rest(),
    );
    expect(stdout).toBe("hi\n");
    expect(result.status).toBe("OK");
  });
});

for (const mode of sandboxModes("stream.test.ts")) {
  const on = linux && mode.available;
  describe(`a client that goes away kills the run [${mode.name}]`, () => {
    test.if(on)(
      "cancelling the body: no process of the run is left, the run ends KILLED cancelled",
      async () => {
        const server = sandboxServer({ sandbox_disable: mode.disable.join(",") });
        const tag = marker("cancel");
        const response = await stream(server, {
          cmd: ["sh", "-c", `echo started; sleep 30 & sleep 30; # ${tag}`],
          limits: { wall_ms: 60_000 },
        });
        const reader = events(response.body as ReadableStream<Uint8Array>);
        expect(await reader.next()).toEqual({ event: "stdout", data: { data: "started\n" } });
        expect((await processesWith(tag)).length).toBeGreaterThan(0);
        await reader.reader.cancel();
        try {
          await waitFor("no process of the run", async () =>
            (await processesWith(tag)).length === 0 ? true : undefined,
          );
          const end = await waitFor("the run's end line", () =>
            server.logs.map((l) => JSON.parse(l)).find((l) => l.event === "sandbox.run.end"),
          );
          expect(end).toMatchObject({ status: "KILLED", reason: "cancelled" });
        } finally {
          await killAll(await processesWith(tag));
        }
      },
      30_000,
    );

    test.if(on)(
      "over a real connection: a client that stops reading stops the command; closing it kills the run",
      async () => {
        const server = sandboxServer({ sandbox_disable: mode.disable.join(",") });
        const listening = await serve({
          fetch: server.app.http.app.fetch,
          hostname: "127.0.0.1",
          port: 0,
        });
        const tag = marker("disconnect");
        // A raw connection that reads the response head and then nothing: only the kernel's
        // socket buffers sit between the server and the client (fetch would buffer the body).
        const body = JSON.stringify({
          cmd: writer(tag, 900),
          limits: { wall_ms: 60_000, output_bytes: 64_000_000 },
        });
        const token = await server.token("default");
        const socket = net.connect(listening.port, "127.0.0.1");
        try {
          await new Promise<void>((resolve, reject) => {
            socket.once("connect", resolve);
            socket.once("error", reject);
          });
          const head = await new Promise<string>((resolve) => {
            socket.once("data", (chunk: Buffer) => {
              socket.pause();
              resolve(chunk.toString("latin1"));
            });
            socket.write(
              `POST /v1/sandbox/workspaces/default/exec HTTP/1.1\r\nhost: x\r\n` +
                `accept: text/event-stream\r\nauthorization: Bearer ${token}\r\n` +
                `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
            );
          });
          expect(head).toStartWith("HTTP/1.1 200");
          // 59 MB would pass; it stalls after what the socket buffers and the queue hold.
          const stalledAt = await stalledInWrite(tag);
          expect(stalledAt).toBeLessThan(16 * 1024 * 1024);
          socket.destroy();
          await waitFor("no process of the run", async () =>
            (await processesWith(tag)).length === 0 ? true : undefined,
          );
        } finally {
          socket.destroy();
          await killAll(await processesWith(tag));
          await listening.stop(1000);
        }
      },
      30_000,
    );
  });
}
