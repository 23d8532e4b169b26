/** Shared set-up of the sandbox integration tests: a workspace, a temp root, survivor checks. */
import { mkdir, mkdtemp, readdir, readFile, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SandboxOptions } from "../../../src/sandbox/mod.ts";

/** A test area: `ws` (workspace) and `temp` (temp root) under one removable directory. */
export interface Area {
  root: string;
  ws: string;
  temp: string;
  options(extra?: Partial<SandboxOptions>): SandboxOptions;
  dispose(): Promise<void>;
}

/** Creates a fresh area; options default to a short kill grace so tests stay fast. */
export async function makeArea(): Promise<Area> {
  const root = await realpath(await mkdtemp(join(tmpdir(), "vltair-sbx-it-")));
  const ws = join(root, "ws");
  const temp = join(root, "temp");
  await mkdir(ws);
  await mkdir(temp);
  return {
    root,
    ws,
    temp,
    options: (extra = {}) => ({
      workspaceRoot: ws,
      tempRoot: temp,
      limits: { killGraceMs: 300, reapTimeoutMs: 3000 },
      ...extra,
    }),
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}

/** Pids of live processes whose command line contains `marker` (zombies excluded). */
export async function processesWith(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.includes(marker)) continue;
    const stat = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state !== "Z" && state !== "") found.push(Number(name));
  }
  return found;
}

/** Kills leftovers of a failed test so one failure does not poison the next. */
export async function killAll(pids: readonly number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** A unique marker for command lines. */
export function marker(name: string): string {
  return `vltair-${name}-${process.pid}-${Math.floor(performance.now() * 1000)}`;
}
