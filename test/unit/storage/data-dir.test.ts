import { describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FORMAT_VERSION, openDataDir } from "../../../src/storage/mod.ts";
import { tempDir } from "./storage-fixture.ts";

const HOLDER = path.join(import.meta.dir, "../../fixtures/storage/hold-lock.ts");

function errorOf(fn: () => unknown): {
  code?: string;
  details?: Record<string, unknown>;
  message?: string;
} {
  try {
    fn();
  } catch (error) {
    return error as { code: string; details: Record<string, unknown>; message: string };
  }
  throw new Error("expected a throw");
}

describe("openDataDir", () => {
  test("creates the layout and the format file", () => {
    const dir = path.join(tempDir(), "nested", ".vltair");
    const dataDir = openDataDir(dir);
    expect(fs.existsSync(path.join(dir, "wal"))).toBe(true);
    expect(fs.existsSync(path.join(dir, "snapshots"))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "FORMAT"), "utf8"))).toEqual({
      format: "vltair-data-dir",
      version: FORMAT_VERSION,
    });
    expect(JSON.parse(fs.readFileSync(path.join(dir, "LOCK"), "utf8")).pid).toBe(process.pid);
    dataDir.close();
    expect(fs.existsSync(path.join(dir, "LOCK"))).toBe(false);
  });

  test("a second opener in the same process fails with unavailable/locked; after close it succeeds", () => {
    const dir = tempDir();
    const first = openDataDir(dir);
    const error = errorOf(() => openDataDir(dir));
    expect(error.code).toBe("unavailable");
    expect(error.details?.reason).toBe("locked");
    expect(error.details?.pid).toBe(process.pid);
    first.close();
    openDataDir(dir).close();
  });

  test("a lock held by a live child process is refused; once it is killed the lock is taken over", async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [HOLDER, dir], { stdio: ["pipe", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("locked") && resolve());
      child.on("exit", () => reject(new Error("holder exited early")));
    });
    const error = errorOf(() => openDataDir(dir));
    expect(error.details?.reason).toBe("locked");
    expect(error.details?.pid).toBe(child.pid);
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    const logs: string[] = [];
    const dataDir = openDataDir(dir, { log: (_level, event) => logs.push(event) });
    expect(logs).toContain("datadir.lock_taken_over");
    dataDir.close();
  });

  test("a lock naming a dead pid on this host is taken over; one from another host is refused", () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
    const lock = { pid: dead, hostname: os.hostname(), nonce: "x", acquiredAtMs: 0 };
    fs.writeFileSync(path.join(dir, "LOCK"), JSON.stringify(lock));
    openDataDir(dir).close();
    fs.writeFileSync(path.join(dir, "LOCK"), JSON.stringify({ ...lock, hostname: "elsewhere" }));
    expect(errorOf(() => openDataDir(dir)).details?.reason).toBe("locked");
  });

  test("an unreadable lock file is treated as stale", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "LOCK"), "{half");
    openDataDir(dir).close();
  });

  test("an older format is raised to this code's on open (it may append what older code cannot read)", () => {
    const dir = tempDir();
    const formatPath = path.join(dir, "FORMAT");
    fs.writeFileSync(formatPath, JSON.stringify({ format: "vltair-data-dir", version: 1 }));
    const opened = openDataDir(dir);
    opened.close();
    expect(opened.formatVersion).toBe(FORMAT_VERSION);
    expect(JSON.parse(fs.readFileSync(formatPath, "utf8"))).toEqual({
      format: "vltair-data-dir",
      version: FORMAT_VERSION,
    });
    expect(FORMAT_VERSION).toBeGreaterThan(1);
  });

  test("refuses a newer format and an unknown format file, releasing the lock", () => {
    const dir = tempDir();
    fs.writeFileSync(
      path.join(dir, "FORMAT"),
      JSON.stringify({ format: "vltair-data-dir", version: FORMAT_VERSION + 1 }),
    );
    const newer = errorOf(() => openDataDir(dir));
    expect(newer.code).toBe("unavailable");
    expect(newer.details?.reason).toBe("format_too_new");
    expect(newer.message).toContain("newer");
    expect(fs.existsSync(path.join(dir, "LOCK"))).toBe(false);
    fs.writeFileSync(path.join(dir, "FORMAT"), "garbage");
    expect(errorOf(() => openDataDir(dir)).details?.reason).toBe("format_unknown");
    fs.writeFileSync(
      path.join(dir, "FORMAT"),
      JSON.stringify({ format: "vltair-data-dir", version: FORMAT_VERSION }),
    );
    openDataDir(dir).close();
  });
});
