/**
 * Takes the cost of a run's cgroup attach off its critical path. Moving a process into a cgroup
 * (a write to `cgroup.procs`) write-locks the kernel's global `cgroup_threadgroup_rwsem`; when no
 * such write happened in the last RCU grace period the lock first waits for one, 10–15 ms on a
 * loaded 2-core VM, and the run's ready stage waited for it after bubblewrap's set-up. A no-op
 * write, the server into the cgroup it is already in, issued right before the spawn, starts that
 * wait while bubblewrap sets up; the ready stage's own attach then finds the lock warm. Nothing
 * moves: the write names the cgroup `/proc/self/cgroup` lists for the server at that moment.
 * Purely a speed-up: when it fails (no permission, different kernel) the attach is as before.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type AttachPrime, parseSelfCgroup } from "./cgroup.ts";

/** Reads the server's `/proc/self/cgroup` (injectable for tests). */
export type SelfCgroupReader = () => string;

const readSelfCgroup: SelfCgroupReader = () => {
  try {
    return readFileSync("/proc/self/cgroup", "utf8");
  } catch {
    return "";
  }
};

/**
 * Writes `0` (the writing process, i.e. the server) to the `cgroup.procs` of the cgroup the
 * server is in, when `/proc/self/cgroup` still says it is there; otherwise does nothing. Never
 * throws and is not awaited by runs; the returned promise is for tests.
 *
 * @example
 * ```ts
 * primeAttach({ key: "memory", ownPath: "/svc", ownDir: "/sys/fs/cgroup/memory/svc" });
 * ```
 */
export function primeAttach(
  prime: AttachPrime,
  readSelf: SelfCgroupReader = readSelfCgroup,
): Promise<boolean> {
  // The server was moved since the probe: writing would move it back. Skip.
  if (parseSelfCgroup(readSelf()).get(prime.key) !== prime.ownPath) return Promise.resolve(false);
  return writeFile(join(prime.ownDir, "cgroup.procs"), "0").then(
    () => true,
    () => false,
  );
}
