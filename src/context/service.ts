/**
 * The context engine's service: upsert, get, delete, versions, merge and search over the
 * `context` state machine. Routes and the CLI call this; it alone touches storage and search.
 */
import { Buffer } from "node:buffer";
import { authorize, type Call, VltairError } from "../core/mod.ts";
import type { ContextAccessContext } from "../policy/mod.ts";
import type { TokenizerName } from "../search/mod.ts";
import {
  type AppendInput,
  commitPrepared,
  type MachineHandle,
  type PreparedWrite,
  type Storage,
} from "../storage/mod.ts";
import { contentHash } from "./content-hash.ts";
import {
  checkEmbedder,
  type Embedder,
  type EmbedderIdentity,
  identityOf,
  sameIdentity,
} from "./embed/mod.ts";
import { prepareFilter } from "./filters/mod.ts";
import { type ContextLimits, filterLimitsOf } from "./limits.ts";
import { merge3 } from "./merge.ts";
import { ANY, accessContext } from "./policy-requests.ts";
import { checkQueryVector } from "./query-vector-check.ts";
import type {
  DeleteBatchRequest,
  DeleteBatchResponse,
  DocumentView,
  ListResponse,
  MergeRequest,
  SearchRequest,
  SearchResponse,
  UpsertRequest,
  UpsertResponse,
} from "./schemas.ts";
import { type Scope, type ScopeLike, scopeKey } from "./scope.ts";
import { executeSearch } from "./search-exec.ts";
import { planSearch, renderHits } from "./search-plan.ts";
import { type StatsResponse, tenantStats } from "./stats.ts";
import { currentVersion, docRef, type StoredDoc } from "./store/doc.ts";
import type { ContextRecord, UpsertItemRecord } from "./store/record.ts";
import type { ContextState } from "./store/state.ts";
import { compareRefs, type TenantStore } from "./store/tenant.ts";
import { TenantLock } from "./tenant-lock.ts";
import { checkUpsertLimits, planUpsert } from "./upsert-plan.ts";
import { PastViews } from "./views.ts";

/** What the service needs. */
export interface ContextServiceOptions {
  storage: Storage;
  /** The `context` machine's handle (what `storage.register(createContextMachine())` returned). */
  machine: MachineHandle<ContextState, ContextRecord>;
  /** `null` for the `none` provider: clients send vectors. */
  embedder: Embedder | null;
  limits: ContextLimits;
  /** Tokenizer of text indexes created from now on (a tenant keeps the one it was created with). */
  tokenizer: TokenizerName;
  monotonicMs?: () => number;
  /**
   * The policy check of reads (the policy layer's `PolicyService`; writes are checked by its
   * pre-commit hook). Absent in tools that open a data directory as its operator.
   */
  policy?: ContextReadPolicy;
}

/** What the service needs of the policy layer: a check that throws 403 `policy_denied`. */
export interface ContextReadPolicy {
  check(call: Call, action: "context.read", context: ContextAccessContext): unknown;
}

const iso = (ms: number) => new Date(ms).toISOString();

function docView(doc: StoredDoc): DocumentView {
  const view: DocumentView = {
    id: doc.id,
    scope: doc.scope,
    text: doc.text,
    has_vector: doc.hasVector,
    version: doc.version,
    content_hash: doc.contentHash,
    created_at: iso(doc.createdAtMs),
    updated_at: iso(doc.updatedAtMs),
    wal_index: doc.walIndex,
  };
  if (doc.metadata !== undefined) view.metadata = doc.metadata;
  return view;
}

function notFound(scope: Scope, id: string): VltairError {
  return new VltairError("not_found", "no such document", {
    details: { id, scope: scopeKey(scope) },
  });
}

/** The context engine. */
export class ContextService {
  readonly #storage: Storage;
  readonly #machine: MachineHandle<ContextState, ContextRecord>;
  readonly #embedder: Embedder | null;
  readonly #limits: ContextLimits;
  readonly #tokenizer: TokenizerName;
  readonly #lock = new TenantLock();
  readonly #views: PastViews;
  readonly #monotonicMs: () => number;
  readonly #policy: ContextReadPolicy | null;

