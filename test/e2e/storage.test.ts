/** The data directory under a real server: lock, crash restart, ready, snapshot and wal tools. */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { hasPosixSignals } from "../../src/platform/mod.ts";
import { BUN, jsonLines, MAIN, readyUrl, run, start } from "../support/process.ts";
import { tempDir } from "../support/tmp.ts";

const TOKEN = "storage-admin-token-0123456789";
const env = { VLTAIR_ADMIN_TOKEN: TOKEN };

const ready = (child: ReturnType<typeof start>): Promise<string> => readyUrl(child);

describe.if(hasPosixSignals())("data directory under a server", () => {
  test("a second server on the same directory exits 1 naming the lock; /v1/ready is 200 after recovery", async () => {
    const cwd = tempDir();
    const first = start(BUN, [MAIN, "serve", "--port", "0"], { cwd, env });
    const url = await ready(first);
    expect((await fetch(`${url}/v1/ready`)).status).toBe(200);
    const second = await run(BUN, [MAIN, "serve", "--port", "0"], { cwd, env });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("locked");
    first.proc.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(fs.existsSync(path.join(cwd, ".vltair", "server.json"))).toBe(false);
  });

  test("after SIGKILL the next server takes the dead lock over and recovers", async () => {
    const cwd = tempDir();
    const first = start(BUN, [MAIN, "serve", "--port", "0"], { cwd, env });
    await ready(first);
    first.proc.kill("SIGKILL");
    await first.exited;
    const second = start(BUN, [MAIN, "serve", "--port", "0"], { cwd, env });
    const url = await ready(second);
    expect((await fetch(`${url}/v1/ready`)).status).toBe(200);
    expect(jsonLines(second.stdout()).some((l) => l.event === "storage.recovered")).toBe(true);
    second.proc.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });

  test("vltair snapshot goes through the running server, or opens the directory when none runs", async () => {
    const cwd = tempDir();
    const server = start(BUN, [MAIN, "serve", "--port", "0"], { cwd, env });
    const url = await ready(server);
    const through = await run(BUN, [MAIN, "snapshot", "--json"], { cwd, env });
    expect(through.code).toBe(0);
    expect(JSON.parse(through.stdout)).toMatchObject({ via: "server", url, wal_index: 0 });
    const verify = await run(BUN, [MAIN, "wal", "verify", "--json"], { cwd, env });
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, record_count: 0 });
    const repair = await run(BUN, [MAIN, "wal", "repair"], { cwd, env });
    expect(repair.code).toBe(1);
    expect(repair.stderr).toContain("locked");
    server.proc.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    const direct = await run(BUN, [MAIN, "snapshot", "--json"], { cwd, env });
    expect(direct.code).toBe(0);
    expect(JSON.parse(direct.stdout)).toMatchObject({ via: "data_dir", wal_index: 0 });
    const dump = await run(BUN, [MAIN, "wal", "dump", "--json"], { cwd, env });
    expect(JSON.parse(dump.stdout)).toEqual({ records: [], last_index: 0 });
    const clean = await run(BUN, [MAIN, "wal", "repair", "--dry-run", "--json"], { cwd, env });
    expect(JSON.parse(clean.stdout)).toMatchObject({ dry_run: true, clean: true });
  });
});

describe("storage options and wal usage errors exit 2", () => {
  const cases: [string[], string][] = [
    [["serve", "--wal-fsync", "sometimes", "--port", "0"], "wal_fsync"],
    [["serve", "--wal-fsync", "interval:0", "--port", "0"], "wal_fsync"],
    [["serve", "--storage-limits", '{"bogus":1}', "--port", "0"], "storage_limits.bogus"],
    [
      ["serve", "--storage-limits", '{"snapshots_kept":0}', "--port", "0"],
      "storage_limits.snapshots_kept",
    ],
    [["serve", "--storage-limits", "[1]", "--port", "0"], "storage_limits"],
    [["wal", "dump", "--limit", "0"], "--limit must be between 1 and"],
    [["wal", "dump", "--from", "x"], "--from must be a non-negative integer"],
    [["wal", "verify", "extra"], "unexpected argument 'extra'"],
  ];
  for (const [argv, message] of cases) {
    test(argv.join(" "), async () => {
      const cwd = tempDir();
      const result = await run(BUN, [MAIN, ...argv], { cwd, env });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      if (argv[0] === "serve") expect(fs.readdirSync(cwd)).toEqual([]);
    });
  }

  test("wal tools on a missing data directory fail with exit 1", async () => {
    const result = await run(BUN, [MAIN, "wal", "verify", "--data-dir", "nope"], {
      cwd: tempDir(),
      env,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("does not exist");
  });
});
