/**
 * The answer of an exec route: the result as JSON, or with `Accept: text/event-stream` the run's
 * output as events (`stdout`, `stderr`: `{"data":"…"}`) and one `result` event holding the
 * usual body. Every check that answers with an HTTP error (400, 404, 429) happens before the
 * stream starts; an error after that (a bug) ends the stream with one `error` event holding the
 * error envelope's `error` object.
 */
import type { OpenedRun, SandboxService } from "../../sandbox/mod.ts";
import type { AppContext } from "../env.ts";
import { toVltairError } from "../envelope.ts";
import { callOf } from "../route.ts";
import {
  SSE_HEADERS,
  SSE_HEARTBEAT_MS,
  SSE_HIGH_WATER_BYTES,
  SseChannel,
  wantsEventStream,
} from "./sandbox-sse.ts";

/**
 * Runs `body` for the caller, in `workspace` (the default one when absent).
 *
 * @example
 * ```ts
 * handler: (c, { body }) => execResponse(c, deps.sandbox, body, c.req.param("ws")),
 * ```
 */
export async function execResponse(
  c: AppContext,
  sandbox: SandboxService,
  body: unknown,
  workspace: string | undefined,
): Promise<Response> {
  const call = callOf(c);
  const target = workspace === undefined ? {} : { workspace };
  if (!wantsEventStream(c.req.header("accept")))
    return c.json(await sandbox.exec(call, body, target));
  // The client's disconnect reaches the run through the request's signal where the runtime
  // gives one, and through the cancelled response body everywhere.
  const cancel = new AbortController();
  const signal = AbortSignal.any([c.req.raw.signal, cancel.signal]);
  const opened = await sandbox.open({ ...call, signal }, body, target);
  const channel = new SseChannel({
    highWaterBytes: SSE_HIGH_WATER_BYTES,
    heartbeatMs: SSE_HEARTBEAT_MS,
    onCancel: () => cancel.abort(),
  });
  void pump(opened, channel, c);
  return c.body(channel.readable, 200, SSE_HEADERS);
}

async function pump(opened: OpenedRun, channel: SseChannel, c: AppContext): Promise<void> {
  try {
    const result = await opened.run((stream, text) => channel.send(stream, { data: text }));
    void channel.send("result", result);
  } catch (error) {
    const known = toVltairError(error);
    if (known.code === "internal") c.var.log.error("http.internal_error", { error });
    void channel.send("error", {
      error: {
        code: known.code,
        message: known.message,
        details: known.details,
        trace_id: c.var.traceId,
      },
    });
  } finally {
    channel.close();
  }
}
