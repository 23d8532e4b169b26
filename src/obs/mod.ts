/**
 * Observability: JSON logs, metrics, redaction.
 *
 * @example
 * ```ts
 * import { createLogger, MetricsRegistry } from "../obs/mod.ts";
 * ```
 */

export { installCrashReporter } from "./crash.ts";
export type { LineBatch } from "./line-batch.ts";
export { batchLines } from "./line-batch.ts";
export type { LogFields, Logger, LoggerOptions, LogLevel } from "./log.ts";
export { createLogger, LOG_LEVELS, silentLogger } from "./log.ts";
export type { Counter, Histogram, Labels } from "./metrics.ts";
export { LATENCY_BUCKETS_SECONDS, MetricsRegistry } from "./metrics.ts";
export { addSecret, REDACTED, redact, redactStrings, redactText } from "./redact.ts";
