/**
 * Disk full on a real file system: the child runs under a file-size limit (`prlimit --fsize`),
 * so its writes fail with EFBIG exactly as they would with ENOSPC. The failing append must get
 * `unavailable`, the log must stay valid, and appends must work again once the limit is lifted
 * (`prlimit --pid`), without a restart.
 */
import { expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createStorage, openDataDir, verifyWal } from "../../../src/storage/mod.ts";
import { type KvState, kvMachine } from "../../fixtures/storage/kv-machine.ts";

const CHILD = path.join(import.meta.dir, "../../fixtures/storage/fsize-child.ts");
const hasPrlimit = spawnSync("prlimit", ["--version"]).status === 0;
/** Soft limit (the hard one stays unlimited, so lifting it needs no privilege): small enough to
 * hit within a few hundred appends, and below the 4 MiB zero-fill step. */
const FILE_BYTES_MAX = 300_000;

test.if(hasPrlimit)(
  "a write past the file-size limit fails with unavailable; the log stays valid and recovers when space is back",
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vltair-fsize-"));
    const child = spawn(
      "prlimit",
      [`--fsize=${FILE_BYTES_MAX}:unlimited`, process.execPath, CHILD, dir],
      {
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    const full = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const line = /^full .*$/m.exec(out);
        if (line) resolve(line[0]);
      });
      child.on("exit", (code) => reject(new Error(`child exited ${code}: ${err}`)));
    });
    const [, ackedText, code, reason] = full.split(" ");
    const acked = Number(ackedText);
    expect(code).toBe("unavailable");
    expect(reason).toBe("io_failed");
    expect(acked).toBeGreaterThan(100);
    // While the writer is still stuck at the limit, the log on disk is exactly the acknowledged records.
    expect(verifyWal(dir)).toMatchObject({
      ok: true,
      tail: null,
      recordCount: acked,
      lastIndex: acked,
    });
    const lift = spawnSync("prlimit", ["--pid", String(child.pid), "--fsize=unlimited"], {
      encoding: "utf8",
    });
    expect(lift.stderr).toBe("");
    expect(lift.status).toBe(0);
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.stdin.write("go\n");
    expect(await exited).toBe(0);
    expect(out).toContain(`ok ${acked + 3}`);
    const storage = createStorage(openDataDir(dir), { fsync: "always" });
    storage.register(kvMachine());
    await storage.recover();
    expect((storage.stateOf("kv") as KvState).applied).toBe(acked + 3);
    expect((storage.stateOf("kv") as KvState).entries.after2).toBe("x");
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  },
);
