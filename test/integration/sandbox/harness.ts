/**
 * Shared set-up of the sandbox integration tests: a workspace, a temp root, survivor checks, and
 * the two modes every adversarial test runs in (with bubblewrap when it is installed, and with
 * bubblewrap switched off as `VLTAIR_SANDBOX_DISABLE=bubblewrap` does).
 */
import { mkdir, mkdtemp, readdir, readFile, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  detectCapabilities,
  type SandboxMechanism,
  type SandboxOptions,
} from "../../../src/sandbox/mod.ts";

/** One way of running the sandbox in tests. */
export interface Mode {
  name: string;
  /** Mechanisms switched off in this mode. */
  disable: readonly SandboxMechanism[];
  /** False when this host cannot run the mode (the reason was printed). */
  available: boolean;
}

const hostCaps = await detectCapabilities();

/**
 * The modes of the adversarial tests: `bubblewrap` (skipped, with a printed reason, where it is
 * not installed) and `no-bubblewrap`.
 */
export function sandboxModes(file: string): Mode[] {
  const bwrap = hostCaps.bubblewrap.available;
  if (!bwrap && process.platform === "linux")
    console.log(`skip: ${file} in the bubblewrap mode: ${hostCaps.bubblewrap.reason}`);
  return [
    { name: "bubblewrap", disable: [], available: bwrap },
    { name: "no-bubblewrap", disable: ["bubblewrap"], available: process.platform === "linux" },
  ];
}

/** Capabilities of a mode (cached per option set by the sandbox). */
export function modeCaps(mode: Mode) {
  return detectCapabilities({ disable: mode.disable });
}

/** A test area: `ws` (workspace) and `temp` (temp root) under one removable directory. */
export interface Area {
  root: string;
  ws: string;
  temp: string;
  /** Options of a run in this area; `disable` adds to the mode's. */
  options(extra?: Partial<SandboxOptions>): SandboxOptions;
  dispose(): Promise<void>;
}

/**
 * Creates a fresh area; options default to a short kill grace so tests stay fast, and to the
 * mode's switched-off mechanisms.
 */
export async function makeArea(mode?: Mode): Promise<Area> {
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
      disable: [...(mode?.disable ?? []), ...(extra.disable ?? [])],
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
