/**
 * Small process helpers for capability probes: find an executable on PATH and run a short
 * probe command with a deadline.
 */
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";

/** Deadline of one probe command; a probe that hangs counts as failed. */
export const PROBE_TIMEOUT_MS = 5000;
/** Most output kept from a probe, for its failure reason. */
const PROBE_OUTPUT_BYTES_MAX = 4096;

/** The absolute path of `name` (a bare name is searched on `pathValue`), or null. */
export async function findExecutable(name: string, pathValue: string): Promise<string | null> {
  const candidates = isAbsolute(name)
    ? [name]
    : pathValue
        .split(delimiter)
        .filter((d) => d !== "")
        .map((d) => join(d, name));
  for (const candidate of candidates) {
    const ok = await access(candidate, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (ok) return candidate;
  }
  return null;
}

/** Runs `file args…`; resolves to null on exit 0, else to a one-line failure reason. */
export function probeCommand(file: string, args: readonly string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      {
        timeout: PROBE_TIMEOUT_MS,
        maxBuffer: PROBE_OUTPUT_BYTES_MAX,
        env: { PATH: "/usr/bin:/bin" },
      },
      (error, _stdout, stderr) => {
        if (error === null) return resolve(null);
        const text = String(stderr).trim().split("\n")[0] ?? "";
        if (text !== "") return resolve(text.slice(0, 200));
        const status = error.code ?? error.signal;
        // No exit status at all: the runtime refused to spawn (Deno without --allow-run).
        resolve(
          status === undefined || status === null ? error.message.slice(0, 200) : `exit ${status}`,
        );
      },
    );
  });
}
