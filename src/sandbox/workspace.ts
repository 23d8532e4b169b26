/**
 * Resolution of a request's `cwd` inside the workspace. Symlinks are resolved before the
 * containment check, so neither `..` nor a link pointing out of the workspace can escape it.
 */
import { realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { VltairError } from "../core/mod.ts";

/** True when `child` equals `root` or lies below it (both already absolute and resolved). */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  if (rel === "") return true;
  return !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
}

function refuse(message: string, cwd: string, issue: string): VltairError {
  return new VltairError("validation_failed", message, { details: { field: "cwd", issue, cwd } });
}

/**
 * Returns the real, absolute directory of `cwd` (relative to the workspace; absolute only when
 * inside it). Throws `validation_failed` with `details.field = "cwd"` otherwise.
 *
 * @example
 * ```ts
 * const dir = await resolveCwd("/srv/ws", "pkg/tests"); // "/srv/ws/pkg/tests"
 * ```
 */
export async function resolveCwd(
  workspaceRootReal: string,
  cwd: string | undefined,
): Promise<string> {
  if (cwd === undefined || cwd === "" || cwd === ".") return workspaceRootReal;
  const lexical = resolve(workspaceRootReal, cwd);
  if (!isInside(workspaceRootReal, lexical)) {
    throw refuse("cwd escapes the workspace", cwd, "outside_workspace");
  }
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (cause) {
    throw new VltairError("validation_failed", "cwd does not exist", {
      details: { field: "cwd", issue: "not_found", cwd },
      cause,
    });
  }
  if (!isInside(workspaceRootReal, real)) {
    throw refuse("cwd escapes the workspace through a symlink", cwd, "symlink_escape");
  }
  const info = await stat(real);
  if (!info.isDirectory()) throw refuse("cwd is not a directory", cwd, "not_a_directory");
  return real;
}