  constructor(options: ContextServiceOptions) {
    this.#policy = options.policy ?? null;
    this.#storage = options.storage;
    this.#machine = options.machine;
    this.#embedder = options.embedder;
    this.#limits = options.limits;
    this.#tokenizer = options.tokenizer;
    this.#monotonicMs = options.monotonicMs ?? (() => performance.now());
    this.#views = new PastViews(options.limits.timeTravelViewsMax, (target) =>
      this.#storage.replayTo(target),
    );
  }

  /** The limits in force. */
  get limits(): ContextLimits {
    return this.#limits;
  }

  /** The embedder, or null when clients send vectors. */
  get embedder(): Embedder | null {
    return this.#embedder;
  }

  /** Role, then policy (API.md): may the caller read `id` (or `*`, `prefix*`) in `scope`? */
  #checkRead(call: Call, scope: ScopeLike | null, id: string): void {
    authorize(call, "reader", "context.read");
    this.#policy?.check(call, "context.read", accessContext(scope, id));
  }

  #live(): ContextState {
    return this.#machine.state();
  }

  #tenant(tenant: string): TenantStore | undefined {
    return this.#live().tenant(tenant);
  }

  /**
   * Upserts a batch atomically: validation, version checks and embedding happen before the one
   * WAL record is committed; any failure rejects the whole batch with nothing applied.
   */
  async upsert(call: Call, request: UpsertRequest): Promise<UpsertResponse> {
    const [response] = await commitPrepared(this.#storage, call, [
      await this.prepareUpsert(call, request),
    ]);
    return response;
  }

  /**
   * Plans an upsert (validation, embedding, version checks) and holds the tenant's write lock
   * until the returned write is committed with {@link commitPrepared} (possibly in one batch with
   * other records). Nothing is written here.
   */
  async prepareUpsert(call: Call, request: UpsertRequest): Promise<PreparedWrite<UpsertResponse>> {
    authorize(call, "writer", "context.write");
    const tenant = call.principal.tenant;
    const signal = call.signal;
    checkUpsertLimits(request.items, this.#limits, this.#embedder);
    const hashes = request.items.map((item) => contentHash(item.text, item.metadata, item.vector));
    const embed = request.embed ?? this.#embedder !== null;
    // Refused before any embedding call: a tenant's vectors come from one embedder.
    if (embed) this.#checkTenantEmbedder(this.#tenant(tenant), tenant);
    // Embed outside the tenant lock what the current state says will be written.
    const early = planUpsert(this.#tenant(tenant), request.items, hashes, { checkVersions: false });
    const vectors = new Map<number, Float32Array>();
    await this.#embedMissing(request, early.written, embed, vectors, signal);
    return this.#underLock(tenant, async () => {
      const store = this.#tenant(tenant);
      const plan = planUpsert(store, request.items, hashes, { checkVersions: true });
      if (embed) this.#checkTenantEmbedder(store, tenant);
      await this.#embedMissing(request, plan.written, embed, vectors, signal);
      const records: UpsertItemRecord[] = [];
      for (const index of plan.written) {
        const item = request.items[index] as UpsertRequest["items"][number];
        const vector =
          item.vector === undefined ? vectors.get(index) : Float32Array.from(item.vector);
        const record: UpsertItemRecord = {
          id: item.id,
          scope: item.scope,
          text: item.text,
          hash: hashes[index] as string,
        };
        if (item.metadata !== undefined) record.metadata = item.metadata;
        if (vector !== undefined) record.vector = vector;
        records.push(record);
      }
      checkVectorDimensions(store, request, plan.written, vectors);
      const out: AppendInput[] = [];
      if (records.length > 0) {
        const body: ContextRecord = {
          op: "upsert",
          tenant,
          tokenizer: this.#tokenizer,
          items: records,
        };
        const identity = this.#identityToRecord(store, vectors.size > 0);
        if (identity !== null) body.embedder = identity;
        out.push(this.#machine.record(body));
      }
      return { records: out, result: (walIndex) => ({ ...plan.summary, wal_index: walIndex }) };
    });
  }

  /**
   * Runs `plan` under the tenant's write lock and returns its write holding the lock; the lock
   * is released at once when planning throws.
   */
  async #underLock<R>(
    tenant: string,
    plan: () => Promise<{ records: AppendInput[]; result: (walIndex: number) => R }>,
  ): Promise<PreparedWrite<R>> {
    const release = await this.#lock.acquire(tenant);
    try {
      return { ...(await plan()), release };
    } catch (error) {
      release();
      throw error;
    }
  }

  /** 409 `embedder_mismatch` when the tenant recorded another embedder than this service's. */
  #checkTenantEmbedder(store: TenantStore | undefined, tenant: string): void {
    if (this.#embedder === null || store === undefined) return;
    checkEmbedder(store.embedder, identityOf(this.#embedder), tenant);
  }

  /**
   * The identity an upsert records: this service's embedder when it embedded part of the batch
   * and the tenant has either no vectors yet or the same identity recorded. A tenant whose
   * vectors predate the record (or were all sent by clients) stays unrecorded: claiming an
   * identity for vectors of unknown origin would hide the very mismatch the record exists for.
   */
  #identityToRecord(store: TenantStore | undefined, embeddedAny: boolean): EmbedderIdentity | null {
    if (!embeddedAny || this.#embedder === null) return null;
    if (store?.hasVectorIndex === true && store.embedder === null) return null;
    return identityOf(this.#embedder);
  }

  async #embedMissing(
    request: UpsertRequest,
    written: readonly number[],
    embed: boolean,
    vectors: Map<number, Float32Array>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (!embed || this.#embedder === null) return;
    const todo = written.filter((i) => request.items[i]?.vector === undefined && !vectors.has(i));
    if (todo.length === 0) return;
    const texts = todo.map((i) => (request.items[i] as UpsertRequest["items"][number]).text);
    const out = await this.#embedder.embed(texts, signal === undefined ? {} : { signal });
    todo.forEach((i, n) => {
      vectors.set(i, out[n] as Float32Array);
    });
  }

  /** The current version of a document. */
  get(call: Call, scope: Scope, id: string): DocumentView {
    this.#checkRead(call, scope, id);
    return docView(this.#doc(call.principal.tenant, scope, id));
  }

  /** The current version of a document; 404 `not_found` when the tenant has none. */
  #doc(tenant: string, scope: Scope, id: string): StoredDoc {
    const doc = this.#tenant(tenant)?.get(scopeKey(scope), id);
    if (doc === undefined) throw notFound(scope, id);
    return doc;
  }

  /** Deletes a document (404 when it does not exist). */
  async delete(
    call: Call,
    scope: Scope,
    id: string,
  ): Promise<{ deleted: boolean; wal_index: number }> {
    const [response] = await commitPrepared(this.#storage, call, [
      await this.prepareDelete(call, scope, id),
    ]);
    return response;
  }

  /** Plans the deletion of one document (404 when it does not exist), holding the tenant's lock. */
  async prepareDelete(
    call: Call,
    scope: Scope,
    id: string,
  ): Promise<PreparedWrite<{ deleted: boolean; wal_index: number }>> {
    authorize(call, "writer", "context.write");
    const tenant = call.principal.tenant;
    return this.#underLock(tenant, async () => {
      this.#doc(tenant, scope, id);
      return {
        records: [this.#machine.record({ op: "delete", tenant, items: [{ id, scope }] })],
        result: (walIndex) => ({ deleted: true, wal_index: walIndex }),
      };
    });
  }

  /**
   * Deletes a batch of documents atomically (one record); items naming no document are listed
   * as `missing`, not an error, so pruning is idempotent. Nothing is written when none exists.
   */
  async deleteBatch(call: Call, request: DeleteBatchRequest): Promise<DeleteBatchResponse> {
    const [response] = await commitPrepared(this.#storage, call, [
      await this.prepareDeleteBatch(call, request),
    ]);
    return response;
  }

  /** Plans {@link ContextService.deleteBatch}, holding the tenant's lock. */
  async prepareDeleteBatch(
    call: Call,
    request: DeleteBatchRequest,
  ): Promise<PreparedWrite<DeleteBatchResponse>> {
    authorize(call, "writer", "context.write");
    const tenant = call.principal.tenant;
    if (request.items.length > this.#limits.batchItemsMax) {
      throw new VltairError(
        "payload_too_large",
        `a batch holds at most ${this.#limits.batchItemsMax} items`,
        {
          details: {
            field: "items",
            limit: this.#limits.batchItemsMax,
            actual: request.items.length,
          },
        },
      );
    }
    return this.#underLock(tenant, async () => {
      const store = this.#tenant(tenant);
      const present: DeleteBatchRequest["items"] = [];
      const missing: DeleteBatchRequest["items"] = [];
      const seen = new Set<string>();
      for (const item of request.items) {
        const sk = scopeKey(item.scope);
        const key = docRef(sk, item.id);
        if (store?.docs.has(sk, item.id) === true && !seen.has(key)) present.push(item);
        else if (!seen.has(key)) missing.push(item);
        seen.add(key);
      }
      const records =
        present.length === 0
          ? []
          : [this.#machine.record({ op: "delete", tenant, items: present })];
      return {
        records,
        result: (walIndex) => ({ deleted: present.length, missing, wal_index: walIndex }),
      };
    });
  }

  /** A page of the tenant's documents in (scope, id) order, optionally under one scope and id prefix. */
  list(
    call: Call,
    query: { scope: Scope | null; prefix: string; limit: number; cursor: string | null },
  ): ListResponse {
    this.#checkRead(call, query.scope, `${query.prefix}${ANY}`);
    const walIndex = this.#storage.lastIndex;
    const store = this.#tenant(call.principal.tenant);
    const after = query.cursor === null ? null : decodeCursor(query.cursor);
    const wanted = query.scope === null ? null : scopeKey(query.scope);
    const sorted = store?.sortedDocs() ?? [];
    // Within one scope the page starts at (scope, prefix) and ends where the prefix does;
    // across scopes it walks forward filtering by prefix. Each start is a binary search.
    let start = after === null ? 0 : firstAfter(sorted, after[0], after[1], false);
    if (wanted !== null) start = Math.max(start, firstAfter(sorted, wanted, query.prefix, true));
    const docs: StoredDoc[] = [];
    for (let i = start; i < sorted.length && docs.length <= query.limit; i++) {
      const doc = sorted[i] as StoredDoc;
      const matches = doc.id.startsWith(query.prefix);
      if (wanted !== null && (doc.scopeKey !== wanted || (!matches && doc.id > query.prefix)))
        break;
      if (matches) docs.push(doc);
    }
    const page = docs.slice(0, query.limit);
    const last = page.at(-1);
    return {
      documents: page.map((d) => {
        const out: ListResponse["documents"][number] = {
          id: d.id,
          scope: d.scope,
          version: d.version,
          content_hash: d.contentHash,
          updated_at: iso(d.updatedAtMs),
        };
        if (d.metadata !== undefined) out.metadata = d.metadata;
        return out;
      }),
      next_cursor:
        docs.length > query.limit && last !== undefined
          ? encodeCursor(last.scopeKey, last.id)
          : null,
      wal_index: walIndex,
    };
  }

  /** Every version of a document, newest first. */
  versions(call: Call, scope: Scope, id: string) {
    this.#checkRead(call, scope, id);
    const doc = this.#doc(call.principal.tenant, scope, id);
    const entries = [...(doc.past ?? []), currentVersion(doc)].reverse();
    return {
      id: doc.id,
      scope: doc.scope,
      versions: entries.map((e) => ({
        version: e.version,
        content_hash: e.contentHash,
        wal_index: e.walIndex,
        updated_at: iso(e.updatedAtMs),
      })),
    };
  }

  /** One version of a document, with its text. */
  version(call: Call, scope: Scope, id: string, version: number) {
    this.#checkRead(call, scope, id);
    const tenant = call.principal.tenant;
    const doc = this.#doc(tenant, scope, id);
    const entry =
      version === doc.version ? currentVersion(doc) : doc.past?.find((p) => p.version === version);
    if (entry === undefined) {
      throw new VltairError("not_found", `document has no version ${version}`, {
        details: { id, scope: scopeKey(scope), version, latest_version: doc.version },
      });
    }
    return {
      id: doc.id,
      version: entry.version,
      content_hash: entry.contentHash,
      wal_index: entry.walIndex,
      updated_at: iso(entry.updatedAtMs),
      text: entry.text,
    };
  }

  /** Three-way merge of strings, or of two versions of a document against a new text. */
  merge(call: Call, request: MergeRequest) {
    authorize(call, "reader", "context.read");
    if ("base" in request) return merge3(request);
    const base = this.version(call, request.scope, request.id, request.base_version).text;
    const ours = this.version(call, request.scope, request.id, request.ours_version).text;
    return merge3({ base, ours, theirs: request.theirs });
  }

  /** Tenants whose recorded embedder is not this service's: their embedding requests are 409. */
  tenantsWithOtherEmbedder(): { tenant: string; recorded: EmbedderIdentity }[] {
    const configured = this.#embedder === null ? null : identityOf(this.#embedder);
    const out: { tenant: string; recorded: EmbedderIdentity }[] = [];
    for (const store of this.#live().tenants.values()) {
      const recorded = store.embedder;
      if (recorded === null || configured === null || sameIdentity(recorded, configured)) continue;
      out.push({ tenant: store.tenant, recorded });
    }
    return out;
  }

  /** What the tenant holds: documents, versions, scopes, embedder, index sizes. */
  stats(call: Call): StatsResponse {
    this.#checkRead(call, null, ANY);
    const tenant = call.principal.tenant;
    return tenantStats(this.#tenant(tenant), {
      tenant,
      embedder: this.#embedder,
      tokenizer: this.#tokenizer,
      walIndex: this.#storage.lastIndex,
    });
  }

  /** Searches the caller's tenant (live, or as it stood at `at`). */
  async search(call: Call, request: SearchRequest): Promise<SearchResponse> {
    this.#checkRead(call, request.scope ?? null, ANY);
    const tenant = call.principal.tenant;
    const startedMs = this.#monotonicMs();
    const filter =
      request.filters === undefined
        ? null
        : prepareFilter(request.filters, filterLimitsOf(this.#limits));
    const planned = await planSearch(request, {
      limits: this.#limits,
      embedder: this.#embedder,
      predicate: filter?.predicate ?? null,
      canonicalFilter: filter?.canonical ?? null,
      signal: call.signal,
    });
    const { state, walIndex } = this.#stateAt(request.at);
    const store = state.tenant(tenant);
    const queryVector = planned.plan.queryVector;
    if (queryVector !== null && store !== undefined) {
      checkQueryVector(store, {
        tenant,
        queryVector,
        embedder: planned.embedded ? this.#embedder : null,
      });
      if (planned.embedded && store.hasVectorIndex && store.embedder === null) {
        planned.warnings.push({
          code: "embedder_unrecorded",
          message: `tenant ${tenant}'s vectors predate the embedder record (or came from clients), so the query vector's embedder cannot be checked against them`,
        });
      }
    }
    const hits = executeSearch(store, planned.plan);
    const response: SearchResponse = {
      results: renderHits(hits, request.include),
      strategy_used: planned.plan.strategy,
      took_ms: Math.round((this.#monotonicMs() - startedMs) * 1000) / 1000,
      wal_index: walIndex,
    };
    if (planned.warnings.length > 0) response.warnings = planned.warnings;
    return response;
  }

  #stateAt(at: SearchRequest["at"]): { state: ContextState; walIndex: number } {
    const lastIndex = this.#storage.lastIndex;
    if (at === undefined) return { state: this.#live(), walIndex: lastIndex };
    if ("wal_index" in at) {
      if (at.wal_index > lastIndex) {
        throw new VltairError(
          "validation_failed",
          `at.wal_index is past the log's end (${lastIndex})`,
          {
            details: { field: "at.wal_index", wal_index: at.wal_index, last_index: lastIndex },
          },
        );
      }
      if (at.wal_index === lastIndex) return { state: this.#live(), walIndex: lastIndex };
      const view = this.#views.get({ walIndex: at.wal_index });
      return { state: view.state, walIndex: view.walIndex };
    }
    const view = this.#views.get({ wallMs: Date.parse(at.timestamp) });
    return { state: view.state, walIndex: view.walIndex };
  }

  /** Frees cached past views. */
  close(): void {
    this.#views.clear();
  }
}

/** Index of the first document after (or, with `inclusive`, at or after) (scope, id). */
function firstAfter(
  sorted: readonly StoredDoc[],
  scope: string,
  id: string,
  inclusive: boolean,
): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const d = sorted[mid] as StoredDoc;
    const order = compareRefs(d.scopeKey, d.id, scope, id);
    if (order < 0 || (order === 0 && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** An opaque page cursor: the last (scope, id) of the page. */
function encodeCursor(scope: string, id: string): string {
  return Buffer.from(JSON.stringify([scope, id])).toString("base64url");
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(value) && value.length === 2 && value.every((x) => typeof x === "string")) {
      return value as [string, string];
    }
  } catch {
    // Falls through to the error below.
  }
  throw new VltairError("validation_failed", "cursor is not a cursor this server returned", {
    details: { field: "cursor" },
  });
}

/** Every vector written must have the tenant's dimension (or the first vector's, for a new tenant). */
function checkVectorDimensions(
  store: TenantStore | undefined,
  request: UpsertRequest,
  written: readonly number[],
  embedded: Map<number, Float32Array>,
): void {
  let expected = store?.vectorDimensions ?? null;
  for (const index of written) {
    const length = request.items[index]?.vector?.length ?? embedded.get(index)?.length;
    if (length === undefined) continue;
    expected ??= length;
    if (length !== expected) {
      throw new VltairError(
        "validation_failed",
        `items.${index}.vector: must have ${expected} dimensions`,
        {
          details: { index, field: `items.${index}.vector`, expected, actual: length },
        },
      );
    }
  }
}
