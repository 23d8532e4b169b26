/**
 * The tools an `agent` step offers its model (OpenAI function tools), each run with the run's
 * Call: `context_search`, `context_get` and `context_upsert` through the context engine (an
 * upsert is committed with the tool call's journal entry: exactly once), and `read_file`,
 * `write_file` and `exec` as sandbox commands in the step's workspace (so the sandbox's limits,
 * policy `exec` and audit apply to them as to any command). A tool that fails answers the model
 * with `{"error":{"code","message"}}` — it may try something else — except a budget refusal,
 * which fails the step.
 */
import * as v from "valibot";
import { parseScopeParam, SearchRequestSchema, UpsertRequestSchema } from "../../context/mod.ts";
import { VltairError } from "../../core/mod.ts";
import type { PreparedWrite } from "../../storage/mod.ts";
import { StepFailure, stepErrorOf } from "../step-error.ts";
import { chargedExec, IDEMPOTENCY_ENV } from "./exec.ts";
import type { StepContext } from "./executor.ts";

export const AGENT_TOOLS = [
  "context_search",
  "context_get",
  "context_upsert",
  "read_file",
  "write_file",
  "exec",
] as const;
export type AgentTool = (typeof AGENT_TOOLS)[number];

/** Characters of a tool's answer the model gets (the rest is cut, and said so). */
export const TOOL_RESULT_CHARS_MAX = 16_384;
/** Characters of a document's text a search hit carries. */
const HIT_TEXT_CHARS_MAX = 1000;

const str = (max: number) => v.pipe(v.string(), v.minLength(1), v.maxLength(max));
/** A relative path inside the workspace: no leading `/`, no `..` segment. */
const RelativePath = v.pipe(
  str(4096),
  v.check(
    (p) => !p.startsWith("/") && !p.split("/").includes(".."),
    "must be a relative path inside the workspace (no leading /, no ..)",
  ),
);

const ARGS = {
  context_search: v.strictObject({
    query: str(4096),
    k: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(20))),
  }),
  context_get: v.strictObject({ id: str(512), scope: v.optional(str(300)) }),
  context_upsert: v.strictObject({
    id: str(512),
    text: v.pipe(v.string(), v.maxLength(1_000_000)),
    metadata: v.optional(v.record(v.string(), v.unknown())),
  }),
  read_file: v.strictObject({ path: RelativePath }),
  write_file: v.strictObject({
    path: RelativePath,
    content: v.pipe(v.string(), v.maxLength(4_000_000)),
  }),
  exec: v.strictObject({
    cmd: v.pipe(v.array(v.pipe(v.string(), v.maxLength(4096))), v.minLength(1), v.maxLength(256)),
    stdin: v.optional(v.pipe(v.string(), v.maxLength(1_000_000))),
    cwd: v.optional(RelativePath),
  }),
} satisfies Record<AgentTool, v.GenericSchema>;

const DESCRIPTIONS: Record<AgentTool, string> = {
  context_search:
    "Search the project's indexed documents (hybrid BM25 + vector). Returns ids, scores and text.",
  context_get: "Read one document of the context engine by id.",
  context_upsert: "Write (create or replace) a document of the context engine.",
  read_file: "Read a file of the workspace (a relative path).",
  write_file: "Write a file of the workspace (a relative path; parent directories are created).",
  exec: "Run a command (argv list) in the workspace's sandbox, without network. Returns rc, stdout, stderr.",
};

/** The OpenAI `tools` of the given names (JSON Schemas of their arguments). */
export function toolDefinitions(names: readonly AgentTool[]): unknown[] {
  const parameters: Record<AgentTool, unknown> = {
    context_search: {
      type: "object",
      properties: { query: { type: "string" }, k: { type: "integer", minimum: 1, maximum: 20 } },
      required: ["query"],
    },
    context_get: {
      type: "object",
      properties: { id: { type: "string" }, scope: { type: "string" } },
      required: ["id"],
    },
    context_upsert: {
      type: "object",
      properties: {
        id: { type: "string" },
        text: { type: "string" },
        metadata: { type: "object" },
      },
      required: ["id", "text"],
    },
    read_file: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
    write_file: {
      type: "object",
      properties: { path: { type: "string" }, content: { type: "string" } },
      required: ["path", "content"],
    },
    exec: {
      type: "object",
      properties: {
        cmd: { type: "array", items: { type: "string" } },
        stdin: { type: "string" },
        cwd: { type: "string" },
      },
      required: ["cmd"],
    },
  };
  return names.map((name) => ({
    type: "function",
    function: { name, description: DESCRIPTIONS[name], parameters: parameters[name] },
  }));
}

/** What a tool call produced: its answer to the model, and writes to commit with it. */
export interface ToolOutcome {
  result: unknown;
  prepared?: readonly PreparedWrite<unknown>[];
}

/** Where file and exec tools act. */
export interface ToolTarget {
  workspace?: string;
  idempotencyKey: string;
}

