/** Meta routes: health, readiness, metrics, OpenAPI. */
import * as v from "valibot";
import type { MetricsRegistry } from "../../obs/mod.ts";
import { recoveringError } from "../middleware/readiness.ts";
import { type AnyRoute, defineRoute } from "../route.ts";

/** What the meta routes read. */
export interface MetaDeps {
  version: string;
  startedAtMs: number;
  nowMs: () => number;
  metrics: MetricsRegistry;
  /** True once recovery has finished; `/v1/ready` is 503 before. */
  isReady: () => boolean;
  /** The OpenAPI document, built once on first use. */
  openApi: () => Record<string, unknown>;
}

const HealthSchema = v.object({
  status: v.literal("ok"),
  version: v.string(),
  uptime_ms: v.pipe(v.number(), v.integer()),
});
const ReadySchema = v.object({ status: v.literal("ready") });

/** The meta routes. */
export function metaRoutes(deps: MetaDeps): AnyRoute[] {
  return [
    defineRoute({
      method: "GET",
      path: "/v1/health",
      summary: "Liveness: the process answers. HEAD works too.",
      tag: "meta",
      access: "public",
      whileRecovering: true,
      responses: { 200: { description: "Alive", schema: HealthSchema } },
      handler: (c) =>
        c.json({ status: "ok", version: deps.version, uptime_ms: deps.nowMs() - deps.startedAtMs }),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/ready",
      summary: "Readiness: 200 once recovery has finished, 503 before.",
      tag: "meta",
      access: "public",
      whileRecovering: true,
      responses: { 200: { description: "Ready", schema: ReadySchema } },
      handler: (c) => {
        if (!deps.isReady()) throw recoveringError();
        return c.json({ status: "ready" });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/metrics",
      summary: "Prometheus text exposition: request counts, latency histograms, process memory.",
      tag: "meta",
      access: "reader",
      whileRecovering: true,
      responses: {
        200: {
          description: "Metrics",
          schema: v.string(),
          contentType: "text/plain; version=0.0.4",
        },
      },
      handler: (c) =>
        c.body(deps.metrics.render(), 200, {
          "content-type": "text/plain; version=0.0.4; charset=utf-8",
        }),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/openapi.json",
      summary: "OpenAPI 3.1 of every route, generated from the routes' schemas.",
      tag: "meta",
      access: "reader",
      whileRecovering: true,
      responses: {
        200: { description: "OpenAPI document", schema: v.record(v.string(), v.unknown()) },
      },
      handler: (c) => c.json(deps.openApi()),
    }),
  ];
}
