import { describe, expect, test } from "bun:test";
import { chmod, mkdtemp, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatOwner, selfOwner } from "../../../src/sandbox/owner.ts";
import {
  createRunTempDir,
  removeRunTempDir,
  runTempDirName,
} from "../../../src/sandbox/temp-dir.ts";

describe("run temp dir (AR-17)", () => {
  test("is named vltair-<traceId>-<owner>-<n> with a bounded length", () => {
    expect(runTempDirName("0af7651916cd43dd8448eb211c80319c", "2hwcg.7xo8.1ulajuk", 7)).toBe(
      "vltair-0af7651916cd43dd8448eb211c80319c-2hwcg.7xo8.1ulajuk-7",
    );
    const longest = runTempDirName("f".repeat(32), "zzzzzzz.zzzzzzzzzz.zzzzzzzzzz", 2 ** 53 - 1);
    expect(longest.length).toBeLessThan(100);
    expect(() => runTempDirName("../x", "1", 1)).toThrow();
    expect(() => runTempDirName("ab", "../x", 1)).toThrow();
  });
  test("is created with home/ and tmp/ and removed even when read-only inside", async () => {
    const root = await mkdtemp(join(tmpdir(), "vltair-td-test-"));
    try {
      const a = await createRunTempDir(root, "abc");
      const b = await createRunTempDir(root, "abc");
      expect(a.root).not.toBe(b.root);
      expect(a.root.startsWith(join(root, "vltair-abc-"))).toBe(true);
      expect(a.root.endsWith(`-${formatOwner(await selfOwner())}-${a.root.split("-").pop()}`)).toBe(
        true,
      );
      expect((await stat(a.home)).isDirectory()).toBe(true);
      await writeFile(join(a.tmp, "f"), "x");
      await chmod(a.tmp, 0o500);
      expect(await removeRunTempDir(a)).toBe(true);
      expect(await removeRunTempDir(b)).toBe(true);
      await expect(stat(a.root)).rejects.toThrow();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("run temp dir removal", () => {
  test("an untouched dir goes by the rmdir fast path; extra files, a symlink home, a missing tmp by the walk", async () => {
    const root = await mkdtemp(join(tmpdir(), "vltair-td-test-"));
    try {
      const plain = await createRunTempDir(root, "abc");
      expect(await removeRunTempDir(plain)).toBe(true);
      const extra = await createRunTempDir(root, "abc");
      await writeFile(join(extra.root, "left.txt"), "x");
      await writeFile(join(extra.home, "h.txt"), "x");
      expect(await removeRunTempDir(extra)).toBe(true);
      const swapped = await createRunTempDir(root, "abc");
      await rm(swapped.home, { recursive: true });
      await symlink(root, swapped.home);
      await rm(swapped.tmp, { recursive: true });
      expect(await removeRunTempDir(swapped)).toBe(true);
      // The symlink was removed, not followed: the temp root itself is intact.
      expect((await stat(root)).isDirectory()).toBe(true);
      expect(await readdir(root)).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