/** A service body checked by its route's schema (`validation_failed` answers the model). */
function parseBody<S extends v.GenericSchema>(schema: S, body: unknown): v.InferOutput<S> {
  const parsed = v.safeParse(schema, body);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0] as v.BaseIssue<unknown>;
  throw new VltairError("validation_failed", `${v.getDotPath(issue) ?? "body"}: ${issue.message}`);
}

async function sandbox(
  ctx: StepContext,
  target: ToolTarget,
  request: { cmd: string[]; stdin?: string; cwd?: string },
) {
  const env = { [IDEMPOTENCY_ENV]: target.idempotencyKey };
  const result = await chargedExec(
    ctx,
    { ...request, env, network: "deny" },
    target.workspace === undefined ? undefined : { workspace: target.workspace },
  );
  return {
    status: result.status,
    rc: result.rc,
    stdout: result.stdout,
    stderr: result.stderr,
    ...(result.reason === null ? {} : { reason: result.reason }),
  };
}

async function runTool(
  ctx: StepContext,
  name: AgentTool,
  args: unknown,
  target: ToolTarget,
): Promise<ToolOutcome> {
  switch (name) {
    case "context_search": {
      const a = args as v.InferOutput<(typeof ARGS)["context_search"]>;
      const request = parseBody(SearchRequestSchema, {
        query: a.query,
        k: a.k ?? 5,
        include: ["text"],
      });
      const found = await ctx.services.context.search(ctx.call, request);
      return {
        result: found.results.map((h) => ({
          id: h.id,
          score: h.score,
          text: (h.text ?? "").slice(0, HIT_TEXT_CHARS_MAX),
        })),
      };
    }
    case "context_get": {
      const a = args as v.InferOutput<(typeof ARGS)["context_get"]>;
      const doc = ctx.services.context.get(ctx.call, parseScopeParam(a.scope), a.id);
      return {
        result: { id: doc.id, version: doc.version, text: doc.text, metadata: doc.metadata },
      };
    }
    case "context_upsert": {
      const a = args as v.InferOutput<(typeof ARGS)["context_upsert"]>;
      const item = a.metadata === undefined ? { id: a.id, text: a.text } : { ...a };
      const request = parseBody(UpsertRequestSchema, { items: [item] });
      const prepared = await ctx.services.context.prepareUpsert(ctx.call, request);
      const { wal_index: _w, ...summary } = prepared.result(0);
      return { result: summary, prepared: [prepared] };
    }
    case "read_file":
      return {
        result: await sandbox(ctx, target, { cmd: ["cat", "--", (args as { path: string }).path] }),
      };
    case "write_file": {
      const a = args as { path: string; content: string };
      const script = 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"';
      return {
        result: await sandbox(ctx, target, {
          cmd: ["sh", "-c", script, "write_file", a.path],
          stdin: a.content,
        }),
      };
    }
    case "exec":
      return { result: await sandbox(ctx, target, args as { cmd: string[] }) };
  }
}

/** The tool's answer as the model reads it: JSON, cut to {@link TOOL_RESULT_CHARS_MAX}. */
export function toolMessage(result: unknown): string {
  const text = JSON.stringify(result) ?? "null";
  if (text.length <= TOOL_RESULT_CHARS_MAX) return text;
  return `${text.slice(0, TOOL_RESULT_CHARS_MAX)}… [cut: ${text.length} characters in all]`;
}

/**
 * Runs a tool call the model asked for. Unknown tools, arguments that are not JSON or do not
 * fit, and refusals of the services answer the model with an error; a budget refusal, or the
 * step's abort, ends the step.
 */
export async function callTool(
  ctx: StepContext,
  allowed: readonly AgentTool[],
  call: { name: string; arguments: string },
  target: ToolTarget,
): Promise<ToolOutcome> {
  const refuse = (code: string, message: string) => ({ result: { error: { code, message } } });
  if (!(allowed as readonly string[]).includes(call.name))
    return refuse("tool_unknown", `no tool ${call.name}; tools: ${allowed.join(", ")}`);
  const name = call.name as AgentTool;
  let raw: unknown;
  try {
    raw = JSON.parse(call.arguments === "" ? "{}" : call.arguments);
  } catch {
    return refuse("validation_failed", "the arguments are not JSON");
  }
  const parsed = v.safeParse(ARGS[name], raw);
  if (!parsed.success) {
    const issue = parsed.issues[0] as v.BaseIssue<unknown>;
    return refuse("validation_failed", `${v.getDotPath(issue) ?? "arguments"}: ${issue.message}`);
  }
  try {
    return await runTool(ctx, name, parsed.output, target);
  } catch (error) {
    if (ctx.call.signal.aborted) throw error;
    const { error: recorded } = stepErrorOf(error);
    if (recorded.code === "budget_exceeded") throw error;
    if (!(error instanceof VltairError || error instanceof StepFailure)) throw error;
    return refuse(recorded.code, recorded.message);
  }
}
