/**
 * Checkpoints of workspaces: take one (content-addressed: the same tree is the same id), list
 * and delete them, restore one into its workspace, fork one into a new workspace. Each runs with
 * the workspace to itself (the gate) and the tenant's store locked, so neither a run nor the
 * garbage collector sees a half-made checkpoint. The store's bytes count toward the tenant's
 * quota; `checkpoints_max` bounds each workspace's list.
 */
import { VltairError } from "../core/mod.ts";
import type { Manifest } from "./checkpoint-manifest.ts";
import { type Restored, restoreTree, snapshotTree } from "./checkpoint-tree.ts";
import type { CheckpointRef, WorkspaceRecord } from "./workspace-catalog.ts";
import { CHECKPOINT_ID } from "./workspace-catalog.ts";
import { quotaExceeded } from "./workspace-files.ts";
import type { WorkspaceCreate } from "./workspace-schema.ts";
import { assertRoom, type Workspaces } from "./workspaces.ts";

/** A checkpoint as the API shows it. */
export interface CheckpointInfo {
  id: string;
  createdAtMs: number;
  sizeBytes: number;
  files: number;
}

/** What taking a checkpoint did. */
export interface Taken extends CheckpointInfo {
  /** Bytes the store gained (0 when every file's content was there already). */
  storedBytes: number;
  /** FIFOs, sockets and devices in the tree: not kept. */
  skipped: number;
}

function checkpointNotFound(id: string): VltairError {
  return new VltairError("not_found", "no such checkpoint in this workspace", {
    details: { checkpoint_id: id },
  });
}

/**
 * The checkpoint operations over a server's workspaces.
 *
 * @example
 * ```ts
 * const checkpoints = new WorkspaceCheckpoints(workspaces, Date.now);
 * const taken = await checkpoints.take("acme", "ws_…");
 * await checkpoints.restore("acme", "ws_…", taken.id);
 * ```
 */
export class WorkspaceCheckpoints {
  readonly #ws: Workspaces;
  readonly #nowMs: () => number;

  constructor(workspaces: Workspaces, nowMs: () => number) {
    this.#ws = workspaces;
    this.#nowMs = nowMs;
  }

