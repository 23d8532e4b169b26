/**
 * One call of an OpenAI-compatible `POST {base_url}/chat/completions`: the request as the step
 * built it, plus the attempt's idempotency key (as the `Idempotency-Key` header and in
 * `metadata`), bounded by a timeout and the step's signal. Failures are step failures with
 * stable codes: network errors, timeouts, 429 and 5xx are retryable; any other status, and an
 * answer that is not a chat completion, are not.
 */
import { Buffer } from "node:buffer";
import { readBodyBounded } from "../read-body.ts";
import { StepFailure } from "../step-error.ts";
import type { LlmProvider } from "./providers.ts";

/** Largest answer body read from a provider. */
export const LLM_RESPONSE_BYTES_MAX = 8 * 1024 * 1024;

/** A chat message (OpenAI's shape; tool calls included). */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string | null;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  name?: string;
}

/** A tool call the model asked for. */
export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** What a completion answered. */
export interface Completion {
  message: ChatMessage;
  finishReason: string | null;
  model: string;
  promptTokens: number;
  completionTokens: number;
}

function failure(
  code: "llm_unreachable" | "llm_timeout" | "llm_status" | "llm_bad_response",
  message: string,
  retryable: boolean,
  details: Record<string, unknown> = {},
): StepFailure {
  return new StepFailure(code, message, { retryable, details });
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : 0;
}

/** The first choice of a chat completion body, or a `llm_bad_response` failure. */
function completionOf(body: unknown, askedModel: string): Completion {
  const b = body as {
    choices?: { message?: ChatMessage; finish_reason?: string | null }[];
    model?: string;
    usage?: { prompt_tokens?: number; completion_tokens?: number };
  };
  const choice = Array.isArray(b?.choices) ? b.choices[0] : undefined;
  const message = choice?.message;
  if (message === undefined || typeof message !== "object" || message === null)
    throw failure("llm_bad_response", "the provider's answer has no choices[0].message", false);
  return {
    message: {
      role: "assistant",
      content: typeof message.content === "string" ? message.content : null,
      ...(Array.isArray(message.tool_calls) ? { tool_calls: message.tool_calls } : {}),
    },
    finishReason: choice?.finish_reason ?? null,
    model: typeof b.model === "string" ? b.model : askedModel,
    promptTokens: count(b.usage?.prompt_tokens),
    completionTokens: count(b.usage?.completion_tokens),
  };
}

/**
 * Calls the provider. `request` is the chat completion body (model, messages, max_tokens, …).
 *
 * @example
 * ```ts
 * const done = await chatCompletion(provider, { model: "m", messages }, { signal, idempotencyKey });
 * ```
 */
export async function chatCompletion(
  provider: LlmProvider,
  request: Record<string, unknown> & { model: string },
  options: { signal: AbortSignal; idempotencyKey: string; timeoutMs?: number },
): Promise<Completion> {
  const timeoutMs = options.timeoutMs ?? provider.timeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout]);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "idempotency-key": options.idempotencyKey,
  };
  if (provider.apiKey !== null) headers.authorization = `Bearer ${provider.apiKey}`;
  const body = { ...request, metadata: { idempotency_key: options.idempotencyKey } };
  let response: Response;
  try {
    response = await fetch(`${provider.baseUrl}/chat/completions`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal,
      redirect: "error",
    });
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason;
    if (timeout.aborted)
      throw failure("llm_timeout", `the model did not answer within ${timeoutMs} ms`, true, {
        timeout_ms: timeoutMs,
      });
    throw failure("llm_unreachable", `the provider ${provider.name} could not be reached`, true, {
      provider: provider.name,
      cause: (error as Error)?.name ?? "error",
    });
  }
  let text: string;
  try {
    const tooLarge = () =>
      failure(
        "llm_bad_response",
        `the answer is larger than ${LLM_RESPONSE_BYTES_MAX} bytes`,
        false,
      );
    const bytes = await readBodyBounded(response, LLM_RESPONSE_BYTES_MAX, tooLarge);
    text = Buffer.from(bytes).toString("utf8");
  } catch (error) {
    if (error instanceof StepFailure) throw error;
    if (options.signal.aborted) throw options.signal.reason;
    if (timeout.aborted || signal.aborted)
      throw failure("llm_timeout", `the model did not answer within ${timeoutMs} ms`, true);
    throw failure("llm_unreachable", "the answer was cut off", true);
  }
  if (!response.ok) {
    const retryable = response.status === 429 || response.status >= 500;
    throw failure("llm_status", `the provider answered ${response.status}`, retryable, {
      provider: provider.name,
      status: response.status,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw failure("llm_bad_response", "the provider's answer is not JSON", false);
  }
  return completionOf(parsed, request.model);
}
