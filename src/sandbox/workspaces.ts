/**
 * Workspaces of the server: every tenant has its default workspace (where `POST
 * /v1/sandbox/exec` runs) and up to `workspaces_max` named ones, each a tree on disk that lives
 * across runs until its TTL passes. This class owns their lifecycle (create, find, list,
 * delete, expire), the gate that keeps runs and maintenance apart, the files API, and the
 * tenant's quota on bytes and files. Metadata goes through `WorkspaceCatalog` only.
 */
import { randomUUID } from "node:crypto";
import { mkdir, realpath, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { assert, VltairError } from "../core/mod.ts";
import { CheckpointStore } from "./checkpoint-store.ts";
import { HashCache } from "./checkpoint-tree.ts";
import { type HiddenPath, resolveHiddenPaths } from "./hidden-paths.ts";
import { SANDBOX_LIMITS, type SandboxLimitConfig, type SandboxLogger } from "./options.ts";
import { measureTree, type TreeUsage } from "./tree-walk.ts";
import {
  DEFAULT_WORKSPACE_ID,
  isWorkspaceId,
  newWorkspaceId,
  WorkspaceCatalog,
  type WorkspaceRecord,
} from "./workspace-catalog.ts";
import {
  quotaExceeded,
  type ReadResult,
  readWorkspacePath,
  removeWorkspacePath,
  type WriteResult,
  writeWorkspaceFile,
} from "./workspace-files.ts";
import { type GateRelease, WorkspaceGate } from "./workspace-gate.ts";
import type { WorkspaceCreate } from "./workspace-schema.ts";

/** Options of {@link Workspaces}. */
export interface WorkspacesOptions {
  /** Directory of the catalog and the named workspaces (inside the hidden data directory). */
  root: string;
  /** Tree of a tenant's default workspace (`sandbox_workspace` with the tenant filled in). */
  defaultTree: (tenant: string) => string;
  limits: SandboxLimitConfig;
  /** Server paths no files API call may reach (the data directory, the tenants' workspaces). */
  hiddenPaths: readonly string[];
  /** Wall clock, ms since the epoch (injected in tests). */
  nowMs: () => number;
  logger: SandboxLogger;
}

/** Usage of one workspace tree, measured lazily: runs make it stale. */
interface UsageEntry {
  usage: TreeUsage | null;
  measuring: Promise<TreeUsage> | null;
  /** Bumped by every change a walk may have missed. */
  generation: number;
}

/** A workspace found for a call: its record and the real path of its tree. */
export interface FoundWorkspace {
  record: WorkspaceRecord;
  tree: string;
}

function notFound(id: string): VltairError {
  return new VltairError("not_found", "no such workspace", { details: { workspace: id } });
}

/**
 * The workspaces of one server.
 *
 * @example
 * ```ts
 * const ws = new Workspaces({ root, defaultTree, limits, hiddenPaths, nowMs: Date.now, logger });
 * const created = await ws.create("acme", { ttl_ms: 3_600_000 });
 * await ws.writeFile("acme", created.id, "a.txt", body, null);
 * ```
 */
export class Workspaces {
  readonly #options: WorkspacesOptions;
  readonly #catalog: WorkspaceCatalog;
  readonly #store: CheckpointStore;
  readonly #gates = new Map<string, WorkspaceGate>();
  readonly #usage = new Map<string, UsageEntry>();
  readonly #hashes = new Map<string, HashCache>();

  constructor(options: WorkspacesOptions) {
    this.#options = options;
    this.#catalog = new WorkspaceCatalog(options.root);
    this.#store = new CheckpointStore(options.root);
  }

  /** The metadata catalog (checkpoints keep their list in the records). */
  get catalog(): WorkspaceCatalog {
    return this.#catalog;
  }

  /** The tenants' checkpoint stores. */
  get store(): CheckpointStore {
    return this.#store;
  }

  /** Logs an event of the workspaces (checkpoints log through it too). */
  log(level: "info" | "warn", event: string, fields: Record<string, unknown>): void {
    this.#options.logger(level, event, fields);
  }

  /** The configured limits. */
  get limits(): SandboxLimitConfig {
    return this.#options.limits;
  }

  /** Known content hashes of a workspace's files (checkpoints skip reading unchanged ones). */
  hashCache(tenant: string, id: string): HashCache {
    return getOrMake(this.#hashes, key(tenant, id), () => new HashCache());
  }

  /**
   * Removes checkpoints no workspace of the tenant lists any more, and the blobs only they
   * named (under the store's lock).
   */
  async collectCheckpoints(tenant: string): Promise<void> {
    const leave = await this.#store.lock(tenant);
    try {
      const keep = new Set<string>();
      for (const record of await this.#catalog.list(tenant)) {
        for (const c of record.checkpoints) keep.add(c.id);
      }
      const removed = await this.#store.collect(tenant, keep);
      if (removed.manifests + removed.blobs > 0)
        this.#options.logger("info", "sandbox.checkpoint.collected", { tenant, ...removed });
    } finally {
      leave();
    }
  }

  /** Sets a tree's usage when it is known exactly (after a restore). */
  setUsage(tenant: string, id: string, usage: TreeUsage): void {
    const entry = this.#usage.get(key(tenant, id));
    if (entry === undefined) {
      this.#usage.set(key(tenant, id), { usage, measuring: null, generation: 0 });
      return;
    }
    entry.generation += 1;
    entry.usage = usage;
    entry.measuring = null;
  }

  /** Creates a named workspace of `tenant`. */
  async create(tenant: string, body: WorkspaceCreate): Promise<WorkspaceRecord> {
    const { limits } = this.#options;
    const ttlMs = body.ttl_ms ?? limits.workspaceTtlMsDefault;
    if (ttlMs < SANDBOX_LIMITS.specs.workspaceTtlMsMax.min || ttlMs > limits.workspaceTtlMsMax) {
      throw new VltairError("validation_failed", "ttl_ms out of range", {
        details: {
          field: "ttl_ms",
          issue: "out_of_range",
          min: SANDBOX_LIMITS.specs.workspaceTtlMsMax.min,
          max: limits.workspaceTtlMsMax,
          value: ttlMs,
        },
      });
    }
    const named = (await this.#catalog.list(tenant)).filter((r) => r.id !== DEFAULT_WORKSPACE_ID);
    if (named.length >= limits.workspacesMax)
      throw quotaExceeded("workspaces_max", limits.workspacesMax, named.length, 1);
    const id = newWorkspaceId();
    // Held while the tree exists without its record, so the sweep does not take it for an orphan.
    const leave = this.#gate(tenant, id).tryEnterMaintenance();
    assert(leave !== null, "a new workspace id has an idle gate");
    const nowMs = this.#options.nowMs();
    const record: WorkspaceRecord = {
      id,
      tenant,
      name: body.name ?? null,
      createdAtMs: nowMs,
      expiresAtMs: nowMs + ttlMs,
      checkpoints: [],
    };
    // The tree first, the record last: a crash in between leaves an orphan the sweep removes.
    try {
      await mkdir(this.#namedTree(tenant, id), { recursive: true, mode: 0o700 });
      await this.#catalog.put(record);
    } finally {
      leave();
    }
    this.#usage.set(key(tenant, id), {
      usage: { bytes: 0, files: 0, truncated: false },
      measuring: null,
      generation: 0,
    });
    this.#options.logger("info", "sandbox.workspace.created", {
      tenant,
      workspace: id,
      ttl_ms: ttlMs,
    });
    return record;
  }

  /** The record of a live workspace of `tenant`; `404 not_found` otherwise (another tenant's too). */
  async get(tenant: string, id: string): Promise<WorkspaceRecord> {
    if (!isWorkspaceId(id)) throw notFound(id);
    const found = await this.#catalog.get(tenant, id);
    if (found !== null) {
      if (found.expiresAtMs !== null && found.expiresAtMs <= this.#options.nowMs())
        throw notFound(id);
      return found;
    }
    if (id !== DEFAULT_WORKSPACE_ID) throw notFound(id);
    const record: WorkspaceRecord = {
      id,
      tenant,
      name: DEFAULT_WORKSPACE_ID,
      createdAtMs: this.#options.nowMs(),
      expiresAtMs: null,
      checkpoints: [],
    };
    await this.#catalog.put(record);
    return record;
  }

  /** Live workspaces of `tenant`, the default one included, oldest first. */
  async list(tenant: string): Promise<WorkspaceRecord[]> {
    await this.get(tenant, DEFAULT_WORKSPACE_ID);
    const nowMs = this.#options.nowMs();
    return (await this.#catalog.list(tenant)).filter(
      (r) => r.expiresAtMs === null || r.expiresAtMs > nowMs,
    );
  }

  /** The workspace and the real path of its tree (created when missing). */
  async find(tenant: string, id: string): Promise<FoundWorkspace> {
    const record = await this.get(tenant, id);
    const tree = this.treeOf(tenant, id);
    await mkdir(tree, { recursive: true, mode: 0o700 });
    return { record, tree: await realpath(tree) };
  }

  /** Where a workspace's tree is. */
  treeOf(tenant: string, id: string): string {
    return id === DEFAULT_WORKSPACE_ID
      ? this.#options.defaultTree(tenant)
      : this.#namedTree(tenant, id);
  }

  #namedTree(tenant: string, id: string): string {
    return join(this.#catalog.dirOf(tenant, id), "tree");
  }

  #gate(tenant: string, id: string): WorkspaceGate {
    return getOrMake(this.#gates, key(tenant, id), () => new WorkspaceGate());
  }

  /**
   * Counts a run into the workspace (waits for maintenance in progress). Leaving marks the
   * tree's usage stale and measures it again in the background, so the next quota check
   * rarely waits for the walk.
   */
  async enterRun(tenant: string, id: string): Promise<GateRelease> {
    const leave = await this.#gate(tenant, id).enterRun();
    let left = false;
    return () => {
      if (left) return;
      left = true;
      leave();
      this.#stale(tenant, id);
    };
  }

  /** Runs `fn` with the workspace to itself (`409 conflict` while a run is inside). */
  async withMaintenance<T>(
    tenant: string,
    id: string,
    fn: (found: FoundWorkspace, hidden: readonly HiddenPath[]) => Promise<T>,
  ): Promise<T> {
    await this.get(tenant, id);
    const leave = await this.#gate(tenant, id).enterMaintenance();
    try {
      // Looked up again under the gate: a delete may have finished while this call waited.
      const found = await this.find(tenant, id);
      return await fn(found, await resolveHiddenPaths(this.#options.hiddenPaths));
    } finally {
      leave();
    }
  }

  /** Writes a file (`PUT …/files/{path}`). */
  async writeFile(
    tenant: string,
    id: string,
    path: string,
    body: ReadableStream<Uint8Array> | null,
    mode: number | null,
  ): Promise<WriteResult> {
    const { limits } = this.#options;
    return this.withMaintenance(tenant, id, async (found, hidden) => {
      const used = await this.usage(tenant);
      const result = await writeWorkspaceFile(found.tree, path, body, {
        hidden,
        mode,
        budget: {
          capBytes: limits.uploadBytesMax,
          bytesMax: limits.tenantWorkspaceBytesMax,
          bytesUsed: used.bytes,
          filesMax: limits.tenantWorkspaceFilesMax,
          filesUsed: used.files,
        },
      });
      this.#adjust(tenant, id, result.bytesDelta, result.filesDelta);
      return result;
    });
  }

  /**
   * Opens a file or lists a directory (`GET …/files/{path}`). A file's handle is opened under
   * the gate and read after it: a run may change the bytes, never which file they come from.
   */
  readPath(tenant: string, id: string, path: string): Promise<ReadResult> {
    return this.withMaintenance(tenant, id, (found, hidden) =>
      readWorkspacePath(found.tree, path, {
        hidden,
        entriesMax: this.#options.limits.dirEntriesMax,
      }),
    );
  }

  /** Deletes a path (`DELETE …/files/{path}`). */
  async removePath(tenant: string, id: string, path: string): Promise<void> {
    await this.withMaintenance(tenant, id, async (found, hidden) => {
      await removeWorkspacePath(found.tree, path, { hidden });
      this.#stale(tenant, id);
    });
  }

  /** Deletes a named workspace, its tree and its record (`409 conflict` for the default one). */
  async remove(tenant: string, id: string): Promise<WorkspaceRecord> {
    if (id === DEFAULT_WORKSPACE_ID) {
      throw new VltairError("conflict", "the default workspace cannot be deleted", {
        details: { reason: "default_workspace", workspace: id },
      });
    }
    const record = await this.get(tenant, id);
    const leave = await this.#gate(tenant, id).enterMaintenance();
    try {
      await this.#destroy(tenant, id);
    } finally {
      leave();
    }
    this.#options.logger("info", "sandbox.workspace.deleted", {
      tenant,
      workspace: id,
      reason: "request",
    });
    return record;
  }

  /** Record first (the workspace is gone for every route), then the tree, renamed away first. */
  async #destroy(tenant: string, id: string): Promise<void> {
    await this.#catalog.remove(tenant, id);
    const dir = this.#catalog.dirOf(tenant, id);
    const trash = join(this.#options.root, tenant, "trash", `${id}-${randomUUID()}`);
    await mkdir(join(this.#options.root, tenant, "trash"), { recursive: true, mode: 0o700 });
    await rename(dir, trash).catch(() => undefined);
    await rm(trash, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
    this.#usage.delete(key(tenant, id));
    this.#hashes.delete(key(tenant, id));
    const gate = this.#gates.get(key(tenant, id));
    if (gate?.idle) this.#gates.delete(key(tenant, id));
    await this.collectCheckpoints(tenant);
  }

  /** Usage of the tenant: every workspace (stale ones measured) and the checkpoint store. */
  async usage(tenant: string): Promise<{ bytes: number; files: number }> {
    const store = await this.#store.usage(tenant);
    let bytes = store.bytes;
    let files = store.files;
    for (const record of await this.list(tenant)) {
      const u = await this.#measure(tenant, record.id);
      bytes += u.bytes;
      files += u.files;
    }
    return { bytes, files };
  }

  /** Usage of one workspace's tree (measured when stale). */
  async usageOf(tenant: string, id: string): Promise<TreeUsage> {
    await this.get(tenant, id);
    return this.#measure(tenant, id);
  }

  /** `429 rate_limited` when the tenant is over a quota (a run may not start then). */
  async assertUnderQuota(tenant: string): Promise<void> {
    assertRoom(this.#options.limits, await this.usage(tenant), { bytes: 0, files: 0 });
  }

  /** Measured usage of one tree (cached until a run or a delete makes it stale). */
  #measure(tenant: string, id: string): Promise<TreeUsage> {
    const k = key(tenant, id);
    const entry = this.#usage.get(k) ?? { usage: null, measuring: null, generation: 0 };
    this.#usage.set(k, entry);
    if (entry.usage !== null) return Promise.resolve(entry.usage);
    if (entry.measuring !== null) return entry.measuring;
    const generation = entry.generation;
    const measuring = measureTree(this.treeOf(tenant, id), {
      entriesMax: this.#options.limits.tenantWorkspaceFilesMax,
    }).then((usage) => {
      // A run or delete since the walk started makes its figure stale: keep it for this
      // caller only.
      if (entry.generation === generation) {
        entry.usage = usage;
        entry.measuring = null;
      }
      return usage;
    });
    entry.measuring = measuring;
    return measuring;
  }

  #stale(tenant: string, id: string): void {
    const entry = this.#usage.get(key(tenant, id));
    if (entry === undefined) return;
    entry.generation += 1;
    entry.usage = null;
    entry.measuring = null;
    // Measured now, off the request's path, so the next quota check finds it done.
    this.#measure(tenant, id).catch((error: unknown) => {
      entry.measuring = null;
      this.#options.logger("warn", "sandbox.workspace.measure_failed", {
        tenant,
        workspace: id,
        code: (error as NodeJS.ErrnoException).code ?? "error",
      });
    });
  }

  #adjust(tenant: string, id: string, bytes: number, files: number): void {
    const entry = this.#usage.get(key(tenant, id));
    if (entry?.usage === null || entry === undefined) return;
    entry.usage = {
      ...entry.usage,
      bytes: entry.usage.bytes + bytes,
      files: entry.usage.files + files,
    };
  }

  /**
   * Deletes expired workspaces nobody is inside (a busy one waits for a later sweep), crashed
   * creations and deletions (directories without a record) and trash. Returns what it removed.
   */
  async sweep(): Promise<{ expired: number; orphans: number }> {
    let expired = 0;
    let orphans = 0;
    const nowMs = this.#options.nowMs();
    for (const tenant of await this.#catalog.tenants()) {
      for (const record of await this.#catalog.list(tenant)) {
        if (record.expiresAtMs === null || record.expiresAtMs > nowMs) continue;
        const leave: GateRelease | null = this.#gate(tenant, record.id).tryEnterMaintenance();
        if (leave === null) continue;
        try {
          await this.#destroy(tenant, record.id);
          expired += 1;
          this.#options.logger("info", "sandbox.workspace.deleted", {
            tenant,
            workspace: record.id,
            reason: "expired",
          });
        } finally {
          leave();
        }
      }
      for (const id of await this.#catalog.orphans(tenant)) {
        if (this.#gates.get(key(tenant, id))?.idle === false) continue;
        await rm(this.#catalog.dirOf(tenant, id), { recursive: true, force: true });
        orphans += 1;
      }
      await rm(join(this.#options.root, tenant, "trash"), { recursive: true, force: true });
    }
    return { expired, orphans };
  }
}

function key(tenant: string, id: string): string {
  return `${tenant}/${id}`;
}

/**
 * `429 rate_limited` naming the tenant quota that `used` plus `adding` breaks (a run is refused
 * while `used` alone is over: `adding` is zero then).
 *
 * @example
 * ```ts
 * assertRoom(limits, { bytes: 9e9, files: 10 }, { bytes: 2e9, files: 1 }); // throws (10 GiB quota)
 * ```
 */
export function assertRoom(
  limits: SandboxLimitConfig,
  used: { bytes: number; files: number },
  adding: { bytes: number; files: number },
): void {
  const checks = [
    ["tenant_workspace_bytes_max", limits.tenantWorkspaceBytesMax, used.bytes, adding.bytes],
    ["tenant_workspace_files_max", limits.tenantWorkspaceFilesMax, used.files, adding.files],
  ] as const;
  for (const [limit, max, now, more] of checks) {
    if (now + more > max) throw quotaExceeded(limit, max, now, more);
  }
}

/** The value of `key` in `map`, made by `make` the first time. */
export function getOrMake<K, V>(map: Map<K, V>, k: K, make: () => V): V {
  let value = map.get(k);
  if (value === undefined) {
    value = make();
    map.set(k, value);
  }
  return value;
}
