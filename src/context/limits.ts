/**
 * Limits of the context engine, each with its default, bounds and reason. Configurable through
 * the `context_limits` option (snake_case keys); exceeding one is a 4xx with a stable code.
 */
import { VltairError } from "../core/mod.ts";
import { FILTER_LIMITS_CEILING, FILTER_LIMITS_DEFAULT, type FilterLimits } from "./filters/mod.ts";

export interface ContextLimits {
  /** Items of one upsert or delete batch (413 `payload_too_large` above). */
  batchItemsMax: number;
  /** Characters of one document's text; bounds tokens per document (code tokens ≤ 1.5 × chars). */
  textCharsMax: number;
  /** Bytes of one document's metadata as JSON. */
  metadataBytesMax: number;
  /** Dimensions of a vector; also the ceiling of the embedder's dimension. */
  vectorDimensionsMax: number;
  /** `k` of a search. */
  kMax: number;
  /** Characters of a search query. */
  queryCharsMax: number;
  /** Nesting of a filter's and/or/not. */
  filterDepthMax: number;
  /** Conditions in one filter. */
  filterConditionsMax: number;
  /** Materialised past states kept for time-travel queries (each holds its own indexes). */
  timeTravelViewsMax: number;
}

interface Bound {
  def: number;
  min: number;
  max: number;
}

export const CONTEXT_LIMITS: Record<keyof ContextLimits, Bound> = {
  batchItemsMax: { def: 1000, min: 1, max: 100_000 },
  textCharsMax: { def: 256 * 1024, min: 1, max: 600_000 },
  metadataBytesMax: { def: 64 * 1024, min: 2, max: 1024 * 1024 },
  vectorDimensionsMax: { def: 4096, min: 1, max: 16_384 },
  kMax: { def: 1000, min: 1, max: 10_000 },
  queryCharsMax: { def: 16_384, min: 1, max: 16_384 },
  filterDepthMax: {
    def: FILTER_LIMITS_DEFAULT.depthMax,
    min: 1,
    max: FILTER_LIMITS_CEILING.depthMax,
  },
  filterConditionsMax: {
    def: FILTER_LIMITS_DEFAULT.conditionsMax,
    min: 1,
    max: FILTER_LIMITS_CEILING.conditionsMax,
  },
  timeTravelViewsMax: { def: 2, min: 0, max: 64 },
};

/** Limits with defaults applied; throws `config_invalid` naming the key for an out-of-range value. */
export function resolveContextLimits(partial: Partial<ContextLimits> = {}): ContextLimits {
  const limits = {} as ContextLimits;
  for (const key of Object.keys(CONTEXT_LIMITS) as (keyof ContextLimits)[]) {
    const { def, min, max } = CONTEXT_LIMITS[key];
    const value = partial[key] ?? def;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new VltairError("config_invalid", `must be an integer in [${min}, ${max}]`, {
        details: { field: key, value, min, max },
      });
    }
    limits[key] = value;
  }
  return limits;
}

/** The filter limits a search applies. */
export function filterLimitsOf(limits: ContextLimits): FilterLimits {
  return {
    ...FILTER_LIMITS_DEFAULT,
    depthMax: limits.filterDepthMax,
    conditionsMax: limits.filterConditionsMax,
  };
}
