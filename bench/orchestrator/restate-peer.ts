/**
 * Restate as the orchestrator bench's peer: installs the pinned packages of restate/ (npm ci
 * --ignore-scripts: its package has an install script; never a product dependency), then runs
 * restate-child.ts in a network namespace with loopback only (`unshare -rn`). Answers the
 * figures, or why there are none (no npm, no unshare, not Linux x64, an install or run failure).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import type { PeerFigures } from "./load.ts";

const PEER = path.join(import.meta.dirname, "restate");
const BINARY = path.join(
  PEER,
  "node_modules/@restatedev/restate-server-linux-x64/bin/restate-server",
);

function install(): string | null {
  if (process.platform !== "linux" || process.arch !== "x64")
    return `restate's npm binary is used here on linux-x64 only (this is ${process.platform}-${process.arch})`;
  if (fs.existsSync(BINARY)) return null;
  const npm = spawnSync("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], {
    cwd: PEER,
    encoding: "utf8",
    timeout: 300_000,
  });
  if (npm.status !== 0 || !fs.existsSync(BINARY))
    return `npm ci of bench/orchestrator/restate failed: ${(npm.stderr ?? "").trim().split("\n").at(-1)}`;
  return null;
}

/** Runs the peer; `{figures}` or `{reason}`. */
export async function runRestatePeer(options: {
  sequential: number;
  concurrentRuns: number;
  clients: number;
}): Promise<{ figures: PeerFigures } | { reason: string }> {
  const missing = install();
  if (missing !== null) return { reason: missing };
  const child = path.join(import.meta.dirname, "restate-child.ts");
  const args = [options.sequential, options.concurrentRuns, options.clients].join(" ");
  const script = `ip link set lo up && exec "${process.execPath}" "${child}" ${args}`;
  const run = spawnSync("unshare", ["-rn", "sh", "-c", script], {
    encoding: "utf8",
    timeout: 900_000,
  });
  const line = (run.stdout ?? "").trim().split("\n").at(-1) ?? "";
  if (run.status !== 0 || !line.startsWith("{"))
    return {
      reason: `the peer did not run: ${(run.stderr ?? run.error?.message ?? "").trim().slice(-300)}`,
    };
  return { figures: JSON.parse(line) as PeerFigures };
}
