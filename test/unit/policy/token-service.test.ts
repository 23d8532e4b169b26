import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Call } from "../../../src/core/mod.ts";
import {
  ADMIN_PRINCIPAL,
  createAuthenticator,
  createTokensMachine,
  hasRole,
  isOperator,
  type Role,
  TokenService,
} from "../../../src/policy/mod.ts";
import { createStorage, openDataDir } from "../../../src/storage/mod.ts";
import { callAs } from "../../support/call.ts";
import { tempDir } from "../../support/tmp.ts";

const OPERATOR: Call = { principal: ADMIN_PRINCIPAL, traceId: "0".repeat(32) };
const NOW = Date.UTC(2026, 0, 1);

async function open(dir = tempDir(), tokensMax = 100) {
  const storage = createStorage(openDataDir(dir, {}), { fsync: "none" });
  const machine = storage.register(createTokensMachine());
  await storage.recover();
  const tokens = new TokenService({ storage, machine, nowMs: () => NOW, tokensMax });
  return { dir, storage, tokens };
}

function walBytes(dir: string): string {
  const wal = path.join(dir, "wal");
  return fs
    .readdirSync(wal)
    .map((n) => fs.readFileSync(path.join(wal, n), "latin1"))
    .join("");
}

describe("TokenService", () => {
  test("create resolves to its principal; the log holds the hash, never the token", async () => {
    const { dir, storage, tokens } = await open();
    const { token, info } = await tokens.create(OPERATOR, {
      subject: "ci",
      tenant: "acme",
      roles: ["reader"],
    });
    expect(token.startsWith("vlt_")).toBe(true);
    expect(tokens.resolve(token)).toEqual({
      subject: "ci",
      tenant: "acme",
      roles: ["reader"],
      tokenId: info.id,
    });
    await storage.close();
    expect(walBytes(dir)).not.toContain(token);
    expect(walBytes(dir)).toContain(info.id);
  });

  test("tokens survive a restart, from the log and from a snapshot; revocations too", async () => {
    const first = await open();
    const a = await first.tokens.create(OPERATOR, { subject: "a", tenant: "t", roles: ["writer"] });
    const b = await first.tokens.create(OPERATOR, { subject: "b", tenant: "t", roles: ["reader"] });
    await first.tokens.revoke(OPERATOR, b.info.id);
    await first.storage.close();
    const second = await open(first.dir);
    expect(second.tokens.resolve(a.token)?.subject).toBe("a");
    expect(second.tokens.resolve(b.token)).toBeNull();
    await second.storage.takeSnapshot();
    await second.storage.close();
    const third = await open(first.dir);
    expect(third.tokens.resolve(a.token)?.roles).toEqual(["writer"]);
    expect(third.tokens.resolve(b.token)).toBeNull();
    expect(third.tokens.list(OPERATOR, "t").map((t) => t.revoked_at)).toEqual([
      null,
      "2026-01-01T00:00:00.000Z",
    ]);
    await third.storage.close();
  });

  test("an admin manages only their tenant; the operator any; others' tokens are not_found", async () => {
    const { storage, tokens } = await open();
    const acmeAdmin = callAs("acme", "admin");
    const other = await tokens.create(OPERATOR, {
      subject: "o",
      tenant: "other",
      roles: ["reader"],
    });
    await expect(
      tokens.create(acmeAdmin, { subject: "x", tenant: "other", roles: ["reader"] }),
    ).rejects.toMatchObject({
      code: "forbidden",
    });
    await expect(tokens.revoke(acmeAdmin, other.info.id)).rejects.toMatchObject({
      code: "not_found",
    });
    expect(() => tokens.list(acmeAdmin, "other")).toThrow(
      expect.objectContaining({ code: "forbidden" }),
    );
    expect(tokens.list(acmeAdmin)).toEqual([]);
    const own = await tokens.create(acmeAdmin, { subject: "mine", roles: ["writer"] });
    expect(own.info.tenant).toBe("acme");
    expect(tokens.list(OPERATOR, "*").map((t) => t.tenant)).toEqual(["other", "acme"]);
    await expect(
      tokens.create(callAs("acme", "writer"), { subject: "w", roles: ["reader"] }),
    ).rejects.toMatchObject({
      code: "forbidden",
    });
    await tokens.revoke(OPERATOR, other.info.id);
    expect(tokens.resolve(other.token)).toBeNull();
    // An admin of tenant default is no operator any more: its tenant is its only one.
    const defaultAdmin = callAs("default", "admin");
    expect(() => tokens.list(defaultAdmin, "acme")).toThrow(
      expect.objectContaining({ code: "forbidden" }),
    );
    await expect(tokens.revoke(OPERATOR, other.info.id)).rejects.toMatchObject({
      code: "not_found",
    });
    await storage.close();
  });

  test("tokensMax bounds active tokens with rate_limited; a revocation frees a place", async () => {
    const { storage, tokens } = await open(tempDir(), 2);
    const a = await tokens.create(OPERATOR, { subject: "a", tenant: "t", roles: ["reader"] });
    await tokens.create(OPERATOR, { subject: "b", tenant: "t", roles: ["reader"] });
    await expect(
      tokens.create(OPERATOR, { subject: "c", tenant: "t", roles: ["reader"] }),
    ).rejects.toMatchObject({
      code: "rate_limited",
      details: { tokens_max: 2 },
    });
    await tokens.revoke(OPERATOR, a.info.id);
    await tokens.create(OPERATOR, { subject: "c", tenant: "t", roles: ["reader"] });
    const lastIndex = storage.lastIndex;
    // Concurrent creates are serialised: exactly one more fits after another revocation.
    await tokens.revoke(OPERATOR, tokens.list(OPERATOR, "t")[1]?.id as string);
    const results = await Promise.allSettled(
      [1, 2, 3].map((n) =>
        tokens.create(OPERATOR, { subject: `p${n}`, tenant: "t", roles: ["reader"] }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(storage.lastIndex).toBe(lastIndex + 2);
    await storage.close();
  });
});

describe("importLegacy (tokens.jsonl of an older vltair)", () => {
  const line = (record: object) => `${JSON.stringify(record)}\n`;
  const CREATE = {
    op: "create",
    id: "tok_0123456789abcdef",
    sha256: "a".repeat(64),
    subject: "old",
    tenant: "acme",
    roles: ["writer"],
    created_at: "2025-01-01T00:00:00.000Z",
  };

  test("imports once, keeps revocations, drops a torn last line, renames the file", async () => {
    const { dir, storage, tokens } = await open();
    const file = path.join(dir, "tokens.jsonl");
    const second = { ...CREATE, id: "tok_1111111111111111", sha256: "b".repeat(64) };
    fs.writeFileSync(
      file,
      line(CREATE) +
        line(second) +
        line({ op: "revoke", id: second.id, revoked_at: "2025-02-01T00:00:00.000Z" }) +
        '{"op":"cre',
    );
    expect(await tokens.importLegacy(OPERATOR, file)).toEqual({ imported: 3 });
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(`${file}.imported`)).toBe(true);
    expect(tokens.list(OPERATOR, "acme").map((t) => [t.id, t.revoked_at])).toEqual([
      [CREATE.id, null],
      [second.id, "2025-02-01T00:00:00.000Z"],
    ]);
    // The same file again (a crash before the rename) imports nothing new.
    fs.copyFileSync(`${file}.imported`, file);
    expect(await tokens.importLegacy(OPERATOR, file)).toEqual({ imported: 0 });
    expect(await tokens.importLegacy(OPERATOR, file)).toBeNull();
    await storage.close();
  });

  test("a damaged line refuses the import and commits nothing (a lost revocation must not reopen a token)", async () => {
    const { dir, storage, tokens } = await open();
    const file = path.join(dir, "tokens.jsonl");
    fs.writeFileSync(file, `${line(CREATE)}not json\n`);
    await expect(tokens.importLegacy(OPERATOR, file)).rejects.toMatchObject({
      code: "unavailable",
      details: { reason: "tokens_file_invalid", line: 2 },
    });
    expect(storage.lastIndex).toBe(0);
    expect(fs.existsSync(file)).toBe(true);
    await storage.close();
  });
});

describe("createAuthenticator", () => {
  test("admin token, stored tokens, and everything else", async () => {
    const { storage, tokens } = await open();
    const { token } = await tokens.create(OPERATOR, {
      subject: "a",
      tenant: "t",
      roles: ["reader"],
    });
    const auth = createAuthenticator({
      adminToken: "admin-token-0123456789",
      store: tokens,
      open: false,
    });
    expect(auth.authenticate("admin-token-0123456789")?.roles).toEqual(["operator"]);
    expect(auth.authenticate("admin-token-012345678")).toBeNull();
    expect(auth.authenticate(token)?.tenant).toBe("t");
    expect(auth.authenticate("")).toBeNull();
    expect(auth.authenticate("x".repeat(513))).toBeNull();
    await storage.close();
  });
});

describe("the operator role", () => {
  test("only the operator creates operator tokens, of any tenant; they act as the operator", async () => {
    const { storage, tokens } = await open();
    for (const [role, needed] of [
      ["admin", "operator"],
      ["writer", "admin"],
    ] as const) {
      await expect(
        tokens.create(callAs("default", role), { subject: "x", roles: ["operator"] }),
      ).rejects.toMatchObject({ code: "forbidden", details: { role_needed: needed } });
    }
    const created = await tokens.create(OPERATOR, {
      subject: "ops",
      tenant: "acme",
      roles: ["operator"],
    });
    const principal = tokens.resolve(created.token);
    expect(principal?.roles).toEqual(["operator"]);
    const asOperator: Call = {
      principal: principal as NonNullable<typeof principal>,
      traceId: "1".repeat(32),
    };
    expect(tokens.list(asOperator, "*").map((t) => t.id)).toEqual([created.info.id]);
    const second = await tokens.create(asOperator, {
      subject: "o2",
      tenant: "b",
      roles: ["operator"],
    });
    expect(second.info.tenant).toBe("b");
    await storage.close();
  });
});

describe("hasRole", () => {
  const p = (roles: Role[]) => ({ subject: "s", tenant: "t", roles, tokenId: null });
  test("roles nest reader < writer < admin < operator", () => {
    expect(hasRole(p(["admin"]), "reader")).toBe(true);
    expect(hasRole(p(["writer"]), "reader")).toBe(true);
    expect(hasRole(p(["writer"]), "admin")).toBe(false);
    expect(hasRole(p(["reader"]), "writer")).toBe(false);
    expect(hasRole(p(["operator"]), "admin")).toBe(true);
    expect(hasRole(p(["admin"]), "operator")).toBe(false);
  });

  test("isOperator is the operator role, not an admin of tenant default", () => {
    expect(isOperator(p(["operator"]))).toBe(true);
    expect(isOperator({ ...p(["admin"]), tenant: "default" })).toBe(false);
  });
});
