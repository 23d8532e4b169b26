/**
 * Reads a route's `text/event-stream` answer (`event: NAME` / `data: JSON` blocks, comments
 * ignored) as events, so a streamed run's output can become MCP progress notifications.
 */

/** One event of a stream. */
export interface SseEvent {
  event: string;
  data: unknown;
}

function eventOf(block: string): SseEvent | null {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (data.length === 0) return null;
  try {
    return { event, data: JSON.parse(data.join("\n")) };
  } catch {
    return { event, data: data.join("\n") };
  }
}

/**
 * The events of a stream, in order, as they arrive.
 *
 * @example
 * ```ts
 * for await (const { event, data } of sseEvents(response.body)) console.log(event, data);
 * ```
 */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let pending = "";
  const reader = body.getReader();
  let ended = false;
  try {
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      pending += decoder.decode(chunk, { stream: true }).replaceAll("\r\n", "\n");
      let end = pending.indexOf("\n\n");
      while (end !== -1) {
        const parsed = eventOf(pending.slice(0, end));
        pending = pending.slice(end + 2);
        if (parsed !== null) yield parsed;
        end = pending.indexOf("\n\n");
      }
    }
  } finally {
    // Left early (the caller stopped reading): cancelling the stream ends what it streams.
    if (!ended) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
  const last = eventOf(pending + decoder.decode());
  if (last !== null) yield last;
}
