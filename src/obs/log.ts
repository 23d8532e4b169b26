/**
 * JSON-lines logger: one object per line with `ts` (UTC ISO-8601), `level`, `event`, then fields.
 * Fields pass through `redact`, so credentials never reach a log line.
 */
import { redact } from "./redact.ts";

/** Severity levels, least to most severe. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Structured fields of one log line. */
export type LogFields = Record<string, unknown>;

/** A logger: `log.info("server.listening", { url })`. */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger whose lines also carry `fields` (e.g. a request id). */
  child(fields: LogFields): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lines below this level are dropped. */
  level: LogLevel;
  /** Receives each finished line, without the trailing newline. */
  write: (line: string) => void;
  /** Injected clock (ms since epoch) so tests are deterministic. */
  nowMs?: () => number;
  /** Fields added to every line. */
  base?: LogFields;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Creates a JSON-lines logger.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "info", write: (line) => console.log(line) });
 * log.info("server.listening", { url: "http://127.0.0.1:7700" });
 * ```
 */
export function createLogger(options: LoggerOptions): Logger {
  const nowMs = options.nowMs ?? Date.now;
  const base = options.base ?? {};
  const threshold = RANK[options.level];
  const emit = (level: LogLevel, event: string, fields: LogFields | undefined): void => {
    if (RANK[level] < threshold) return;
    const safe = redact({ ...base, ...fields }) as LogFields;
    const line = { ts: new Date(nowMs()).toISOString(), level, event, ...safe };
    options.write(JSON.stringify(line, jsonSafe));
  };
  return {
    debug: (event, fields) => emit("debug", event, fields),
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
    child: (fields) => createLogger({ ...options, base: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (for library calls where the caller wants silence). */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
