/**
 * The POSIX-shell rlimit stage: on Linux in the ready stage (one exec fewer than `prlimit`), and
 * where there is no `prlimit` (macOS, other Unixes):
 * `ulimit` lines in the ready script, so they apply to the command and everything it starts.
 */
import { READY_SCRIPT } from "./ready-script.ts";

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

/** Rlimits the Linux ready stage sets itself, each for soft and hard unless split; null = leave. */
export interface ShellRlimits {
  addressSpaceBytes: number | null;
  cpuSoftSeconds: number | null;
  cpuHardSeconds: number | null;
  fileSizeBytes: number | null;
  openFiles: number | null;
}

/**
 * `ulimit` commands that work alike in dash, bash (as `sh`, POSIX mode) and busybox ash:
 * `-v` in KiB (rounded down), `-f` in 512-byte blocks (rounded up), `-t` soft then hard.
 * Each sets the soft and the hard limit unless `-S`/`-H` is given, like `prlimit --x=N`.
 */
export function ulimitCommands(r: ShellRlimits): string[] {
  const out: string[] = [];
  if (r.addressSpaceBytes !== null) out.push(`ulimit -v ${Math.floor(r.addressSpaceBytes / 1024)}`);
  if (r.cpuSoftSeconds !== null) out.push(`ulimit -S -t ${r.cpuSoftSeconds}`);
  if (r.cpuHardSeconds !== null) out.push(`ulimit -H -t ${r.cpuHardSeconds}`);
  if (r.fileSizeBytes !== null) out.push(`ulimit -f ${Math.ceil(r.fileSizeBytes / 512)}`);
  if (r.openFiles !== null) out.push(`ulimit -n ${r.openFiles}`);
  return out;
}

/**
 * A prefix for a ready script: the `ulimit` commands, and exit 125 (before the ready marker,
 * so the run is a set-up failure) when any of them fails. Empty when there is nothing to set.
 *
 * @example
 * ```ts
 * ulimitPrefix({ addressSpaceBytes: null, cpuSoftSeconds: null, cpuHardSeconds: null,
 *   fileSizeBytes: 1024, openFiles: 256 });
 * // "ulimit -f 2 && ulimit -n 256 || exit 125; "
 * ```
 */
export function ulimitPrefix(r: ShellRlimits): string {
  const commands = ulimitCommands(r);
  return commands.length === 0 ? "" : `${commands.join(" && ")} || exit 125; `;
}

/**
 * Capability probe of the shell's `ulimit`: sets test values with {@link ulimitPrefix} and
 * exits 0 only when `/proc/self/limits` shows exactly them (units and syntax verified).
 */
export const ULIMIT_PROBE_SCRIPT = `${ulimitPrefix({
  addressSpaceBytes: 1024 * 1024 * 1024,
  cpuSoftSeconds: 7,
  cpuHardSeconds: 8,
  fileSizeBytes: 2048,
  openFiles: 200,
})}[ "$(grep -cE -e '^Max cpu time +7 +8 ' -e '^Max file size +2048 +2048 ' -e '^Max open files +200 +200 ' -e '^Max address space +1073741824 +1073741824 ' /proc/self/limits)" = 4 ]`;
