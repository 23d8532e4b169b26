/**
 * An OpenAI-compatible `/v1/embeddings` client (OpenAI, a local Ollama or llama.cpp server):
 * batches, a per-request timeout, bounded retries with exponential backoff on network errors,
 * 429 and 5xx. Any final failure is `embedding_unavailable` (HTTP 503), never a half result.
 */
import * as v from "valibot";
import { VltairError } from "../../core/mod.ts";
import { type Embedder, type EmbedOptions, normaliseL2 } from "./embedder.ts";

/** Options of {@link createOpenAiEmbedder}. */
export interface OpenAiEmbedderOptions {
  /** e.g. `http://127.0.0.1:11434` (Ollama) — `/v1/embeddings` is appended. */
  baseUrl: string;
  model: string;
  dimensions: number;
  /** Texts per request. */
  batchSize: number;
  timeoutMs: number;
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff; doubles per retry. */
  backoffMs: number;
  /** Sent as `Authorization: Bearer …` when set; never logged. */
  apiKey: string | null;
  fetch?: typeof fetch;
}

const ResponseSchema = v.object({
  data: v.array(
    v.object({
      index: v.pipe(v.number(), v.integer(), v.minValue(0)),
      embedding: v.array(v.number()),
    }),
  ),
});

class RetryableError extends Error {}

function unavailable(message: string, cause?: unknown): VltairError {
  return new VltairError("embedding_unavailable", `embedder: ${message}`, {
    cause,
    headers: { "retry-after": "1" },
  });
}

async function requestBatch(
  texts: readonly string[],
  options: OpenAiEmbedderOptions,
  signal: AbortSignal | undefined,
): Promise<Float32Array[]> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(
      `${options.baseUrl.replace(/\/+$/, "")}/v1/embeddings`,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(options.apiKey === null ? {} : { authorization: `Bearer ${options.apiKey}` }),
        },
        body: JSON.stringify({
          model: options.model,
          input: texts,
          dimensions: options.dimensions,
        }),
        signal: combined,
      },
    );
  } catch (cause) {
    if (signal?.aborted === true) throw unavailable("aborted", cause);
    throw new RetryableError(`request failed: ${(cause as Error).message}`);
  }
  if (response.status === 429 || response.status >= 500) {
    throw new RetryableError(`HTTP ${response.status}`);
  }
  if (!response.ok) throw unavailable(`HTTP ${response.status}`);
  const parsed = v.safeParse(ResponseSchema, await response.json().catch(() => null));
  if (!parsed.success || parsed.output.data.length !== texts.length) {
    throw unavailable("malformed response");
  }
  const out: Float32Array[] = new Array(texts.length);
  for (const item of parsed.output.data) {
    if (item.index >= texts.length || item.embedding.length !== options.dimensions) {
      throw unavailable(`expected ${options.dimensions}-d vectors for ${texts.length} inputs`);
    }
    if (!item.embedding.every(Number.isFinite)) throw unavailable("non-finite vector values");
    out[item.index] = normaliseL2(Float32Array.from(item.embedding));
  }
  if (out.some((x) => x === undefined)) throw unavailable("missing vectors in the response");
  return out;
}

async function withRetries(
  attempt: () => Promise<Float32Array[]>,
  options: OpenAiEmbedderOptions,
): Promise<Float32Array[]> {
  let last: unknown;
  for (let i = 0; i <= options.retries; i++) {
    if (i > 0)
      await new Promise((resolve) => setTimeout(resolve, options.backoffMs * 2 ** (i - 1)));
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      last = error;
    }
  }
  throw unavailable(`${(last as Error).message} after ${options.retries + 1} attempts`, last);
}

/**
 * Creates the OpenAI-compatible embedder.
 *
 * @example
 * ```ts
 * const embedder = createOpenAiEmbedder({ baseUrl: "http://127.0.0.1:11434", model: "nomic-embed-text",
 *   dimensions: 768, batchSize: 64, timeoutMs: 30_000, retries: 2, backoffMs: 200, apiKey: null });
 * ```
 */
export function createOpenAiEmbedder(options: OpenAiEmbedderOptions): Embedder {
  return {
    provider: "openai",
    model: options.model,
    dimensions: options.dimensions,
    async embed(texts: readonly string[], call: EmbedOptions = {}): Promise<Float32Array[]> {
      const out: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += options.batchSize) {
        const batch = texts.slice(start, start + options.batchSize);
        out.push(...(await withRetries(() => requestBatch(batch, options, call.signal), options)));
      }
      return out;
    },
  };
}
