/**
 * The Hono app: middleware order, routes, and the error paths (envelope, 404, 405).
 *
 * Order: request context (ids, logs, metrics) → 405 detection → readiness gate (503 while
 * recovering) → auth (before routing) → body limit → routes. Errors thrown anywhere render through the one envelope.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { methodNotAllowed } from "hono/method-not-allowed";
import type { ContextService } from "../context/mod.ts";
import { type Call, VltairError } from "../core/mod.ts";
import { type Logger, MetricsRegistry, silentLogger } from "../obs/mod.ts";
import type { RunService } from "../orchestrator/mod.ts";
import type { AuditService } from "../policy/audit/mod.ts";
import type { BudgetService } from "../policy/budgets/mod.ts";
import type { Authenticator, PolicyService, TokenService } from "../policy/mod.ts";
import type { SandboxService } from "../sandbox/mod.ts";
import type { AppEnv } from "./env.ts";
import { errorResponse } from "./envelope.ts";
import { auth } from "./middleware/auth.ts";
import { rateLimit } from "./middleware/rate-limit.ts";
import { readiness } from "./middleware/readiness.ts";
import { requestContext } from "./middleware/request-context.ts";
import { buildOpenApi } from "./openapi.ts";
import { RATE_LIMITS, RateLimiter, type RateLimits } from "./rate-limits.ts";
import { type AnyRoute, mountRoutes, publicPaths, whileRecoveringPaths } from "./route.ts";
import { adminRoutes, type SnapshotSummary } from "./routes/admin.ts";
import { auditRoutes } from "./routes/audit.ts";
import { budgetRoutes } from "./routes/budgets.ts";
import { contextRoutes } from "./routes/context.ts";
import { contextIngestRoutes } from "./routes/context-ingest.ts";
import { metaRoutes } from "./routes/meta.ts";
import { policyRoutes } from "./routes/policy.ts";
import { runRoutes } from "./routes/runs.ts";
import { sandboxRoutes } from "./routes/sandbox.ts";
import { tokenRoutes } from "./routes/tokens.ts";

/** Everything the HTTP layer needs from the composition root. */
export interface HttpDeps {
  version: string;
  log: Logger;
  metrics: MetricsRegistry;
  authenticator: Authenticator;
  tokens: TokenService;
  policy: PolicyService;
  sandbox: SandboxService;
  context: ContextService;
  runs: RunService;
  takeSnapshot: () => Promise<SnapshotSummary>;
  bodyBytesMax: number;
  startedAtMs: number;
  nowMs: () => number;
  monotonicMs: () => number;
  isReady: () => boolean;
  /** Answers `/mcp` (MCP Streamable HTTP), after auth and the readiness gate; absent: 404. */
  mcpHandler?: (request: Request) => Promise<Response>;
  audit: AuditService;
  budgets: BudgetService;
  /** Counts a request against the tenant's `requests` budgets (throws budget_exceeded). */
  admitRequest?: (call: Call) => void;
  /** Told of each failed authentication (the audit trail records it). */
  onAuthFailure?: (traceId: string, reason: "missing_token" | "invalid_token") => void;
  /** Request limits per token and tenant (config `rate_limits`); defaults when absent. */
  rateLimits?: RateLimits;
}

/** The app and its route table (the table also feeds OpenAPI and tests). */
export interface HttpApp {
  app: Hono<AppEnv>;
  routes: readonly AnyRoute[];
}

/**
 * Builds the HTTP app.
 *
 * @example
 * ```ts
 * const { app } = createHttpApp(deps);
 * const response = await app.request("/v1/health");
 * ```
 */
