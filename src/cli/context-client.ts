import { contextSettings, createContextService, embedderOfIdentity } from "../app/mod.ts";
import type { Config } from "../config/mod.ts";
import {
  type ContextService,
  type DeleteBatchRequest,
  type DeleteBatchResponse,
  type DocumentView,
  identityOf,
  type ListResponse,
  type Scope,
  type SearchRequest,
  type SearchResponse,
  sameIdentity,
  type UpsertRequest,
  type UpsertResponse,
} from "../context/mod.ts";
import { type Call, localCall } from "../core/mod.ts";
import type { Storage } from "../storage/mod.ts";
import { openDataDirAccess, withCode } from "./data-dir-access.ts";
import { type ServerTarget, serverRequest } from "./server-request.ts";

/** Tenant of the in-process path (the admin token's tenant on a server). */
export const LOCAL_TENANT = "default";

/**
 * The call of the in-process path: whoever can open the data directory is its operator, so
 * the CLI acts as the admin of tenant `default` (as the bootstrap admin token does on a server).
 */
const LOCAL_CALL: Call = localCall(
  { subject: "cli", tenant: LOCAL_TENANT, roles: ["admin"], tokenId: null },
  "00000000000000000000000000000000",
);

/** What the CLI needs of the context engine. */
export interface ContextClient {
  /** `server` (over HTTP) or `data_dir` (in-process). */
  readonly via: "server" | "data_dir";
  /** The server's URL, or null in-process. */
  readonly url: string | null;
  /** Most items the engine accepts in one upsert, when known (in-process); null otherwise. */
  readonly batchItemsMax: number | null;
  upsert(request: UpsertRequest): Promise<UpsertResponse>;
  search(request: SearchRequest): Promise<SearchResponse>;
  /** A page of documents in (scope, id) order (`GET /v1/context/docs`). */
  list(query: ListQuery): Promise<ListPage>;
  /**
   * Deletes a batch atomically (`POST /v1/context/docs:delete`, one WAL record); ids naming
   * nothing come back in `missing`. More items than the engine's batch limit is 413 `payload_too_large`.
   */
  deleteBatch(request: DeleteBatchRequest): Promise<DeleteBatchResponse>;
  /** One document's current version (404 `not_found` when there is none). */
  get(scope: Scope, id: string): Promise<DocumentView>;
  /** Deletes one document (404 `not_found` when there is none). */
  delete(scope: Scope, id: string): Promise<{ deleted: boolean; wal_index: number }>;
  close(): Promise<void>;
}

/** A list query: one scope or every scope (null), an id prefix (may be ""), a page size in 1..1000. */
export interface ListQuery {
  scope: Scope | null;
  prefix: string;
  limit: number;
  cursor: string | null;
}
/** A page of `list`: `documents`, `next_cursor` (null at the end) and `wal_index`. */
export type ListPage = ListResponse;
export type { DeleteBatchRequest, DeleteBatchResponse };

async function coded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw withCode(error);
  }
}

function scopeParam(scope: Scope): string {
  return scope.kind === "global" ? "global" : `${scope.kind}:${scope.id}`;
}

class RemoteClient implements ContextClient {
  readonly via = "server" as const;
  readonly batchItemsMax = null;
  readonly url: string;
  readonly #server: ServerTarget;

  constructor(server: ServerTarget) {
    this.url = server.url;
    this.#server = server;
  }

  #call(method: string, route: string, body?: unknown): Promise<unknown> {
    return serverRequest(this.#server, method, route, body);
  }

