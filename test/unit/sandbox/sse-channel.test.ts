import { describe, expect, test } from "bun:test";
import { SseChannel, wantsEventStream } from "../../../src/http/routes/sandbox-sse.ts";

function channel(highWaterBytes: number, onCancel: () => void = () => undefined) {
  return new SseChannel({ highWaterBytes, heartbeatMs: 60_000, onCancel });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe("SseChannel", () => {
  test("frames are event + one JSON data line; the stream ends after close", async () => {
    const c = channel(1024);
    c.send("stdout", { data: "a\nb" });
    c.send("result", { status: "OK" });
    c.close();
    expect(await readAll(c.readable)).toBe(
      'event: stdout\ndata: {"data":"a\\nb"}\n\nevent: result\ndata: {"status":"OK"}\n\n',
    );
  });

  test("a reader that does not read: the queue stops at the high-water mark plus one frame, and the sender is told to wait", async () => {
    const c = channel(1000);
    const frame = { data: "x".repeat(90) }; // 119 bytes per frame
    let waiting: Promise<void> | undefined;
    let sent = 0;
    while (waiting === undefined) {
      waiting = c.send("stdout", frame);
      sent += 1;
    }
    expect(sent).toBe(9);
    expect(c.queuedBytes).toBeGreaterThan(1000);
    expect(c.queuedBytes).toBeLessThanOrEqual(1000 + 119);
    let released = false;
    void waiting.then(() => {
      released = true;
    });
    const reader = c.readable.getReader();
    // Taking frames until the queue is at half releases the sender, not before.
    for (let i = 0; i < 4; i += 1) await reader.read();
    await Promise.resolve();
    expect(released).toBe(false);
    await reader.read();
    await waiting;
    expect(released).toBe(true);
    expect(c.queuedBytes).toBeLessThanOrEqual(500);
  });

  test("cancel drops the queue, releases the sender and calls onCancel once", async () => {
    let cancels = 0;
    const c = channel(100, () => {
      cancels += 1;
    });
    const waiting = c.send("stdout", { data: "y".repeat(200) });
    expect(waiting).toBeInstanceOf(Promise);
    await c.readable.cancel();
    await waiting;
    expect(cancels).toBe(1);
    expect(c.queuedBytes).toBe(0);
    expect(c.send("stdout", { data: "late" })).toBeUndefined();
  });
});

describe("wantsEventStream", () => {
  test.each([
    ["text/event-stream", true],
    ["application/json, text/event-stream", true],
    ["Text/Event-Stream;q=0.5", true],
    ["text/event-stream;q=0", false],
    ["application/json", false],
    ["*/*", false],
    [undefined, false],
  ] as const)("%p -> %p", (accept, expected) => {
    expect(wantsEventStream(accept)).toBe(expected);
  });
});