export function createHttpApp(deps: HttpDeps): HttpApp {
  const app = new Hono<AppEnv>();
  let openApi: Record<string, unknown> | null = null;
  const routes: AnyRoute[] = [];
  routes.push(
    ...metaRoutes({
      version: deps.version,
      startedAtMs: deps.startedAtMs,
      nowMs: deps.nowMs,
      metrics: deps.metrics,
      isReady: deps.isReady,
      openApi: () => {
        openApi ??= buildOpenApi(routes, { version: deps.version });
        return openApi;
      },
    }),
    ...tokenRoutes({ tokens: deps.tokens }),
    ...contextRoutes({ context: deps.context }),
    ...contextIngestRoutes({ context: deps.context, sandbox: deps.sandbox }),
    ...sandboxRoutes({ sandbox: deps.sandbox }),
    ...policyRoutes({ policy: deps.policy }),
    ...runRoutes({ runs: deps.runs }),
    ...adminRoutes({ takeSnapshot: deps.takeSnapshot }),
    ...auditRoutes({ audit: deps.audit }),
    ...budgetRoutes({ budgets: deps.budgets }),
  );

  app.use(requestContext({ log: deps.log, metrics: deps.metrics, monotonicMs: deps.monotonicMs }));
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        errorResponse(
          new VltairError("method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}`, {
            details: { method: c.req.method, allowed: methods },
            headers: { allow: methods.join(", ") },
          }),
          c.var.traceId,
          c.var.log,
        ),
    }),
  );
  // Before auth: stored tokens are WAL records, resolvable only once recovery has finished.
  app.use(readiness({ isReady: deps.isReady, openPaths: whileRecoveringPaths(routes) }));
  const open = publicPaths(routes);
  app.use(
    auth({
      authenticator: deps.authenticator,
      publicPaths: open,
      ...(deps.onAuthFailure === undefined ? {} : { onFailure: deps.onAuthFailure }),
    }),
  );
  app.use(
    rateLimit({
      limiter: new RateLimiter(deps.rateLimits ?? RATE_LIMITS.defaults(), deps.monotonicMs),
      exemptPaths: new Set(routes.filter((r) => r.tag === "meta").map((r) => r.path)),
      metrics: deps.metrics,
      ...(deps.admitRequest === undefined ? {} : { admit: deps.admitRequest }),
    }),
  );
  app.use(
    bodyLimit({
      maxSize: deps.bodyBytesMax,
      onError: () => {
        throw new VltairError(
          "payload_too_large",
          `request body exceeds ${deps.bodyBytesMax} bytes`,
          {
            details: { limit_bytes: deps.bodyBytesMax },
          },
        );
      },
    }),
  );
  mountRoutes(app, routes);
  const mcpHandler = deps.mcpHandler;
  if (mcpHandler !== undefined) {
    app.on(["GET", "POST", "DELETE"], "/mcp", function mcpRoute(c) {
      c.set("route", "/mcp");
      return mcpHandler(c.req.raw);
    });
  }

  app.notFound((c) =>
    errorResponse(
      new VltairError("not_found", `no route for ${c.req.method} ${c.req.path}`),
      c.var.traceId,
      c.var.log,
    ),
  );
  app.onError((error, c) => errorResponse(error, c.var.traceId, c.var.log));
  return { app, routes };
}

/**
 * The route table alone — paths, schemas, access and tool metadata, with no service behind it
 * (a handler called here throws): what a client of a remote server (the stdio MCP proxy) needs.
 */
export function routeTableOnly(version: string): readonly AnyRoute[] {
  const none = new Proxy(
    {},
    {
      get() {
        throw new Error("routeTableOnly: no service behind this route table");
      },
    },
  );
  return createHttpApp({
    version,
    log: silentLogger,
    metrics: new MetricsRegistry(),
    authenticator: none as Authenticator,
    tokens: none as TokenService,
    policy: none as PolicyService,
    sandbox: none as SandboxService,
    context: none as ContextService,
    audit: none as AuditService,
    budgets: none as BudgetService,
    runs: none as RunService,
    takeSnapshot: () => Promise.reject(new Error("routeTableOnly")),
    bodyBytesMax: 1,
    startedAtMs: 0,
    nowMs: () => 0,
    monotonicMs: () => 0,
    isReady: () => false,
  }).routes;
}
