/**
 * Orchestrator routes (API.md, "Orchestrator"): start, list, read, cancel and signal runs,
 * stream their events (SSE, `Last-Event-ID` resumes), replay them from the log, and store
 * workflows. Another tenant's run or workflow is `404 not_found`, like an unknown one. A body
 * whose workflow does not fit the schema is `400 workflow_invalid` with `details.path` inside
 * the workflow (`steps.2.needs.0`), as the graph checks of the service say it.
 */
import * as v from "valibot";
import { VltairError } from "../../core/mod.ts";
import {
  ForkRunRequestSchema,
  ForkRunResponseSchema,
  ReplayQuerySchema,
  RunBudgetHistorySchema,
  RunBudgetViewSchema,
  RunListQuerySchema,
  RunListSchema,
  type RunService,
  RunViewSchema,
  SignalRequestSchema,
  StartRunQuerySchema,
  StartRunRequestSchema,
  StartRunResponseSchema,
  WorkflowGetQuerySchema,
  WorkflowListSchema,
  WorkflowNameSchema,
  WorkflowPutResponseSchema,
  WorkflowSchema,
  WorkflowVersionSchema,
} from "../../orchestrator/mod.ts";
import type { AppContext } from "../env.ts";
import {
  type AnyRoute,
  callOf,
  customMethodParam,
  customMethodPath,
  defineRoute,
} from "../route.ts";
import { SSE_HEADERS } from "./sandbox-sse.ts";

const RUNS = "/v1/runs";
/** A run id segment: no `:` (custom methods) and no `/`. */
const RUN = `${RUNS}/:id{[^/:]+}`;

const CancelledSchema = v.object({ status: v.literal("cancelling") });
const AcceptedSchema = v.object({ accepted: v.literal(true) });

/**
 * A body's `validation_failed` inside `prefix` (the workflow) as `workflow_invalid`, its path
 * made relative to the workflow; the issues stay listed. A body that is not a JSON object at
 * all stays `validation_failed` (the request, not a workflow, is malformed).
 */
function workflowIssue(prefix: string): (error: VltairError) => VltairError {
  return (error) => {
    const field = String(error.details.field ?? "");
    const inside =
      prefix === "" ? field !== "" : field === prefix || field.startsWith(`${prefix}.`);
    if (!inside) return error;
    const path = prefix === "" ? field : field.slice(prefix.length + 1);
    const message = error.message.replace(/^[^:]*: /, "");
    return new VltairError("workflow_invalid", `${path === "" ? "workflow" : path}: ${message}`, {
      details: { path, issues: error.details.issues, issue_count: error.details.issue_count },
      cause: error,
    });
  };
}

/** `Last-Event-ID` as the seq to resume after; absent: 0 (from the first event). */
function lastEventId(c: AppContext): number {
  const header = c.req.header("last-event-id");
  if (header === undefined || header.trim() === "") return 0;
  if (!/^[0-9]{1,15}$/.test(header.trim())) {
    throw new VltairError("validation_failed", "Last-Event-ID: must be an event id (an integer)", {
      details: { in: "header", field: "last-event-id" },
    });
  }
  return Number(header.trim());
}

const runIdOf = (c: AppContext) => c.req.param("id") ?? "";

/** The run and workflow routes. */
export function runRoutes(deps: { runs: RunService }): AnyRoute[] {
  return [
    ...runLifecycleRoutes(deps),
    ...runStreamRoutes(deps),
    ...runBudgetRoutes(deps),
    ...workflowRoutes(deps),
  ];
}

function runBudgetRoutes(deps: { runs: RunService }): AnyRoute[] {
  return [
    defineRoute({
      method: "GET",
      path: `${RUN}/budget`,
      summary:
        "The run's budget: the workflow's limits, what the run has used (llm_tokens, cost_usd, sandbox_cpu_ms, steps), what is left, and its wall time.",
      tag: "orchestrator",
      access: "reader",
      responses: { 200: { description: "The run's budget", schema: RunBudgetViewSchema } },
      handler: (c) => c.json(deps.runs.budget(callOf(c), runIdOf(c))),
    }),
    defineRoute({
      method: "GET",
      path: `${RUN}/budget/history`,
      summary:
        "The run's last budget charges, oldest first: each step attempt's usage and the run's totals after it (its budget.charged events).",
      tag: "orchestrator",
      access: "reader",
      responses: { 200: { description: "The charges", schema: RunBudgetHistorySchema } },
      handler: (c) => c.json(deps.runs.budgetHistory(callOf(c), runIdOf(c))),
    }),
  ];
}

