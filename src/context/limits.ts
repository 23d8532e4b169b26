/**
 * Limits of the context engine, each with its default, bounds and reason. Configurable through
 * the `context_limits` option (snake_case keys); exceeding one is a 4xx with a stable code.
 */
import { LimitTable } from "../core/mod.ts";
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

/** Default, bounds, unit and reason of each context limit (docs/configuration.md is checked against it). */
export const CONTEXT_LIMITS = new LimitTable<keyof ContextLimits>("context_limits", {
  batchItemsMax: {
    default: 1000,
    min: 1,
    max: 100_000,
    unit: "items",
    reason:
      "items of one upsert batch (413 `payload_too_large` above); a batch is one WAL record, itself bounded by `storage_limits.record_bytes_max`",
  },
  textCharsMax: {
    default: 256 * 1024,
    min: 1,
    max: 600_000,
    unit: "characters",
    reason:
      "characters of one document (400 `validation_failed`, `details.index`); bounds tokens per document",
  },
  metadataBytesMax: {
    default: 64 * 1024,
    min: 2,
    max: 1024 * 1024,
    unit: "bytes",
    reason: "bytes of one document's metadata as JSON",
  },
  vectorDimensionsMax: {
    default: 4096,
    min: 1,
    max: 16_384,
    unit: "dimensions",
    reason: "dimensions of a client-sent vector",
  },
  kMax: { default: 1000, min: 1, max: 10_000, unit: "results", reason: "`k` of a search" },
  queryCharsMax: {
    default: 16_384,
    min: 1,
    max: 16_384,
    unit: "characters",
    reason: "characters of a search query",
  },
  filterDepthMax: {
    default: FILTER_LIMITS_DEFAULT.depthMax,
    min: 1,
    max: FILTER_LIMITS_CEILING.depthMax,
    unit: "levels",
    reason: "nesting of a filter's and/or/not (400 `filters_invalid`)",
  },
  filterConditionsMax: {
    default: FILTER_LIMITS_DEFAULT.conditionsMax,
    min: 1,
    max: FILTER_LIMITS_CEILING.conditionsMax,
    unit: "conditions",
    reason: "conditions in one filter",
  },
  timeTravelViewsMax: {
    default: 2,
    min: 0,
    max: 64,
    unit: "views",
    reason: "past states kept materialised for `at` searches; each holds its own indexes (memory)",
  },
});

/** Limits with defaults applied; throws `config_invalid` naming the key for an out-of-range value. */
export function resolveContextLimits(partial: Partial<ContextLimits> = {}): ContextLimits {
  return CONTEXT_LIMITS.resolve(partial);
}

/** The filter limits a search applies. */
export function filterLimitsOf(limits: ContextLimits): FilterLimits {
  return {
    ...FILTER_LIMITS_DEFAULT,
    depthMax: limits.filterDepthMax,
    conditionsMax: limits.filterConditionsMax,
  };
}
