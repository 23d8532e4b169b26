/**
 * The last words of a process that failed where nothing caught it: one JSON log line on stderr
 * (`process.crashed`, the error redacted like every log line), then exit 1 — instead of the
 * runtime's own report, which prints the error and its stack as they are.
 */
import process from "node:process";
import { redact } from "./redact.ts";

/**
 * Installs the handlers of uncaught exceptions and unhandled rejections.
 *
 * @example
 * ```ts
 * installCrashReporter({ write: (line) => process.stderr.write(line), nowMs: Date.now });
 * ```
 */
export function installCrashReporter(options: {
  write: (line: string) => void;
  nowMs: () => number;
}): void {
  const report = (kind: string) => (error: unknown) => {
    const line = {
      ts: new Date(options.nowMs()).toISOString(),
      level: "error",
      event: "process.crashed",
      kind,
      error: redact(error instanceof Error ? error : { value: String(error) }),
    };
    options.write(`${JSON.stringify(line)}\n`);
    process.exit(1);
  };
  process.on("uncaughtException", report("uncaught_exception"));
  process.on("unhandledRejection", report("unhandled_rejection"));
}