function runLifecycleRoutes(deps: { runs: RunService }): AnyRoute[] {
  return [
    defineRoute({
      method: "POST",
      path: RUNS,
      tool: {
        name: "run_start",
        title: "Start a workflow run",
        readOnly: false,
        destructive: true,
        idempotent: false,
      },
      summary:
        "Start a run of an inline workflow or a stored one (workflow_ref). idempotency_key: the same key and body answer the same run (200). ?wait_ms=N answers with the run's body once it has ended or after N ms.",
      tag: "orchestrator",
      access: "writer",
      body: StartRunRequestSchema,
      invalidBody: workflowIssue("workflow"),
      query: StartRunQuerySchema,
      responses: {
        201: { description: "The run was created", schema: StartRunResponseSchema },
        200: {
          description: "The run an idempotency key names, or the run's body with wait_ms",
          schema: v.union([StartRunResponseSchema, RunViewSchema]),
        },
      },
      handler: async (c, { body, query }) => {
        const call = callOf(c);
        const started = await deps.runs.start(call, body);
        if (query.wait_ms !== undefined) {
          const view = await deps.runs.wait(call, started.run_id, query.wait_ms, c.req.raw.signal);
          return c.json(view, started.created ? 201 : 200);
        }
        const { created, ...answer } = started;
        return c.json(answer, created ? 201 : 200);
      },
    }),
    defineRoute({
      method: "GET",
      path: RUNS,
      tool: {
        name: "run_list",
        title: "List runs",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary: "The caller's runs, newest first (status filter, cursor paging; limit ≤ 1000).",
      tag: "orchestrator",
      access: "reader",
      query: RunListQuerySchema,
      responses: { 200: { description: "A page of runs", schema: RunListSchema } },
      handler: (c, { query }) => c.json(deps.runs.list(callOf(c), query)),
    }),
    defineRoute({
      method: "GET",
      path: RUN,
      tool: {
        name: "run_status",
        title: "A run's status and steps",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary:
        "A run: status, steps in declaration order (state, attempts with times, output or error), timestamps.",
      tag: "orchestrator",
      access: "reader",
      responses: { 200: { description: "The run", schema: RunViewSchema } },
      handler: (c) => c.json(deps.runs.get(callOf(c), runIdOf(c))),
    }),
    defineRoute({
      method: "POST",
      path: customMethodPath(RUNS, "id", "cancel"),
      tool: {
        name: "run_cancel",
        title: "Cancel a run",
        readOnly: false,
        destructive: true,
        idempotent: true,
      },
      summary:
        "Cancel a run: running steps are aborted, pending ones cancelled (409 conflict once it has ended).",
      tag: "orchestrator",
      access: "writer",
      responses: { 202: { description: "Cancelling", schema: CancelledSchema } },
      handler: async (c) => {
        await deps.runs.cancel(callOf(c), customMethodParam(c, "id", "cancel"));
        return c.json({ status: "cancelling" as const }, 202);
      },
    }),
    defineRoute({
      method: "POST",
      path: customMethodPath(RUNS, "id", "signal"),
      tool: {
        name: "run_signal",
        title: "Send a signal to a run",
        readOnly: false,
        destructive: false,
        idempotent: false,
      },
      summary:
        "Send a named signal (a wait step takes it; one no step waits for yet is kept). 409 conflict once the run has ended.",
      tag: "orchestrator",
      access: "writer",
      body: SignalRequestSchema,
      responses: { 200: { description: "Accepted", schema: AcceptedSchema } },
      handler: async (c, { body }) => {
        await deps.runs.signal(callOf(c), customMethodParam(c, "id", "signal"), body);
        return c.json({ accepted: true as const });
      },
    }),
    defineRoute({
      method: "POST",
      path: customMethodPath(RUNS, "id", "fork"),
      tool: {
        name: "run_fork",
        title: "Fork a run from a step",
        readOnly: false,
        destructive: true,
        idempotent: false,
      },
      summary:
        "Start a new run that reuses the outputs of the source run's completed steps that are not downstream of from_step and runs from_step and everything downstream again (input and workflow: the source's unless given). idempotency_key as for POST /v1/runs.",
      tag: "orchestrator",
      access: "writer",
      body: ForkRunRequestSchema,
      invalidBody: workflowIssue("workflow"),
      responses: {
        201: { description: "The fork was created", schema: ForkRunResponseSchema },
        200: { description: "The fork an idempotency key names", schema: ForkRunResponseSchema },
      },
      handler: async (c, { body }) => {
        const id = customMethodParam(c, "id", "fork");
        const { created, ...answer } = await deps.runs.fork(callOf(c), id, body);
        return c.json(answer, created ? 201 : 200);
      },
    }),
  ];
}

function runStreamRoutes(deps: { runs: RunService }): AnyRoute[] {
  return [
    defineRoute({
      method: "GET",
      path: `${RUN}/events`,
      summary:
        "The run's events as server-sent events (id: the event's seq; Last-Event-ID resumes); the stream ends after the terminal event.",
      tag: "orchestrator",
      access: "reader",
      responses: { 200: { description: "The event stream", contentType: "text/event-stream" } },
      handler: (c) => {
        const stream = deps.runs.events(callOf(c), runIdOf(c), {
          afterSeq: lastEventId(c),
          signal: c.req.raw.signal,
        });
        return new Response(stream, { status: 200, headers: SSE_HEADERS });
      },
    }),
    defineRoute({
      method: "GET",
      path: `${RUN}/replay`,
      tool: {
        name: "run_events",
        title: "A run's events so far",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary:
        "The run's events rebuilt from the log with no side effect: the same SSE text, byte for byte, as /events; at_wal_index=N keeps the events of records at or before N.",
      tag: "orchestrator",
      access: "reader",
      query: ReplayQuerySchema,
      responses: { 200: { description: "The replayed events", contentType: "text/event-stream" } },
      handler: (c, { query }) => {
        const options = query.at_wal_index === undefined ? {} : { atWalIndex: query.at_wal_index };
        const { text } = deps.runs.replay(callOf(c), runIdOf(c), options);
        return new Response(text, { status: 200, headers: SSE_HEADERS });
      },
    }),
  ];
}

function workflowRoutes(deps: { runs: RunService }): AnyRoute[] {
  const nameOf = (c: AppContext) => {
    const name = c.req.param("name") ?? "";
    if (!v.is(WorkflowNameSchema, name)) {
      throw new VltairError("validation_failed", "name: is not a workflow name", {
        details: { in: "path", field: "name" },
      });
    }
    return name;
  };
  return [
    defineRoute({
      method: "PUT",
      path: "/v1/workflows/:name",
      tool: {
        name: "workflow_put",
        title: "Store a workflow version",
        readOnly: false,
        destructive: false,
        idempotent: true,
      },
      summary:
        "Store a workflow as the next version of its name (the latest version's body again writes nothing).",
      tag: "orchestrator",
      access: "writer",
      body: WorkflowSchema,
      invalidBody: workflowIssue(""),
      responses: { 200: { description: "The stored version", schema: WorkflowPutResponseSchema } },
      handler: async (c, { body }) =>
        c.json(await deps.runs.workflows.put(callOf(c), nameOf(c), body)),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/workflows",
      tool: {
        name: "workflow_list",
        title: "List stored workflows",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary: "The caller's stored workflows with their latest version.",
      tag: "orchestrator",
      access: "reader",
      responses: { 200: { description: "The workflows", schema: WorkflowListSchema } },
      handler: (c) => c.json(deps.runs.workflows.list(callOf(c))),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/workflows/:name",
      tool: {
        name: "workflow_get",
        title: "A stored workflow",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary: "A stored workflow (the latest version, or ?version=N).",
      tag: "orchestrator",
      access: "reader",
      query: WorkflowGetQuerySchema,
      responses: { 200: { description: "The version", schema: WorkflowVersionSchema } },
      handler: (c, { query }) => c.json(deps.runs.workflows.get(callOf(c), nameOf(c), query)),
    }),
  ];
}
