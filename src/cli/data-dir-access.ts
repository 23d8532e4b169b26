/**
 * How a CLI command reaches a data directory: the server at `VLTAIR_URL` when set; else, when
 * no process holds the directory's lock, the directory itself, in-process (its machines
 * registered and recovered, its policies checked); else the server that holds it (URL from `DATA_DIR/server.json`).
 * A server gets the token from VLTAIR_TOKEN, else VLTAIR_ADMIN_TOKEN, else DATA_DIR/admin.token.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type MachineHandles,
  readServerInfo,
  registerMachines,
  storageSettings,
} from "../app/mod.ts";
import type { Config } from "../config/mod.ts";
import { VltairError } from "../core/mod.ts";
import { silentLogger } from "../obs/mod.ts";
import { ADMIN_TOKEN_FILE, type PolicyService } from "../policy/mod.ts";
import { createStorage, openDataDir, type Storage } from "../storage/mod.ts";
import { VERSION } from "../version.ts";
import { UsageError } from "./args.ts";
import type { ServerTarget } from "./server-request.ts";

/** The data directory in-process, or the server that has it. */
export type DataDirAccess =
  | { kind: "local"; storage: Storage; machines: MachineHandles; policy: PolicyService }
  | { kind: "server"; server: ServerTarget };

/** The same error with its code at the front of the message, so the CLI prints it. */
export function withCode(error: unknown): unknown {
  if (!(error instanceof VltairError) || error.message.startsWith(`${error.code}:`)) return error;
  return new VltairError(error.code, `${error.code}: ${error.message}`, {
    details: error.details,
    cause: error,
  });
}

/** The bearer token for the server: VLTAIR_TOKEN, VLTAIR_ADMIN_TOKEN, DATA_DIR/admin.token. */
export function serverToken(
  config: Config,
  env: Record<string, string | undefined>,
  url: string,
): string {
  const token = env.VLTAIR_TOKEN;
  if (token !== undefined && token !== "") return token;
  if (config.admin_token !== null) return config.admin_token;
  const file = path.join(config.data_dir, ADMIN_TOKEN_FILE);
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    throw new VltairError(
      "unauthorized",
      `unauthorized: no token for the server at ${url}: set VLTAIR_TOKEN (or VLTAIR_ADMIN_TOKEN) or make ${file} readable`,
    );
  }
}

/** `VLTAIR_URL` without a trailing slash; a usage error naming it when it is not an http(s) URL. */
function serverUrl(raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new UsageError("VLTAIR_URL", "VLTAIR_URL must be an http:// or https:// URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new UsageError("VLTAIR_URL", "VLTAIR_URL must be an http:// or https:// URL");
  return raw.replace(/\/+$/, "");
}

/**
 * Reaches the data directory of `config`. `create` makes a missing directory (ingest); without
 * it a missing directory is `not_found`. The local storage is recovered; the caller closes it.
 *
 * @example
 * ```ts
 * const access = await openDataDirAccess(config, io.env, { create: false, nowMs: Date.now });
 * ```
 */
export async function openDataDirAccess(
  config: Config,
  env: Record<string, string | undefined>,
  options: { create: boolean; nowMs: () => number },
): Promise<DataDirAccess> {
  const url = env.VLTAIR_URL;
  if (url !== undefined && url !== "") {
    const base = serverUrl(url);
    return { kind: "server", server: { url: base, token: serverToken(config, env, base) } };
  }
  // Checked first: a bad option exits 2 before anything is opened.
  const settings = storageSettings(config);
  if (options.create) fs.mkdirSync(config.data_dir, { recursive: true, mode: 0o700 });
  else if (!fs.existsSync(config.data_dir)) {
    throw new VltairError(
      "not_found",
      `not_found: data directory ${config.data_dir} does not exist (run 'vltair ingest' first)`,
      { details: { field: "data_dir" } },
    );
  }
  let storage: Storage;
  try {
    storage = createStorage(openDataDir(config.data_dir, { nowMs: options.nowMs }), {
      fsync: settings.fsync,
      limits: settings.limits,
      nowMs: options.nowMs,
      binaryVersion: VERSION,
    });
  } catch (error) {
    if (!(error instanceof VltairError) || error.details.reason !== "locked") throw withCode(error);
    const server = readServerInfo(config.data_dir);
    if (server === null) {
      throw new VltairError(
        "unavailable",
        `unavailable: ${config.data_dir} is locked by another process and no server.json names its server`,
      );
    }
    return {
      kind: "server",
      server: { url: server.url, token: serverToken(config, env, server.url) },
    };
  }
  try {
    // The directory's policies hold in-process too (the pre-commit hook over every write; the
    // caller passes `policy` to the services that read): a local command is the operator, and
    // the global set binds the operator as it binds everyone.
    const machines = registerMachines(storage, {
      vectorThread: config.vector_thread,
      nowMs: options.nowMs,
      policy: { failOpen: config.policy_fail_open, log: silentLogger },
    });
    const policy = machines.policyService;
    await policy.load();
    await storage.recover();
    return { kind: "local", storage, machines, policy };
  } catch (error) {
    await storage.close().catch(() => {});
    throw withCode(error);
  }
}
