/**
 * The filesystem view of a run without bubblewrap, as the init's mount ops (init-script.ts):
 * the same view bubblewrap builds (linux-plan.ts `bwrapArgs`), step for step: `/` read-only,
 * a minimal /dev, a private /tmp, the hidden paths masked and the writable roots bound in depth
 * order (a workspace inside the hidden data directory stays usable, a secret inside the
 * workspace stays hidden), then the working directory.
 */
import { type HiddenPath, orderMounts } from "../hidden-paths.ts";
import type { MountOp } from "./init-script.ts";

/** Name of the scratch mount point inside the run's temp dir (empty on the host). */
export const SCRATCH_ROOT_NAME = "root";

/** Inputs of {@link mountOps}: real paths. */
export interface MountPlanInput {
  runTempDir: string;
  cwd: string;
  /** Writable roots: the workspace, the run temp dir, the run's `cgroup.procs` files. */
  writable: readonly string[];
  hidden: readonly HiddenPath[];
}

/**
 * The init's mount ops for one run.
 *
 * @example
 * ```ts
 * mountOps({ runTempDir: "/tmp/vltair-ab-1", cwd: "/srv/ws", writable: ["/srv/ws", "/tmp/vltair-ab-1"], hidden: [] });
 * // [{op:"root",path:"/tmp/vltair-ab-1/root"}, {op:"dev"}, {op:"tmp"}, {op:"bind",path:"/srv/ws"}, …, {op:"cwd",path:"/srv/ws"}]
 * ```
 */
export function mountOps(input: MountPlanInput): MountOp[] {
  const ops: MountOp[] = [
    { op: "root", path: `${input.runTempDir}/${SCRATCH_ROOT_NAME}` },
    { op: "dev" },
    { op: "tmp" },
  ];
  for (const step of orderMounts(input.hidden, input.writable)) {
    if (step.kind === "bind") ops.push({ op: "bind", path: step.path });
    else if (step.hidden.kind === "dir") ops.push({ op: "maskDir", path: step.hidden.real });
    else if (step.hidden.kind === "file") ops.push({ op: "maskFile", path: step.hidden.real });
  }
  ops.push({ op: "cwd", path: input.cwd });
  return ops;
}
