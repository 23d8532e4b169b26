/**
 * Workspaces and their checkpoints as a service: every method takes the `Call` (ARCHITECTURE
 * decision 9), checks the caller's role with the one authorizer, and works in the caller's
 * tenant only. HTTP routes, the CLI's in-process path and orchestrator steps all come through
 * here, so none of them can reach a workspace without the role, or another tenant's at all.
 */
import { authorize, type Call } from "../core/mod.ts";
import type { Restored } from "./checkpoint-tree.ts";
import type { WorkspaceRecord } from "./workspace-catalog.ts";
import type { CheckpointInfo, Taken, WorkspaceCheckpoints } from "./workspace-checkpoints.ts";
import type { ReadResult, WriteResult } from "./workspace-files.ts";
import type { WorkspaceCreate } from "./workspace-schema.ts";
import type { Workspaces } from "./workspaces.ts";

/** A workspace with its size, as `GET /v1/sandbox/workspaces/{ws}` shows it. */
export interface WorkspaceDetail {
  record: WorkspaceRecord;
  sizeBytes: number;
  files: number;
}

const tenantOf = (call: Call) => call.principal.tenant;
// Every method is async so that a refusal is a rejected promise, never a synchronous throw.

/**
 * The workspace service of a server.
 *
 * @example
 * ```ts
 * const service = new WorkspaceService(workspaces, checkpoints);
 * const ws = await service.create(call, { name: "try", ttl_ms: 3_600_000 });
 * ```
 */
export class WorkspaceService {
  readonly #ws: Workspaces;
  readonly #ck: WorkspaceCheckpoints;

  constructor(workspaces: Workspaces, checkpoints: WorkspaceCheckpoints) {
    this.#ws = workspaces;
    this.#ck = checkpoints;
  }

  /** A named workspace of the caller's tenant. */
  async create(call: Call, body: WorkspaceCreate): Promise<WorkspaceRecord> {
    authorize(call, "writer", "sandbox.workspace.create");
    return this.#ws.create(tenantOf(call), body);
  }

  /** The caller's workspaces, the default one included. */
  async list(call: Call): Promise<WorkspaceRecord[]> {
    authorize(call, "reader", "sandbox.workspace.read");
    return this.#ws.list(tenantOf(call));
  }

  /** One workspace and its size. */
  async show(call: Call, id: string): Promise<WorkspaceDetail> {
    authorize(call, "reader", "sandbox.workspace.read");
    const record = await this.#ws.get(tenantOf(call), id);
    const usage = await this.#ws.usageOf(tenantOf(call), id);
    return { record, sizeBytes: usage.bytes, files: usage.files };
  }

  /** Deletes a named workspace with its files and checkpoints. */
  async remove(call: Call, id: string): Promise<WorkspaceRecord> {
    authorize(call, "writer", "sandbox.workspace.delete");
    return this.#ws.remove(tenantOf(call), id);
  }

  /** Writes a file from a byte stream. */
  async writeFile(
    call: Call,
    id: string,
    path: string,
    file: { body: ReadableStream<Uint8Array> | null; mode: number | null },
  ): Promise<WriteResult> {
    authorize(call, "writer", "sandbox.files.write");
    return this.#ws.writeFile(tenantOf(call), id, path, file.body, file.mode);
  }

  /** The directory of a workspace of the caller's tenant (404 for another's or an unknown id). */
  async treeFor(call: Call, id: string): Promise<string> {
    authorize(call, "reader", "sandbox.files.read");
    return (await this.#ws.find(tenantOf(call), id)).tree;
  }

  /** Opens a file (the caller closes the handle) or lists a directory. */
  async readPath(call: Call, id: string, path: string): Promise<ReadResult> {
    authorize(call, "reader", "sandbox.files.read");
    return this.#ws.readPath(tenantOf(call), id, path);
  }

  /** Deletes a file, a link or a directory. */
  async removePath(call: Call, id: string, path: string): Promise<void> {
    authorize(call, "writer", "sandbox.files.delete");
    return this.#ws.removePath(tenantOf(call), id, path);
  }

  /** Takes a checkpoint of a workspace. */
  async takeCheckpoint(call: Call, id: string): Promise<Taken> {
    authorize(call, "writer", "sandbox.checkpoint.take");
    return this.#ck.take(tenantOf(call), id);
  }

  /** A workspace's checkpoints. */
  async listCheckpoints(call: Call, id: string): Promise<CheckpointInfo[]> {
    authorize(call, "reader", "sandbox.checkpoint.read");
    return this.#ck.list(tenantOf(call), id);
  }

  /** Drops a checkpoint from a workspace. */
  async removeCheckpoint(call: Call, id: string, checkpointId: string): Promise<void> {
    authorize(call, "writer", "sandbox.checkpoint.delete");
    return this.#ck.remove(tenantOf(call), id, checkpointId);
  }

  /** Brings a workspace back to one of its checkpoints. */
  async restoreCheckpoint(call: Call, id: string, checkpointId: string): Promise<Restored> {
    authorize(call, "writer", "sandbox.checkpoint.restore");
    return this.#ck.restore(tenantOf(call), id, checkpointId);
  }

  /** A new workspace holding one of a workspace's checkpoints. */
  async forkCheckpoint(
    call: Call,
    id: string,
    checkpointId: string,
    body: WorkspaceCreate,
  ): Promise<{ record: WorkspaceRecord; restored: Restored }> {
    authorize(call, "writer", "sandbox.checkpoint.fork");
    return this.#ck.fork(tenantOf(call), id, checkpointId, body);
  }

  /** Deletes expired workspaces and leftovers (start-up and the periodic sweep; no caller). */
  sweep(): Promise<{ expired: number; orphans: number }> {
    return this.#ws.sweep();
  }
}
