/**
 * `llm`: one chat completion of an OpenAI-compatible provider (config `llm_providers`). Before
 * the call: the provider and model are checked, policy decides `llm.call` with the run's Call,
 * and the run's budget and the tenant's budgets hold the most it may spend (`max_tokens` plus
 * an estimate of the prompt; the cost at the dearer price). After it: what it spent (the
 * provider's `usage`, priced by the config's table) is charged and the call is audited. The
 * attempt's idempotency key is sent as `Idempotency-Key` and in `metadata`. With
 * `output_schema` (or `response_format` json) the answer is parsed and checked, its value the
 * output's `json`.
 */
import * as v from "valibot";
import type { Call } from "../../core/mod.ts";
import {
  type ChatMessage,
  type Completion,
  chatCompletion,
  costCeilingUsd,
  costUsd,
  type LlmProvider,
  parseModelOutput,
} from "../llm/mod.ts";
import { StepFailure } from "../step-error.ts";
import type { HeldUnit, StepContext, StepKindSpec } from "./executor.ts";

/** Most tokens one call may ask for. */
export const LLM_MAX_TOKENS_MAX = 1_000_000;
/** Messages of one call. */
export const LLM_MESSAGES_MAX = 1000;

const MessageSchema = v.looseObject({
  role: v.picklist(["system", "user", "assistant", "tool"]),
  content: v.nullable(v.string()),
  name: v.optional(v.string()),
  tool_call_id: v.optional(v.string()),
  tool_calls: v.optional(v.array(v.unknown())),
});

export const LlmWith = v.strictObject({
  provider: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(64))),
  model: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  messages: v.pipe(v.array(MessageSchema), v.minLength(1), v.maxLength(LLM_MESSAGES_MAX)),
  max_tokens: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(LLM_MAX_TOKENS_MAX)),
  ),
  temperature: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(2))),
  top_p: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
  seed: v.optional(v.pipe(v.number(), v.integer())),
  stop: v.optional(v.union([v.string(), v.pipe(v.array(v.string()), v.maxLength(4))])),
  response_format: v.optional(
    v.looseObject({ type: v.picklist(["text", "json_object", "json_schema"]) }),
  ),
});
export type LlmInput = v.InferOutput<typeof LlmWith>;

/** A rough prompt size in tokens (4 characters each), held before the call. */
function promptEstimate(messages: readonly { content: string | null }[]): number {
  let chars = 0;
  for (const m of messages) chars += (m.content ?? "").length;
  return Math.ceil(chars / 4);
}

/** What one model call spent, as a run usage. */
export function usageOfCompletion(provider: LlmProvider, done: Completion) {
  return {
    llm_tokens: done.promptTokens + done.completionTokens,
    cost_usd: costUsd(provider, done.model, done),
  };
}

/**
 * One model call under policy, budgets and audit: the shared path of `llm` steps and of each
 * turn of an `agent`. `extra` joins the request body (tools).
 */
export async function callModel(
  ctx: StepContext,
  input: Omit<LlmInput, "messages"> & { messages: readonly ChatMessage[] | LlmInput["messages"] },
  extra: Record<string, unknown> = {},
  idempotencyKey: string = ctx.idempotencyKey,
): Promise<{ done: Completion; provider: LlmProvider }> {
  const models = ctx.services.models;
  if (models === undefined)
    throw new StepFailure(
      "llm_provider_unknown",
      "no model provider is configured (llm_providers)",
      {
        retryable: false,
      },
    );
  const provider = models.provider(input.provider);
  models.checkModel(provider, input.model);
  const maxTokens = input.max_tokens ?? provider.maxTokensDefault;
  ctx.services.policy?.check(ctx.call, "llm.call", {
    provider: provider.name,
    model: input.model,
    max_tokens: maxTokens,
  });
  const tokens = maxTokens + promptEstimate(input.messages);
  const held: [HeldUnit, number][] = [
    ["llm_tokens", tokens],
    ["cost_usd", costCeilingUsd(provider, input.model, tokens)],
  ];
  const releases: (() => void)[] = [];
  const settles: ((actual: number) => Promise<void>)[] = [];
  let spent: Record<string, number> = {};
  try {
    for (const [unit, amount] of held) {
      releases.push(ctx.holdRun(unit, amount));
      settles.push(await holdTenant(ctx, unit, amount, `${idempotencyKey}:${unit}`));
    }
    const { provider: _p, ...request } = input;
    const done = await chatCompletion(
      provider,
      { ...request, max_tokens: maxTokens, ...extra },
      { signal: ctx.call.signal, idempotencyKey },
    );
    spent = usageOfCompletion(provider, done);
    ctx.charge(spent);
    await ctx.services.audit?.(ctx.call, {
      action: "llm.call",
      resource: `llm/${provider.name}/${input.model}`,
      runId: ctx.runId,
      details: {
        prompt_tokens: done.promptTokens,
        completion_tokens: done.completionTokens,
        finish_reason: done.finishReason,
      },
    });
    return { done, provider };
  } finally {
    for (const release of releases) release();
    const units = held.map(([unit]) => unit);
    await Promise.all(settles.map((settle, i) => settle(spent[units[i] as string] ?? 0)));
  }
}

/** Holds `amount` on the tenant's budgets of `unit`; the function settles the actual. */
async function holdTenant(
  ctx: StepContext,
  unit: HeldUnit,
  amount: number,
  id: string,
): Promise<(actual: number) => Promise<void>> {
  const budgets = ctx.services.budgets;
  if (budgets === undefined || amount <= 0) return async () => {};
  const call: Call = ctx.call;
  const hold = await budgets.reserve(call, unit, amount, { runId: ctx.runId, id });
  return (actual) => budgets.settle(call, hold, actual);
}

export const llmKind: StepKindSpec<LlmInput> = {
  kind: "llm",
  withSchema: LlmWith,
  withKeys: Object.keys(LlmWith.entries),
  holdsSlot: true,
  async run(step, ctx) {
    const { done } = await callModel(ctx, step.with);
    const output: Record<string, unknown> = {
      text: done.message.content,
      message: done.message,
      finish_reason: done.finishReason,
      model: done.model,
      usage: {
        prompt_tokens: done.promptTokens,
        completion_tokens: done.completionTokens,
        total_tokens: done.promptTokens + done.completionTokens,
      },
    };
    const wantsJson =
      step.outputSchema !== undefined ||
      (step.with.response_format !== undefined && step.with.response_format.type !== "text");
    if (wantsJson) output.json = parseModelOutput(done.message.content, step.outputSchema);
    return { output };
  },
};
