import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { VltairError } from "../../../src/core/mod.ts";
import { hasPosixFileModes } from "../../../src/platform/mod.ts";
import { ensureAdminToken } from "../../../src/policy/mod.ts";
import { tempDir } from "../../support/tmp.ts";

describe("ensureAdminToken", () => {
  test("the environment token wins and no file is written", () => {
    const dir = tempDir();
    const admin = ensureAdminToken({ envToken: "env-token-0123456789", dataDir: dir });
    expect(admin).toMatchObject({ token: "env-token-0123456789", source: "env", path: null });
    expect(fs.existsSync(path.join(dir, "admin.token"))).toBe(false);
  });

  test.if(hasPosixFileModes())("without it, a random token is created once with mode 0600", () => {
    const dir = tempDir();
    const first = ensureAdminToken({ envToken: null, dataDir: dir });
    expect(first.created).toBe(true);
    expect(first.token).toMatch(/^vlt_[A-Za-z0-9_-]{43}$/);
    const file = path.join(dir, "admin.token");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const second = ensureAdminToken({ envToken: null, dataDir: dir });
    expect(second.created).toBe(false);
    expect(second.token).toBe(first.token);
  });

  test.if(hasPosixFileModes())("a file readable by others is tightened to 0600", () => {
    const dir = tempDir();
    const file = path.join(dir, "admin.token");
    fs.writeFileSync(file, "hand-made-token-0123456789\n", { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const admin = ensureAdminToken({ envToken: null, dataDir: dir });
    expect(admin.modeFixed).toBe(true);
    expect(admin.token).toBe("hand-made-token-0123456789");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  test("a file with a too-short token is refused", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "admin.token"), "short\n", { mode: 0o600 });
    expect(() => ensureAdminToken({ envToken: null, dataDir: dir })).toThrow(VltairError);
  });
});
