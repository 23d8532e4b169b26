/** Text rendering of a sandbox result for the CLI (`vltair exec`), AR-13. */
import type { SandboxResult } from "./schema.ts";

/**
 * The first line of `vltair exec` text output.
 *
 * @example
 * ```ts
 * formatSandboxHeader(result); // "[sandbox] traceId=4bf9… duration_ms=12 status=OK rc=0"
 * ```
 */
export function formatSandboxHeader(result: SandboxResult): string {
  const reason = result.reason === null ? "" : ` reason=${result.reason}`;
  return `[sandbox] traceId=${result.trace_id} duration_ms=${result.duration_ms} status=${result.status} rc=${result.rc}${reason}`;
}

/**
 * The whole text output: the header line, then stdout, then (when not empty) stderr under a
 * `[stderr]` line. Each part ends with a newline.
 *
 * @example
 * ```ts
 * process.stdout.write(formatSandboxText(result));
 * // [sandbox] traceId=4bf9… duration_ms=812 status=FAILED rc=1
 * // …stdout…
 * // [stderr]
 * // …stderr…
 * ```
 */
export function formatSandboxText(result: SandboxResult): string {
  const parts = [`${formatSandboxHeader(result)}\n`];
  if (result.stdout !== "")
    parts.push(result.stdout.endsWith("\n") ? result.stdout : `${result.stdout}\n`);
  if (result.stderr !== "") {
    parts.push("[stderr]\n", result.stderr.endsWith("\n") ? result.stderr : `${result.stderr}\n`);
  }
  return parts.join("");
}