  async upsert(request: UpsertRequest): Promise<UpsertResponse> {
    return (await this.#call("POST", "/v1/context/docs:upsert", request)) as UpsertResponse;
  }

  async search(request: SearchRequest): Promise<SearchResponse> {
    return (await this.#call("POST", "/v1/context/search", request)) as SearchResponse;
  }

  async list(query: ListQuery): Promise<ListPage> {
    const params: [string, string][] = [["limit", String(query.limit)]];
    if (query.scope !== null) params.push(["scope", scopeParam(query.scope)]);
    if (query.prefix !== "") params.push(["prefix", query.prefix]);
    if (query.cursor !== null) params.push(["cursor", query.cursor]);
    const search = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
    return (await this.#call("GET", `/v1/context/docs?${search}`)) as ListPage;
  }

  async deleteBatch(request: DeleteBatchRequest): Promise<DeleteBatchResponse> {
    return (await this.#call("POST", "/v1/context/docs:delete", request)) as DeleteBatchResponse;
  }

  async get(scope: Scope, id: string): Promise<DocumentView> {
    const route = `/v1/context/docs/${encodeURIComponent(id)}?scope=${encodeURIComponent(scopeParam(scope))}`;
    return (await this.#call("GET", route)) as DocumentView;
  }

  async delete(scope: Scope, id: string): Promise<{ deleted: boolean; wal_index: number }> {
    const route = `/v1/context/docs/${encodeURIComponent(id)}?scope=${encodeURIComponent(scopeParam(scope))}`;
    return (await this.#call("DELETE", route)) as { deleted: boolean; wal_index: number };
  }

  async close(): Promise<void> {}
}

class LocalClient implements ContextClient {
  readonly via = "data_dir" as const;
  readonly url = null;
  readonly #storage: Storage;
  readonly #service: ContextService;
  readonly #openedIndex: number;

  constructor(storage: Storage, service: ContextService) {
    this.#storage = storage;
    this.#service = service;
    this.#openedIndex = storage.lastIndex;
  }

  get batchItemsMax(): number {
    return this.#service.limits.batchItemsMax;
  }

  upsert(request: UpsertRequest): Promise<UpsertResponse> {
    return coded(() => this.#service.upsert(LOCAL_CALL, request));
  }

  search(request: SearchRequest): Promise<SearchResponse> {
    return coded(() => this.#service.search(LOCAL_CALL, request));
  }

  list(query: ListQuery): Promise<ListPage> {
    return coded(async () => this.#service.list(LOCAL_CALL, query));
  }

  deleteBatch(request: DeleteBatchRequest): Promise<DeleteBatchResponse> {
    return coded(() => this.#service.deleteBatch(LOCAL_CALL, request));
  }

  get(scope: Scope, id: string): Promise<DocumentView> {
    return coded(async () => this.#service.get(LOCAL_CALL, scope, id));
  }

  delete(scope: Scope, id: string): Promise<{ deleted: boolean; wal_index: number }> {
    return coded(() => this.#service.delete(LOCAL_CALL, scope, id));
  }

  /**
   * Snapshots when this process wrote anything, so the next command (a short-lived process
   * too) loads the indexes instead of replaying and re-indexing the log, then closes.
   */
  async close(): Promise<void> {
    try {
      if (this.#storage.lastIndex > this.#openedIndex) await this.#storage.takeSnapshot();
    } finally {
      this.#service.close();
      await this.#storage.close();
    }
  }
}

/**
 * With `VLTAIR_URL` set, the server at that URL. Otherwise opens the data directory
 * in-process, or, when another process holds its lock, the server named by its server.json. `create` makes a missing data directory (ingest); without it a
 * missing directory is `not_found` (search).
 *
 * @example
 * ```ts
 * const client = await openContextClient(config, io.env, { create: false, monotonicMs, nowMs });
 * try { await client.search({ query: "lock", k: 10, strategy: "auto" }); } finally { await client.close(); }
 * ```
 */
export async function openContextClient(
  config: Config,
  env: Record<string, string | undefined>,
  options: {
    create: boolean;
    monotonicMs: () => number;
    nowMs: () => number;
    /**
     * No embedder was configured: in-process, embed with the one the data directory recorded
     * (so `vltair search` needs no `--embedder`); a server uses its own either way.
     */
    embedderFromDataDir?: boolean;
    /** Where a line saying the command waits for a recovering server goes (stderr). */
    onWait?: (line: string) => void;
  },
): Promise<ContextClient> {
  const onWait = options.onWait ?? (() => {});
  // Checked first: a bad option exits 2 before anything is opened.
  const context = contextSettings(config);
  const access = await openDataDirAccess(config, env, options);
  if (access.kind === "server") return new RemoteClient({ ...access.server, onWait });
  const { storage, machines, policy } = access;
  try {
    const wiring = {
      storage,
      machine: machines.context,
      monotonicMs: options.monotonicMs,
      policy,
    };
    const service = createContextService(context, wiring);
    if (options.embedderFromDataDir !== true) return new LocalClient(storage, service);
    const recorded = service.stats(LOCAL_CALL).embedder;
    const configured = context.embedder === null ? null : identityOf(context.embedder);
    if (recorded === null || (configured !== null && sameIdentity(recorded, configured))) {
      return new LocalClient(storage, service);
    }
    service.close();
    const embedder = embedderOfIdentity(recorded);
    return new LocalClient(storage, createContextService({ ...context, embedder }, wiring));
  } catch (error) {
    await storage.close().catch(() => {});
    throw withCode(error);
  }
}