  /** Takes a checkpoint of a workspace (`POST …/checkpoints`). */
  async take(tenant: string, id: string): Promise<Taken> {
    const ws = this.#ws;
    return ws.withMaintenance(tenant, id, async (found, hidden) => {
      const { limits } = ws;
      if (found.record.checkpoints.length >= limits.checkpointsMax) {
        const n = found.record.checkpoints.length;
        throw quotaExceeded("checkpoints_max", limits.checkpointsMax, n, 1);
      }
      const leave = await ws.store.lock(tenant);
      let manifest: Manifest;
      let snapshot: Awaited<ReturnType<typeof snapshotTree>>;
      try {
        snapshot = await snapshotTree(found.tree, {
          store: ws.store,
          tenant,
          cache: ws.hashCache(tenant, id),
          hidden,
          entriesMax: limits.tenantWorkspaceFilesMax,
        });
        if (snapshot.truncated) {
          const max = limits.tenantWorkspaceFilesMax;
          throw quotaExceeded("tenant_workspace_files_max", max, max + 1, 0);
        }
        manifest = await ws.store.putManifest(tenant, snapshot.entries);
      } finally {
        leave();
      }
      // The walk measured the tree exactly: the quota check below uses that.
      ws.setUsage(tenant, id, {
        bytes: manifest.sizeBytes,
        files: manifest.files + snapshot.skipped,
        truncated: false,
      });
      try {
        await ws.assertUnderQuota(tenant);
      } catch (error) {
        // Nothing refers to what this checkpoint added: the collector takes it back.
        await ws.collectCheckpoints(tenant);
        throw error;
      }
      const ref = { id: manifest.id, createdAtMs: this.#nowMs() };
      await this.#list(found.record, [
        ...found.record.checkpoints.filter((c) => c.id !== ref.id),
        ref,
      ]);
      return {
        ...info(ref, manifest),
        storedBytes: snapshot.addedBytes,
        skipped: snapshot.skipped,
      };
    });
  }

  async #list(record: WorkspaceRecord, checkpoints: CheckpointRef[]): Promise<void> {
    await this.#ws.catalog.put({ ...record, checkpoints });
  }

  /** A workspace's checkpoints, oldest first (`GET …/checkpoints`). */
  async list(tenant: string, id: string): Promise<CheckpointInfo[]> {
    const record = await this.#ws.get(tenant, id);
    const out: CheckpointInfo[] = [];
    for (const ref of record.checkpoints) {
      const manifest = await this.#ws.store.getManifest(tenant, ref.id);
      if (manifest !== null) out.push(info(ref, manifest));
    }
    return out;
  }

  /** Drops a checkpoint from a workspace's list; the collector frees what nothing else uses. */
  async remove(tenant: string, id: string, checkpointId: string): Promise<void> {
    await this.#ws.withMaintenance(tenant, id, async (found) => {
      this.#ref(found.record, checkpointId);
      await this.#list(
        found.record,
        found.record.checkpoints.filter((c) => c.id !== checkpointId),
      );
    });
    await this.#ws.collectCheckpoints(tenant);
  }

  #ref(record: WorkspaceRecord, checkpointId: string): CheckpointRef {
    const ref = CHECKPOINT_ID.test(checkpointId)
      ? record.checkpoints.find((c) => c.id === checkpointId)
      : undefined;
    if (ref === undefined) throw checkpointNotFound(checkpointId);
    return ref;
  }

  async #manifest(
    tenant: string,
    record: WorkspaceRecord,
    checkpointId: string,
  ): Promise<Manifest> {
    this.#ref(record, checkpointId);
    const manifest = await this.#ws.store.getManifest(tenant, checkpointId);
    if (manifest === null) throw checkpointNotFound(checkpointId);
    return manifest;
  }

  /** Brings a workspace back to one of its checkpoints (`POST …/checkpoints/{id}:restore`). */
  async restore(tenant: string, id: string, checkpointId: string): Promise<Restored> {
    const ws = this.#ws;
    return ws.withMaintenance(tenant, id, async (found, hidden) => {
      const manifest = await this.#manifest(tenant, found.record, checkpointId);
      const used = await ws.usage(tenant);
      const tree = await ws.usageOf(tenant, id);
      const without = { bytes: used.bytes - tree.bytes, files: used.files - tree.files };
      assertRoom(ws.limits, without, { bytes: manifest.sizeBytes, files: manifest.files });
      const leave = await ws.store.lock(tenant);
      try {
        const restored = await restoreTree(found.tree, manifest, {
          store: ws.store,
          tenant,
          cache: ws.hashCache(tenant, id),
          hidden,
          entriesMax: ws.limits.tenantWorkspaceFilesMax,
        });
        ws.setUsage(tenant, id, {
          bytes: manifest.sizeBytes,
          files: manifest.files,
          truncated: false,
        });
        return restored;
      } finally {
        leave();
      }
    });
  }

  /**
   * A new workspace holding one of a workspace's checkpoints (`POST …/checkpoints/{id}:fork`);
   * the checkpoint is in the new workspace's list too, so it can be restored there.
   */
  async fork(
    tenant: string,
    id: string,
    checkpointId: string,
    body: WorkspaceCreate,
  ): Promise<{ record: WorkspaceRecord; restored: Restored }> {
    const ws = this.#ws;
    const source = await ws.get(tenant, id);
    const manifest = await this.#manifest(tenant, source, checkpointId);
    const used = await ws.usage(tenant);
    assertRoom(ws.limits, used, { bytes: manifest.sizeBytes, files: manifest.files });
    const created = await ws.create(tenant, body);
    try {
      return await ws.withMaintenance(tenant, created.id, async (found, hidden) => {
        const ref = { id: checkpointId, createdAtMs: this.#nowMs() };
        const record = { ...found.record, checkpoints: [ref] };
        // Listed before the files are copied: the collector must keep its blobs meanwhile.
        await ws.catalog.put(record);
        const leave = await ws.store.lock(tenant);
        try {
          const restored = await restoreTree(found.tree, manifest, {
            store: ws.store,
            tenant,
            cache: ws.hashCache(tenant, created.id),
            hidden,
            entriesMax: ws.limits.tenantWorkspaceFilesMax,
          });
          ws.setUsage(tenant, created.id, {
            bytes: manifest.sizeBytes,
            files: manifest.files,
            truncated: false,
          });
          ws.log("info", "sandbox.checkpoint.forked", {
            tenant,
            workspace: id,
            checkpoint_id: checkpointId,
            into: created.id,
          });
          return { record, restored };
        } finally {
          leave();
        }
      });
    } catch (error) {
      await ws.remove(tenant, created.id).catch(() => undefined);
      throw error;
    }
  }
}

function info(ref: CheckpointRef, manifest: Manifest): CheckpointInfo {
  return {
    id: ref.id,
    createdAtMs: ref.createdAtMs,
    sizeBytes: manifest.sizeBytes,
    files: manifest.files,
  };
}
