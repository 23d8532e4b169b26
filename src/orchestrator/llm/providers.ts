/**
 * Model providers of `llm` and `agent` steps (config `llm_providers`): OpenAI-compatible
 * servers (`/v1/chat/completions`: OpenAI, Ollama, vLLM, llama.cpp, LiteLLM…), each with its
 * base URL, the NAME of the environment variable holding its key (never the key itself: config
 * files and flags show up in backups and `ps`), the models it may be asked for, and a price
 * table for `cost_usd`.
 */
import { VltairError } from "../../core/mod.ts";

/** Prices of one model, in US dollars per million tokens. */
export interface ModelPrice {
  input_usd_per_mtok: number;
  output_usd_per_mtok: number;
}

/** One provider as `llm_providers` configures it (snake_case, as in the config file). */
export interface LlmProviderConfig {
  base_url: string;
  api_key_env?: string;
  /** Models steps may name (absent: any). */
  models?: readonly string[];
  prices?: Readonly<Record<string, ModelPrice>>;
  timeout_ms?: number;
  max_tokens_default?: number;
}

/** A provider ready to call: its key read from the environment once, at start. */
export interface LlmProvider {
  name: string;
  /** `base_url` without a trailing slash; requests go to `${baseUrl}/chat/completions`. */
  baseUrl: string;
  apiKey: string | null;
  models: readonly string[] | null;
  prices: Readonly<Record<string, ModelPrice>>;
  timeoutMs: number;
  maxTokensDefault: number;
}

/** Default time a model call may take. */
export const LLM_TIMEOUT_MS_DEFAULT = 60_000;
/** `max_tokens` of a call that names none. */
export const LLM_MAX_TOKENS_DEFAULT = 1024;

/** The providers of a config, keys read from `env` (absent variable: refused at start). */
export function resolveProviders(
  config: Readonly<Record<string, LlmProviderConfig>>,
  env: Readonly<Record<string, string | undefined>>,
): Map<string, LlmProvider> {
  const out = new Map<string, LlmProvider>();
  for (const [name, p] of Object.entries(config)) {
    let apiKey: string | null = null;
    if (p.api_key_env !== undefined) {
      apiKey = env[p.api_key_env] ?? null;
      if (apiKey === null || apiKey === "") {
        throw new VltairError(
          "config_invalid",
          `llm_providers.${name}.api_key_env: the environment variable ${p.api_key_env} is not set`,
          { details: { field: `llm_providers.${name}.api_key_env` } },
        );
      }
    }
    out.set(name, {
      name,
      baseUrl: p.base_url.replace(/\/+$/, ""),
      apiKey,
      models: p.models ?? null,
      prices: p.prices ?? {},
      timeoutMs: p.timeout_ms ?? LLM_TIMEOUT_MS_DEFAULT,
      maxTokensDefault: p.max_tokens_default ?? LLM_MAX_TOKENS_DEFAULT,
    });
  }
  return out;
}

/** What a call cost, by the provider's price table (0 when the model has no price). */
export function costUsd(
  provider: LlmProvider,
  model: string,
  usage: { promptTokens: number; completionTokens: number },
): number {
  const price = provider.prices[model];
  if (price === undefined) return 0;
  const usd =
    (usage.promptTokens * price.input_usd_per_mtok +
      usage.completionTokens * price.output_usd_per_mtok) /
    1e6;
  return Math.round(usd * 1e6) / 1e6;
}

/** The most a call may cost: every token at the dearer price (what a budget holds before it). */
export function costCeilingUsd(provider: LlmProvider, model: string, maxTokens: number): number {
  const price = provider.prices[model];
  if (price === undefined) return 0;
  const dearer = Math.max(price.input_usd_per_mtok, price.output_usd_per_mtok);
  return Math.round(((maxTokens * dearer) / 1e6) * 1e6) / 1e6;
}
