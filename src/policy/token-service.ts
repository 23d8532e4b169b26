/**
 * API tokens over the `tokens` machine: create (the plaintext is shown once, only its SHA-256
 * is committed), list, revoke, resolve — every write one record through `storage.commit`.
 * An admin manages their own tenant's tokens; the operator (the global `operator` role, which
 * the bootstrap token holds) those of any tenant, and alone may hand out the `operator` role.
 * Tokens of other tenants are invisible (404).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import * as v from "valibot";
import { assert, authorize, type Call, type Principal, VltairError } from "../core/mod.ts";
import type { MachineHandle, Storage } from "../storage/mod.ts";
import { isOperator, type Role } from "./roles.ts";
import {
  type TokenEntry,
  type TokenInfo,
  type TokenRecord,
  TokenRecordSchema,
  type TokensState,
} from "./tokens-machine.ts";

/** Prefix of every issued token, so secret scanners and the log redactor recognise it. */
export const TOKEN_PREFIX = "vlt_";

/** SHA-256 of a presented token, as stored. */
export function hashToken(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/** Options of {@link TokenService}. */
export interface TokenServiceOptions {
  storage: Storage;
  machine: MachineHandle<TokensState, TokenRecord>;
  /** Clock (ms since epoch) of `created_at` and `revoked_at`. */
  nowMs: () => number;
  /** Most active tokens; creating one more is `rate_limited`. */
  tokensMax: number;
}

function publicInfo(entry: TokenEntry): TokenInfo {
  const { id, subject, tenant, roles, created_at, revoked_at } = entry;
  return { id, subject, tenant, roles: [...roles], created_at, revoked_at };
}

/** The token service of one data directory. */
export class TokenService {
  readonly #options: TokenServiceOptions;
  /** Token writes one at a time, so the active-token count is checked against what commits. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: TokenServiceOptions) {
    this.#options = options;
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work, work);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Resolves a presented token to its principal, or null when it is unknown or revoked. */
  resolve(token: string): Principal | null {
    const hash = hashToken(token);
    const entry = this.#options.machine.state().byHash.get(hash.toString("hex"));
    // The map is keyed by a digest, so lookup timing reveals nothing usable about the token;
    // the final comparison is constant-time regardless.
    if (entry === undefined || !timingSafeEqual(Buffer.from(entry.sha256, "hex"), hash))
      return null;
    if (entry.revoked_at !== null) return null;
    return { subject: entry.subject, tenant: entry.tenant, roles: entry.roles, tokenId: entry.id };
  }

  /**
   * Creates a token of `tenant` (default: the caller's; another tenant needs the operator);
   * the plaintext is returned once and never stored.
   */
  async create(
    call: Call,
    input: { subject: string; roles: Role[]; tenant?: string },
  ): Promise<{ token: string; info: TokenInfo; walIndex: number }> {
    authorize(call, "admin", "tokens.create");
    const tenant = input.tenant ?? call.principal.tenant;
    this.#checkTenantAccess(call, tenant);
    if (input.roles.includes("operator") && !isOperator(call.principal)) {
      throw new VltairError(
        "forbidden",
        "only the operator creates tokens with the operator role",
        {
          details: { role_needed: "operator", action: "tokens.create" },
        },
      );
    }
    return this.#serial(async () => {
      const state = this.#options.machine.state();
      if (state.activeCount() >= this.#options.tokensMax) {
        throw new VltairError("rate_limited", `at most ${this.#options.tokensMax} active tokens`, {
          details: { tokens_max: this.#options.tokensMax },
        });
      }
      const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
      const record: TokenRecord = {
        op: "create",
        id: `tok_${randomBytes(8).toString("hex")}`,
        sha256: hashToken(token).toString("hex"),
        subject: input.subject,
        tenant,
        roles: [...new Set(input.roles)],
        created_at: new Date(this.#options.nowMs()).toISOString(),
      };
      const { lastIndex } = await this.#options.storage.commit(
        [this.#options.machine.record(record)],
        call,
      );
      const entry = this.#options.machine.state().byId.get(record.id);
      assert(entry !== undefined, "a created token is in the state after its commit");
      return { token, info: publicInfo(entry), walIndex: lastIndex };
    });
  }

  /**
   * Tokens (active and revoked), oldest first: the caller's tenant, another one (operator), or
   * every tenant (`"*"`, operator).
   */
  list(call: Call, tenant?: string): TokenInfo[] {
    authorize(call, "admin", "tokens.list");
    const wanted = tenant ?? call.principal.tenant;
    this.#checkTenantAccess(call, wanted);
    const out: TokenInfo[] = [];
    for (const entry of this.#options.machine.state().byId.values()) {
      if (wanted === "*" || entry.tenant === wanted) out.push(publicInfo(entry));
    }
    return out;
  }

  /** Revokes an active token the caller may manage; 404 `not_found` otherwise. */
  async revoke(call: Call, id: string): Promise<{ walIndex: number }> {
    authorize(call, "admin", "tokens.revoke");
    return this.#serial(async () => {
      const entry = this.#options.machine.state().byId.get(id);
      const visible =
        entry !== undefined &&
        (isOperator(call.principal) || entry.tenant === call.principal.tenant);
      if (!visible || entry.revoked_at !== null) {
        throw new VltairError("not_found", "no such active token in this tenant", {
          details: { id },
        });
      }
      const record: TokenRecord = {
        op: "revoke",
        id,
        revoked_at: new Date(this.#options.nowMs()).toISOString(),
      };
      const { lastIndex } = await this.#options.storage.commit(
        [this.#options.machine.record(record)],
        call,
      );
      return { walIndex: lastIndex };
    });
  }

  /**
   * Imports a `tokens.jsonl` of an older vltair once: its records not yet in the log are
   * committed as one batch, then the file is renamed `…imported`. Idempotent (ids decide), so a
   * crash between the commit and the rename only imports nothing the next time. A damaged line
   * before the last refuses the import (a lost revocation must not reopen a token).
   */
  async importLegacy(call: Call, path: string): Promise<{ imported: number } | null> {
    if (!fs.existsSync(path)) return null;
    const records = readLegacyRecords(path);
    const state = this.#options.machine.state();
    const created = new Set<string>();
    const fresh = records.filter((record) => {
      if (record.op === "create") {
        if (state.byId.has(record.id) || created.has(record.id)) return false;
        created.add(record.id);
        return true;
      }
      const entry = state.byId.get(record.id);
      return created.has(record.id) || (entry !== undefined && entry.revoked_at === null);
    });
    if (fresh.length > 0) {
      await this.#options.storage.commit(
        fresh.map((r) => this.#options.machine.record(r)),
        call,
      );
    }
    fs.renameSync(path, `${path}.imported`);
    return { imported: fresh.length };
  }

  #checkTenantAccess(call: Call, tenant: string): void {
    if (tenant === call.principal.tenant || isOperator(call.principal)) return;
    throw new VltairError("forbidden", "only the operator manages other tenants' tokens", {
      details: { role_needed: "operator", action: "tokens.manage" },
    });
  }
}

/** The records of a legacy tokens file; a torn last line (no newline) was never acknowledged. */
function readLegacyRecords(path: string): TokenRecord[] {
  const text = fs.readFileSync(path, "utf8");
  const end = text.lastIndexOf("\n");
  const lines = end < 0 ? [] : text.slice(0, end).split("\n");
  return lines
    .filter((line) => line.trim() !== "")
    .map((line, n) => {
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        json = undefined;
      }
      const parsed = v.safeParse(TokenRecordSchema, json);
      if (!parsed.success) {
        throw new VltairError(
          "unavailable",
          `${path}: line ${n + 1} is not a token record; fix or remove it`,
          {
            details: { reason: "tokens_file_invalid", path, line: n + 1 },
          },
        );
      }
      return parsed.output;
    });
}
