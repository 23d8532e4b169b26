import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { VltairError } from "../../../src/core/mod.ts";
import { hasPosixFileModes } from "../../../src/platform/mod.ts";
import { createAuthenticator, hasRole, TokenStore } from "../../../src/policy/mod.ts";
import { tempDir } from "../../support/tmp.ts";

function store(file = path.join(tempDir(), "tokens.jsonl"), tokensMax = 100) {
  return new TokenStore(file, { nowMs: () => Date.UTC(2026, 0, 1), tokensMax });
}

describe("TokenStore", () => {
  test("create resolves to its principal and stores only the hash", () => {
    const file = path.join(tempDir(), "tokens.jsonl");
    const s = store(file);
    const { token, info } = s.create({ subject: "ci", tenant: "acme", roles: ["reader"] });
    expect(token.startsWith("vlt_")).toBe(true);
    expect(s.resolve(token)).toEqual({
      subject: "ci",
      tenant: "acme",
      roles: ["reader"],
      tokenId: info.id,
    });
    const onDisk = fs.readFileSync(file, "utf8");
    expect(onDisk).not.toContain(token);
    expect(onDisk).toContain(info.id);
    if (hasPosixFileModes()) expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  test("unknown and revoked tokens resolve to null", () => {
    const s = store();
    const { token, info } = s.create({ subject: "a", tenant: "t", roles: ["writer"] });
    expect(s.resolve(`${token}x`)).toBeNull();
    expect(s.revoke(info.id, "other")).toBe(false);
    expect(s.resolve(token)).not.toBeNull();
    expect(s.revoke(info.id, "t")).toBe(true);
    expect(s.resolve(token)).toBeNull();
    expect(s.revoke(info.id, "t")).toBe(false);
    expect(s.list()[0]?.revoked_at).toBe("2026-01-01T00:00:00.000Z");
  });

  test("a second store on the same file sees creates and revocations made by the first", () => {
    const file = path.join(tempDir(), "tokens.jsonl");
    const server = store(file);
    const cli = store(file);
    const { token, info } = cli.create({ subject: "a", tenant: "t", roles: ["reader"] });
    expect(server.resolve(token)?.tokenId).toBe(info.id);
    cli.revoke(info.id, null);
    expect(server.resolve(token)).toBeNull();
  });

  test("a torn last line (crash mid-append) is ignored until completed", () => {
    const file = path.join(tempDir(), "tokens.jsonl");
    const s = store(file);
    const { token } = s.create({ subject: "a", tenant: "t", roles: ["reader"] });
    fs.appendFileSync(file, '{"op":"revoke","id":"tok_');
    const reopened = store(file);
    expect(reopened.resolve(token)).not.toBeNull();
    expect(reopened.corruption).toBeNull();
    const next = reopened.create({ subject: "b", tenant: "t", roles: ["reader"] });
    expect(store(file).resolve(next.token)?.subject).toBe("b");
    expect(store(file).corruption).toBeNull();
  });

  test("a damaged complete line refuses every stored token (fail closed)", () => {
    const file = path.join(tempDir(), "tokens.jsonl");
    const s = store(file);
    const { token } = s.create({ subject: "a", tenant: "t", roles: ["reader"] });
    fs.appendFileSync(file, "garbage\n");
    const reopened = store(file);
    expect(reopened.corruption).not.toBeNull();
    expect(reopened.resolve(token)).toBeNull();
    expect(() => reopened.create({ subject: "b", tenant: "t", roles: ["reader"] })).toThrow(
      VltairError,
    );
  });

  test("tokensMax bounds active tokens with rate_limited", () => {
    const s = store(undefined, 2);
    s.create({ subject: "a", tenant: "t", roles: ["reader"] });
    const second = s.create({ subject: "b", tenant: "t", roles: ["reader"] });
    try {
      s.create({ subject: "c", tenant: "t", roles: ["reader"] });
      throw new Error("expected rate_limited");
    } catch (error) {
      expect((error as VltairError).code).toBe("rate_limited");
    }
    s.revoke(second.info.id, null);
    expect(() => s.create({ subject: "c", tenant: "t", roles: ["reader"] })).not.toThrow();
  });
});

describe("createAuthenticator", () => {
  test("admin token, stored tokens, and everything else", () => {
    const s = store();
    const { token } = s.create({ subject: "a", tenant: "t", roles: ["reader"] });
    const auth = createAuthenticator({
      adminToken: "admin-token-0123456789",
      store: s,
      open: false,
    });
    expect(auth.authenticate("admin-token-0123456789")?.roles).toEqual(["admin"]);
    expect(auth.authenticate("admin-token-012345678")).toBeNull();
    expect(auth.authenticate(token)?.tenant).toBe("t");
    expect(auth.authenticate("")).toBeNull();
    expect(auth.authenticate("x".repeat(513))).toBeNull();
  });
});

describe("hasRole", () => {
  const p = (roles: ("reader" | "writer" | "admin")[]) => ({
    subject: "s",
    tenant: "t",
    roles,
    tokenId: null,
  });
  test("roles nest reader < writer < admin", () => {
    expect(hasRole(p(["admin"]), "reader")).toBe(true);
    expect(hasRole(p(["writer"]), "reader")).toBe(true);
    expect(hasRole(p(["writer"]), "admin")).toBe(false);
    expect(hasRole(p(["reader"]), "writer")).toBe(false);
  });
});
