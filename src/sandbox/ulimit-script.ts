/**
 * The POSIX-shell rlimit stage used where there is no `prlimit` (macOS, other Unixes):
 * `ulimit` lines in the ready script, so they apply to the command and everything it starts.
 */
import { READY_SCRIPT } from "./shim.ts";

/** Which rlimits to set through `ulimit`; null leaves one alone. */
export interface UlimitValues {
  cpuSeconds: number | null;
  fileSizeBytes: number | null;
  openFiles: number | null;
}

/**
 * The ready script with `ulimit` lines before it. `-f` counts 512-byte blocks in POSIX shells.
 *
 * @example
 * ```ts
 * ulimitReadyScript({ cpuSeconds: 2, fileSizeBytes: 1024, openFiles: 256 });
 * // 'ulimit -t 2 && ulimit -f 2 && ulimit -n 256 && printf R >&3 && …'
 * ```
 */
export function ulimitReadyScript(values: UlimitValues): string {
  const parts: string[] = [];
  if (values.cpuSeconds !== null) parts.push(`ulimit -t ${values.cpuSeconds}`);
  if (values.fileSizeBytes !== null)
    parts.push(`ulimit -f ${Math.ceil(values.fileSizeBytes / 512)}`);
  if (values.openFiles !== null) parts.push(`ulimit -n ${values.openFiles}`);
  parts.push(READY_SCRIPT);
  return parts.join(" && ");
}
