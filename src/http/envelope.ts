/**
 * The one error envelope (API.md): `{"error":{"code","message","details","trace_id"}}`.
 * Every error path renders through `errorResponse`; unknown errors become `internal` without
 * their message or stack, which go to the log only.
 */
import * as v from "valibot";
import { ERROR_CODES, VltairError } from "../core/mod.ts";
import { type Logger, redactStrings, redactText } from "../obs/mod.ts";

/** The envelope's schema, for OpenAPI. */
export const ErrorEnvelopeSchema = v.object({
  error: v.object({
    code: v.picklist(ERROR_CODES),
    message: v.string(),
    details: v.record(v.string(), v.unknown()),
    trace_id: v.string(),
  }),
});

/** Renders an error as the envelope with its status and headers. */
export function errorResponse(error: unknown, traceId: string, log: Logger): Response {
  const known = toVltairError(error);
  if (known.code === "internal") {
    log.error("http.internal_error", { error });
  }
  // An error may quote what the client sent (a header, a field, a path): never a secret.
  const body = {
    error: {
      code: known.code,
      message: redactText(known.message),
      details: redactStrings(known.details),
      trace_id: traceId,
    },
  };
  return new Response(JSON.stringify(body), {
    status: known.status,
    headers: { "content-type": "application/json; charset=utf-8", ...known.headers },
  });
}

/** Maps anything thrown to a `VltairError`; unknown errors become an opaque `internal`. */
export function toVltairError(error: unknown): VltairError {
  if (error instanceof VltairError) return error;
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === "number" && status === 413) {
    return new VltairError("payload_too_large", "request body too large", { cause: error });
  }
  return new VltairError("internal", "internal error", { cause: error });
}
