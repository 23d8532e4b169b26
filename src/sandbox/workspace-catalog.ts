/**
 * Where workspace metadata lives: one `meta.json` beside each workspace's tree, under
 * `<root>/<tenant>/workspaces/<id>/`. It is the only module that reads or writes that file, so
 * the metadata can move into the WAL (issue 15) by replacing this module behind the same
 * interface. Writes are atomic (temp file, fsync, rename), so a crash leaves the old or the
 * new record, never half of one; a workspace directory without a record is a crashed creation
 * or deletion, and `orphans` lists it for the sweep.
 */
import { randomUUID } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { VltairError } from "../core/mod.ts";
import { isMissing } from "./workspace-path.ts";

/** Format version of `meta.json`. */
const META_VERSION = 1;
const META_FILE = "meta.json";

/** The id of every tenant's default workspace (the one `POST /v1/sandbox/exec` runs in). */
export const DEFAULT_WORKSPACE_ID = "default";
/** Ids of named workspaces: `ws_` and 20 base-32 characters (100 random bits). */
export const WORKSPACE_ID = /^ws_[a-z2-7]{20}$/;
/** Checkpoint ids: the SHA-256 of their manifest, lower-case hex. */
export const CHECKPOINT_ID = /^[0-9a-f]{64}$/;

const RecordSchema = v.strictObject({
  version: v.literal(META_VERSION),
  id: v.union([v.literal(DEFAULT_WORKSPACE_ID), v.pipe(v.string(), v.regex(WORKSPACE_ID))]),
  tenant: v.string(),
  name: v.nullable(v.string()),
  created_at_ms: v.number(),
  expires_at_ms: v.nullable(v.number()),
  checkpoints: v.array(
    v.strictObject({ id: v.pipe(v.string(), v.regex(CHECKPOINT_ID)), created_at_ms: v.number() }),
  ),
});

/** A checkpoint as a workspace lists it. */
export interface CheckpointRef {
  id: string;
  createdAtMs: number;
}

/** One workspace's metadata. */
export interface WorkspaceRecord {
  id: string;
  tenant: string;
  name: string | null;
  createdAtMs: number;
  /** Null for the default workspace, which never expires. */
  expiresAtMs: number | null;
  /** Checkpoints taken of (or forked into) this workspace, oldest first. */
  checkpoints: CheckpointRef[];
}

/** True for a workspace id of the API (the default one or a named one). */
export function isWorkspaceId(id: string): boolean {
  return id === DEFAULT_WORKSPACE_ID || WORKSPACE_ID.test(id);
}

/** A new random id of a named workspace. */
export function newWorkspaceId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return `ws_${Array.from(bytes, (b) => alphabet[b & 31]).join("")}`;
}

/**
 * The catalog of one server: records of every tenant's workspaces on disk.
 *
 * @example
 * ```ts
 * const catalog = new WorkspaceCatalog("/var/lib/vltair/sandbox");
 * await catalog.put(record);
 * await catalog.get("acme", record.id);
 * ```
 */
export class WorkspaceCatalog {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** The directory of a workspace (its record and, for a named one, its tree). */
  dirOf(tenant: string, id: string): string {
    return join(this.root, tenant, "workspaces", id);
  }

  /** The record, or null when there is none (never created, deleted, or unreadable). */
  async get(tenant: string, id: string): Promise<WorkspaceRecord | null> {
    let text: string;
    try {
      text = await readFile(join(this.dirOf(tenant, id), META_FILE), "utf8");
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    const parsed = v.safeParse(RecordSchema, safeJson(text));
    if (!parsed.success || parsed.output.tenant !== tenant || parsed.output.id !== id) {
      throw new VltairError("internal", "workspace metadata is damaged", {
        details: { tenant, workspace: id },
      });
    }
    const r = parsed.output;
    return {
      id: r.id,
      tenant: r.tenant,
      name: r.name,
      createdAtMs: r.created_at_ms,
      expiresAtMs: r.expires_at_ms,
      checkpoints: r.checkpoints.map((c) => ({ id: c.id, createdAtMs: c.created_at_ms })),
    };
  }

  /** Writes (creates or replaces) a record atomically. */
  async put(record: WorkspaceRecord): Promise<void> {
    const dir = this.dirOf(record.tenant, record.id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const body = JSON.stringify({
      version: META_VERSION,
      id: record.id,
      tenant: record.tenant,
      name: record.name,
      created_at_ms: record.createdAtMs,
      expires_at_ms: record.expiresAtMs,
      checkpoints: record.checkpoints.map((c) => ({ id: c.id, created_at_ms: c.createdAtMs })),
    });
    const temp = join(dir, `.${META_FILE}.${randomUUID()}`);
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, META_FILE));
  }

  /** Removes a record (the tree is the caller's); absent is fine. */
  async remove(tenant: string, id: string): Promise<void> {
    await rm(join(this.dirOf(tenant, id), META_FILE), { force: true });
  }

  /** Tenants that have a catalog directory. */
  async tenants(): Promise<string[]> {
    return listNames(this.root);
  }

  /**
   * Records of a tenant (named workspaces and the default one when it has a record); a damaged
   * record is left out here (a `get` of it is `internal`).
   */
  async list(tenant: string): Promise<WorkspaceRecord[]> {
    const out: WorkspaceRecord[] = [];
    for (const id of await listNames(join(this.root, tenant, "workspaces"))) {
      if (!isWorkspaceId(id)) continue;
      const record = await this.get(tenant, id).catch(() => null);
      if (record !== null) out.push(record);
    }
    return out.sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  /**
   * Workspace directories of a tenant without a record (a crash mid-create or mid-delete). A
   * damaged record is not an orphan: its tree is kept for the operator.
   */
  async orphans(tenant: string): Promise<string[]> {
    const out: string[] = [];
    for (const id of await listNames(join(this.root, tenant, "workspaces"))) {
      if (id === DEFAULT_WORKSPACE_ID) continue;
      const missing = await this.get(tenant, id).then(
        (record) => record === null,
        () => false,
      );
      if (missing) out.push(id);
    }
    return out;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function listNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}
