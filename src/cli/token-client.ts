/**
 * `vltair token …` reaches the `tokens` machine the way every command reaches a data directory
 * (data-dir-access.ts): through the server that holds it (the admin token's `/v1/tokens`), or
 * in-process as the directory's operator. Either way a change is one record in the WAL.
 */
import { importLegacyTokens } from "../app/mod.ts";
import type { Config } from "../config/mod.ts";
import { type Call, localCall } from "../core/mod.ts";
import { createLogger } from "../obs/mod.ts";
import { ADMIN_PRINCIPAL, type Role, type TokenInfo, TokenService } from "../policy/mod.ts";
import { openDataDirAccess, withCode } from "./data-dir-access.ts";
import { type ServerTarget, serverRequest } from "./server-request.ts";

/** What the token commands need. */
export interface TokenClient {
  create(input: {
    subject: string;
    tenant: string;
    roles: Role[];
  }): Promise<{ token: string; info: TokenInfo }>;
  /** Tokens of `tenant`, or of every tenant (`"*"`). */
  list(tenant: string): Promise<TokenInfo[]>;
  /** False when there is no active token `id`. */
  revoke(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Whoever can open the data directory is its operator (as the bootstrap admin token is). */
const OPERATOR_CALL: Call = localCall(ADMIN_PRINCIPAL, "00000000000000000000000000000000");

function remote(server: ServerTarget): TokenClient {
  return {
    async create(input) {
      const created = (await serverRequest(server, "POST", "/v1/tokens", input)) as TokenInfo & {
        token: string;
      };
      const { token, ...info } = created;
      return { token, info: { ...info, revoked_at: null } };
    },
    async list(tenant) {
      const page = (await serverRequest(
        server,
        "GET",
        `/v1/tokens?tenant=${encodeURIComponent(tenant)}`,
      )) as {
        tokens: TokenInfo[];
      };
      return page.tokens;
    },
    async revoke(id) {
      try {
        await serverRequest(server, "DELETE", `/v1/tokens/${encodeURIComponent(id)}`);
        return true;
      } catch (error) {
        if ((error as { code?: string }).code === "not_found") return false;
        throw error;
      }
    },
    close: async () => {},
  };
}

/**
 * Opens the token client of `config`'s data directory.
 *
 * @example
 * ```ts
 * const tokens = await openTokenClient(config, io.env, { nowMs: Date.now });
 * try { await tokens.list("*"); } finally { await tokens.close(); }
 * ```
 */
export async function openTokenClient(
  config: Config,
  env: Record<string, string | undefined>,
  options: { nowMs: () => number; onWait?: (line: string) => void },
): Promise<TokenClient> {
  const access = await openDataDirAccess(config, env, { create: true, nowMs: options.nowMs });
  if (access.kind === "server") {
    return remote(
      options.onWait === undefined ? access.server : { ...access.server, onWait: options.onWait },
    );
  }
  const { storage, machines } = access;
  const openedIndex = storage.lastIndex;
  const service = new TokenService({
    storage,
    machine: machines.tokens,
    nowMs: options.nowMs,
    tokensMax: config.tokens_max,
  });
  try {
    await importLegacyTokens(
      service,
      config.data_dir,
      createLogger({ level: "error", write: () => {}, nowMs: options.nowMs }),
    );
  } catch (error) {
    await storage.close().catch(() => {});
    throw withCode(error);
  }
  return {
    create: async (input) => service.create(OPERATOR_CALL, input),
    list: async (tenant) => service.list(OPERATOR_CALL, tenant),
    async revoke(id) {
      try {
        await service.revoke(OPERATOR_CALL, id);
        return true;
      } catch (error) {
        if ((error as { code?: string }).code === "not_found") return false;
        throw error;
      }
    },
    async close() {
      // A snapshot when this process wrote, so the next start need not replay it.
      try {
        if (storage.lastIndex > openedIndex) await storage.takeSnapshot();
      } finally {
        await storage.close();
      }
    },
  };
}
