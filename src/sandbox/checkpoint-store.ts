/**
 * The content store of a tenant's checkpoints: `blobs/<aa>/<sha256>` holds each distinct file
 * content once, read-only (0444), and `manifests/<id>.json` each checkpoint's manifest. A blob
 * is a copy (a reflink where the file system has them), never a hard link to a workspace file:
 * a run can `chmod` and rewrite any file of its workspace in place, and through a shared inode
 * it would rewrite the checkpoint too. Nothing is ever rewritten here: a blob is made under a
 * temp name, hashed as stored, and renamed to its hash, so its name always matches its bytes.
 *
 * The store of a tenant is used under its lock (`lock`): checkpoints add blobs before their
 * manifest is referenced, and the collector must not take those for garbage.
 */
import { createHash, randomUUID } from "node:crypto";
import { constants } from "node:fs";
import {
  chmod,
  copyFile,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import {
  buildManifest,
  type Manifest,
  type ManifestEntry,
  parseManifest,
} from "./checkpoint-manifest.ts";
import type { TreeUsage } from "./tree-walk.ts";
import { type GateRelease, WorkspaceGate } from "./workspace-gate.ts";
import { isMissing } from "./workspace-path.ts";

/** Bytes read per call while hashing a blob. */
const HASH_CHUNK_BYTES = 1024 * 1024;
/**
 * Files up to this size are read once into memory, hashed, and written only when the store
 * lacks them; larger ones are copied by the kernel (a reflink where possible) and hashed as
 * stored, so memory stays bounded whatever the file size.
 */
const SMALL_FILE_BYTES = 1024 * 1024;
/** Mode of a blob: nobody writes it, the store replaces it at most. */
const BLOB_MODE = 0o444;

/** Hashes a file by reading it in chunks. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buffer = new Uint8Array(HASH_CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

/** What storing a file did. */
export interface Stored {
  sha256: string;
  /** Whether a new blob was made (false when the content was there already). */
  added: boolean;
  addedBytes: number;
}

/**
 * The checkpoint stores of every tenant, under one root.
 *
 * @example
 * ```ts
 * const store = new CheckpointStore("/var/lib/vltair/sandbox");
 * const leave = await store.lock("acme");
 * try { await store.storeFile("acme", "/srv/ws/a.txt"); } finally { leave(); }
 * ```
 */
export class CheckpointStore {
  readonly #root: string;
  readonly #locks = new Map<string, WorkspaceGate>();
  readonly #usage = new Map<string, TreeUsage>();
  /** Per tenant: hashes of the blobs present (read once from disk), so a lookup costs no I/O. */
  readonly #blobs = new Map<string, Set<string>>();
  /** Directories known to exist (`tmp`, `blobs/<aa>`), so each is made once. */
  readonly #dirs = new Set<string>();

  constructor(root: string) {
    this.#root = root;
  }

  #dir(tenant: string): string {
    return join(this.#root, tenant, "store");
  }

  /** Path of the blob of a content hash. */
  blobPath(tenant: string, sha256: string): string {
    return join(this.#dir(tenant), "blobs", sha256.slice(0, 2), sha256);
  }

  #manifestPath(tenant: string, id: string): string {
    return join(this.#dir(tenant), "manifests", `${id}.json`);
  }

  /** Takes the tenant's store (FIFO); the release is idempotent. */
  lock(tenant: string): Promise<GateRelease> {
    let gate = this.#locks.get(tenant);
    if (gate === undefined) {
      gate = new WorkspaceGate();
      this.#locks.set(tenant, gate);
    }
    // No run ever enters this gate, so maintenance is a plain FIFO mutex here.
    return gate.enterMaintenance();
  }

  async #ensureDir(dir: string): Promise<void> {
    if (this.#dirs.has(dir)) return;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    this.#dirs.add(dir);
  }

  async #known(tenant: string): Promise<Set<string>> {
    let known = this.#blobs.get(tenant);
    if (known === undefined) {
      const paths = await listFiles(join(this.#dir(tenant), "blobs"));
      known = new Set(paths.map((path) => path.slice(path.lastIndexOf("/") + 1)));
      this.#blobs.set(tenant, known);
    }
    return known;
  }

  /**
   * Copies a workspace file (a regular file of `sizeBytes`) into the store, once per content;
   * the caller holds the lock.
   */
  async storeFile(tenant: string, abs: string, sizeBytes: number): Promise<Stored> {
    const known = await this.#known(tenant);
    const tmpDir = join(this.#dir(tenant), "tmp");
    await this.#ensureDir(tmpDir);
    const temp = join(tmpDir, randomUUID());
    let sha256: string;
    let size: number;
    if (sizeBytes <= SMALL_FILE_BYTES) {
      const bytes = await readFile(abs, { flag: constants.O_RDONLY | constants.O_NOFOLLOW });
      sha256 = createHash("sha256").update(bytes).digest("hex");
      if (known.has(sha256)) return { sha256, added: false, addedBytes: 0 };
      // 0444 survives any umask; the blob is never opened for writing again.
      await writeFile(temp, bytes, { flag: "wx", mode: BLOB_MODE });
      size = bytes.length;
    } else {
      await copyFile(abs, temp, constants.COPYFILE_FICLONE);
      try {
        sha256 = await hashFile(temp);
        size = (await stat(temp)).size;
        if (known.has(sha256)) {
          await rm(temp, { force: true });
          return { sha256, added: false, addedBytes: 0 };
        }
        await chmod(temp, BLOB_MODE);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    }
    await this.#ensureDir(join(this.#dir(tenant), "blobs", sha256.slice(0, 2)));
    await rename(temp, this.blobPath(tenant, sha256));
    known.add(sha256);
    this.#count(tenant, size, 1);
    return { sha256, added: true, addedBytes: size };
  }

  /** Writes a manifest (idempotent: the same id is the same text). */
  async putManifest(
    tenant: string,
    entries: ManifestEntry[],
  ): Promise<Manifest & { added: boolean }> {
    const manifest = buildManifest(entries);
    const path = this.#manifestPath(tenant, manifest.id);
    if (
      await stat(path).then(
        () => true,
        () => false,
      )
    )
      return { ...manifest, added: false };
    await mkdir(join(this.#dir(tenant), "manifests"), { recursive: true, mode: 0o700 });
    const temp = `${path}.${randomUUID()}`;
    const handle = await open(temp, "wx", 0o400);
    try {
      await handle.writeFile(manifest.text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    this.#count(tenant, manifest.text.length, 1);
    return { ...manifest, added: true };
  }

  /** A manifest, checked; null when the store has none of that id. */
  async getManifest(tenant: string, id: string): Promise<Manifest | null> {
    const text = await readFile(this.#manifestPath(tenant, id), "utf8").catch((error: unknown) => {
      if (isMissing(error)) return null;
      throw error;
    });
    return text === null ? null : parseManifest(id, text);
  }

  /** Bytes and entries of the tenant's store (walked once, then kept up to date). */
  async usage(tenant: string): Promise<TreeUsage> {
    const known = this.#usage.get(tenant);
    if (known !== undefined) return known;
    let bytes = 0;
    let files = 0;
    for (const sub of ["blobs", "manifests"]) {
      for (const path of await listFiles(join(this.#dir(tenant), sub))) {
        const info = await stat(path).catch(() => null);
        if (info === null) continue;
        bytes += info.size;
        files += 1;
      }
    }
    const usage = { bytes, files, truncated: false };
    this.#usage.set(tenant, usage);
    return usage;
  }

  #count(tenant: string, bytes: number, files: number): void {
    const known = this.#usage.get(tenant);
    if (known === undefined) return;
    this.#usage.set(tenant, { ...known, bytes: known.bytes + bytes, files: known.files + files });
  }

  /**
   * Removes every manifest not in `keep` and every blob no kept manifest names; the caller
   * holds the lock. Returns what it removed.
   */
  async collect(
    tenant: string,
    keep: ReadonlySet<string>,
  ): Promise<{ manifests: number; blobs: number }> {
    const live = new Set<string>();
    let manifests = 0;
    for (const path of await listFiles(join(this.#dir(tenant), "manifests"))) {
      const id = path.slice(path.lastIndexOf("/") + 1).replace(/\.json$/, "");
      if (keep.has(id)) {
        const manifest = await this.getManifest(tenant, id);
        for (const entry of manifest?.entries ?? []) if (entry[1] === "f") live.add(entry[3]);
        continue;
      }
      await rm(path, { force: true });
      manifests += 1;
    }
    let blobs = 0;
    const known = await this.#known(tenant);
    for (const path of await listFiles(join(this.#dir(tenant), "blobs"))) {
      const sha256 = path.slice(path.lastIndexOf("/") + 1);
      if (live.has(sha256)) continue;
      await rm(path, { force: true });
      known.delete(sha256);
      blobs += 1;
    }
    // Leftovers of a crash mid-store; nothing else is in tmp while the lock is held.
    const tmpDir = join(this.#dir(tenant), "tmp");
    await rm(tmpDir, { recursive: true, force: true });
    this.#dirs.delete(tmpDir);
    if (manifests + blobs > 0) this.#usage.delete(tenant);
    return { manifests, blobs };
  }
}

/** Regular files below `dir` (two levels at most: blobs/<aa>/<hash>). */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const names = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
    if (isMissing(error)) return [];
    throw error;
  });
  for (const entry of names) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      for (const inner of await readdir(path, { withFileTypes: true })) {
        if (inner.isFile()) out.push(join(path, inner.name));
      }
    } else if (entry.isFile()) out.push(path);
  }
  return out;
}
