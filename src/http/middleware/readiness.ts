/**
 * The readiness gate: until recovery has finished, every route that reads or changes state
 * answers `503 unavailable` with `Retry-After` and `details.reason: "recovering"` — never a 500
 * and never an answer computed from a partly recovered state. Routes that declare
 * `whileRecovering` (health, readiness, metrics, OpenAPI) answer at once.
 */
import type { MiddlewareHandler } from "hono";
import { VltairError } from "../../core/mod.ts";
import type { AppEnv } from "../env.ts";

/** Seconds a client is told to wait before it asks again. */
export const RECOVERING_RETRY_AFTER_S = 1;

/** Options of {@link readiness}. */
export interface ReadinessOptions {
  /** True once recovery has finished. */
  isReady: () => boolean;
  /** Route paths (Hono patterns are matched by the router, so these are exact paths) open during recovery. */
  openPaths: ReadonlySet<string>;
}

/** The error every gated request gets during recovery. */
export function recoveringError(): VltairError {
  return new VltairError("unavailable", "the server is recovering its data; retry shortly", {
    details: { reason: "recovering" },
    headers: { "retry-after": String(RECOVERING_RETRY_AFTER_S) },
  });
}

/** Creates the readiness middleware. */
export function readiness(options: ReadinessOptions): MiddlewareHandler<AppEnv> {
  let ready = false;
  return async function readinessGate(c, next) {
    // Once ready, the server stays ready: one boolean read per request afterwards.
    if (!ready) ready = options.isReady();
    if (!ready && !options.openPaths.has(c.req.path)) throw recoveringError();
    return next();
  };
}
