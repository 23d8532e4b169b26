/**
 * The context engine as the server configures it: `embedder`, `embedder_api_key`,
 * `text_tokenizer` and `context_limits` checked (config_invalid naming the key) before anything
 * is created, then the service over the storage.
 */
import * as v from "valibot";
import type { Config } from "../config/mod.ts";
import {
  CONTEXT_LIMITS,
  type ContextLimits,
  type ContextReadPolicy,
  type ContextRecord,
  ContextService,
  type ContextState,
  createHashEmbedder,
  createOpenAiEmbedder,
  describeIdentity,
  type Embedder,
  type EmbedderIdentity,
  HASH_MODEL_DEFAULT,
  HASH_MODELS,
  type HashModel,
} from "../context/mod.ts";
import { VltairError } from "../core/mod.ts";
import type { MachineHandle, Storage } from "../storage/mod.ts";

/** The validated context settings of a config. */
export interface ContextSettings {
  embedder: Embedder | null;
  limits: ContextLimits;
  tokenizer: "code" | "unicode61";
}

const Dimensions = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(4096));
const PositiveInt = (max: number) =>
  v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(max));

const EmbedderSchema = v.variant("provider", [
  v.strictObject({ provider: v.literal("none") }),
  v.strictObject({
    provider: v.literal("hash"),
    dimensions: v.optional(Dimensions, 384),
    model: v.optional(
      v.picklist(HASH_MODELS, `must be one of ${HASH_MODELS.join(", ")}`),
      HASH_MODEL_DEFAULT,
    ),
  }),
  v.strictObject({
    provider: v.literal("openai"),
    base_url: v.pipe(v.string(), v.url("must be a URL")),
    model: v.pipe(v.string(), v.minLength(1)),
    dimensions: Dimensions,
    batch_size: v.optional(PositiveInt(2048), 64),
    timeout_ms: v.optional(PositiveInt(600_000), 30_000),
    retries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(10)), 2),
    backoff_ms: v.optional(PositiveInt(60_000), 200),
  }),
]);

function embedderOf(config: Config): Embedder | null {
  const parsed = v.safeParse(EmbedderSchema, { provider: "hash", ...config.embedder });
  if (!parsed.success) {
    const issue = parsed.issues[0] as v.BaseIssue<unknown>;
    const path = v.getDotPath(issue);
    const field = path === null ? "embedder" : `embedder.${path}`;
    throw new VltairError("config_invalid", `${field}: ${issue.message}`, {
      details: { field, source: "config" },
    });
  }
  const e = parsed.output;
  if (e.provider === "none") return null;
  if (e.provider === "hash")
    return createHashEmbedder({ dimensions: e.dimensions, model: e.model });
  return createOpenAiEmbedder({
    baseUrl: e.base_url,
    model: e.model,
    dimensions: e.dimensions,
    batchSize: e.batch_size,
    timeoutMs: e.timeout_ms,
    retries: e.retries,
    backoffMs: e.backoff_ms,
    apiKey: config.embedder_api_key,
  });
}

/** Config's context options, validated (no side effects: `vector_thread` goes to the machine). */
export function contextSettings(config: Config): ContextSettings {
  return {
    embedder: embedderOf(config),
    limits: CONTEXT_LIMITS.resolveSnake(config.context_limits),
    tokenizer: config.text_tokenizer,
  };
}

/** The context service over a storage and the handle of its registered `context` machine. */
export function createContextService(
  settings: ContextSettings,
  wiring: {
    storage: Storage;
    machine: MachineHandle<ContextState, ContextRecord>;
    monotonicMs: () => number;
    policy?: ContextReadPolicy;
  },
): ContextService {
  return new ContextService({ ...wiring, ...settings });
}

/**
 * The embedder that made a data directory's vectors, rebuilt from its recorded identity, for
 * the CLI's in-process path when no embedder is configured: `vltair search DIR` needs no
 * `--embedder`. Only the offline hash embedders can be rebuilt from an identity; a remote model
 * needs its URL, so that case is a usage error naming the flag.
 */
export function embedderOfIdentity(identity: EmbedderIdentity): Embedder {
  if (identity.provider === "hash" && (HASH_MODELS as readonly string[]).includes(identity.model)) {
    return createHashEmbedder({
      dimensions: identity.dimensions,
      model: identity.model as HashModel,
    });
  }
  throw new VltairError(
    "embedder_mismatch",
    `the data directory's vectors were made by ${describeIdentity(identity)}; pass ` +
      "--embedder with that model's provider, base_url, model and dimensions",
    { details: { field: "embedder", recorded: identity } },
  );
}
