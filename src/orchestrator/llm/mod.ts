/**
 * Model calls of `llm` and `agent` steps: providers from config, the OpenAI-compatible client,
 * and the check of answers against `output_schema`.
 *
 * @example
 * ```ts
 * import { ModelGateway, resolveProviders } from "./llm/mod.ts";
 * const models = new ModelGateway(resolveProviders(config.llm_providers, process.env));
 * ```
 */
export type { ChatMessage, Completion, ToolCall } from "./chat-client.ts";
export { chatCompletion, LLM_RESPONSE_BYTES_MAX } from "./chat-client.ts";
export { ModelGateway } from "./gateway.ts";
export { compileOutputSchema, parseModelOutput } from "./output-schema.ts";
export type { LlmProvider, LlmProviderConfig, ModelPrice } from "./providers.ts";
export {
  costCeilingUsd,
  costUsd,
  LLM_MAX_TOKENS_DEFAULT,
  LLM_TIMEOUT_MS_DEFAULT,
  resolveProviders,
} from "./providers.ts";
