/**
 * `agent`: a tool-calling loop. The model gets the messages and the tools (agent-tools.ts); each
 * answer that asks for tools has them run, their answers appended, and the model is asked
 * again — until it answers without tools, or `max_turns` answers have been given
 * (`agent_turns_exhausted`). Every model turn and every tool call is a journaled sub-step
 * (`turn:N`, `tool:N:J`): after a crash or a retry the loop replays them from the journal and
 * goes on from the first one that had not ended, so completed model calls are never repeated
 * and a context write of a tool is committed once. Each model call goes through the same path as
 * an `llm` step (policy `llm.call`, budgets, audit).
 */
import * as v from "valibot";
import type { ChatMessage, ToolCall } from "../llm/mod.ts";
import { parseModelOutput } from "../llm/mod.ts";
import { StepFailure } from "../step-error.ts";
import {
  AGENT_TOOLS,
  type AgentTool,
  callTool,
  toolDefinitions,
  toolMessage,
} from "./agent-tools.ts";
import type { StepKindSpec } from "./executor.ts";
import { callModel, LlmWith } from "./llm.ts";

/** Most model answers of one agent step. */
export const AGENT_TURNS_MAX = 100;
/** Answers when `max_turns` is absent. */
export const AGENT_TURNS_DEFAULT = 8;

const { response_format: _rf, ...llmEntries } = LlmWith.entries;

const AgentWith = v.strictObject({
  ...llmEntries,
  /** Tools the model may call (default: every one). */
  tools: v.optional(v.pipe(v.array(v.picklist(AGENT_TOOLS)), v.maxLength(AGENT_TOOLS.length))),
  max_turns: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(AGENT_TURNS_MAX)),
  ),
  /** Workspace of `read_file`, `write_file` and `exec` (default: the tenant's default one). */
  workspace: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
});
type AgentInput = v.InferOutput<typeof AgentWith>;

/** A model turn as the journal keeps it. */
interface Turn {
  message: ChatMessage;
  finish_reason: string | null;
}

export const agentKind: StepKindSpec<AgentInput> = {
  kind: "agent",
  withSchema: AgentWith,
  withKeys: Object.keys(AgentWith.entries),
  holdsSlot: true,
  async run(step, ctx) {
    const { tools: named, max_turns: maxTurns, workspace, ...llm } = step.with;
    const tools = (named ?? AGENT_TOOLS) as readonly AgentTool[];
    const definitions = tools.length === 0 ? {} : { tools: toolDefinitions(tools) };
    const messages: ChatMessage[] = [...(llm.messages as ChatMessage[])];
    let toolCalls = 0;
    const turnsMax = maxTurns ?? AGENT_TURNS_DEFAULT;
    for (let turn = 0; turn < turnsMax; turn++) {
      const key = `${ctx.idempotencyKey}:turn:${turn}`;
      const answer = (await ctx.journal(`turn:${turn}`, async () => {
        const { done } = await callModel(ctx, { ...llm, messages }, definitions, key);
        return { output: { message: done.message, finish_reason: done.finishReason } };
      })) as Turn;
      messages.push(answer.message);
      const calls: ToolCall[] = answer.message.tool_calls ?? [];
      if (calls.length === 0) {
        const output: Record<string, unknown> = {
          text: answer.message.content,
          turns: turn + 1,
          tool_calls: toolCalls,
          messages,
        };
        if (step.outputSchema !== undefined)
          output.json = parseModelOutput(answer.message.content, step.outputSchema);
        return { output };
      }
      for (const [j, call] of calls.entries()) {
        toolCalls++;
        const target = {
          idempotencyKey: `${key}:tool:${j}`,
          ...(workspace === undefined ? {} : { workspace }),
        };
        const result = await ctx.journal(`tool:${turn}:${j}`, async () => {
          const done = await callTool(
            ctx,
            tools,
            call.function ?? { name: "", arguments: "" },
            target,
          );
          return done.prepared === undefined
            ? { output: done.result }
            : { output: done.result, prepared: done.prepared };
        });
        messages.push({ role: "tool", tool_call_id: call.id, content: toolMessage(result) });
      }
    }
    throw new StepFailure(
      "agent_turns_exhausted",
      `the model still asked for tools after ${turnsMax} turns`,
      { retryable: false, details: { max_turns: turnsMax, tool_calls: toolCalls } },
    );
  },
};
