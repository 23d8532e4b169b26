/**
 * The manifest of a checkpoint: every directory, file and symlink of a workspace tree, sorted by
 * path, with permission bits, a file's SHA-256 and size, a link's target. Its canonical JSON
 * text is what the checkpoint id hashes, so the same tree always has the same id (mtimes,
 * owners and inode numbers are left out on purpose). A manifest read back is checked as
 * untrusted input: relative normalised paths, every parent a directory of the manifest, so a
 * restore never writes through a link or outside the tree.
 */
import { createHash } from "node:crypto";
import * as v from "valibot";
import { VltairError } from "../core/mod.ts";
import { normalizeWorkspacePath } from "./workspace-path.ts";

/** Format version, part of the hashed text. */
const MANIFEST_VERSION = 1;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const mode = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0o777));

/** One entry: `[path, "d", mode]`, `[path, "f", mode, sha256, size]` or `[path, "l", target]`. */
const EntrySchema = v.union([
  v.tuple([v.string(), v.literal("d"), mode]),
  v.tuple([
    v.string(),
    v.literal("f"),
    mode,
    v.pipe(v.string(), v.regex(SHA256_HEX)),
    v.pipe(v.number(), v.integer(), v.minValue(0)),
  ]),
  v.tuple([v.string(), v.literal("l"), v.pipe(v.string(), v.minLength(1), v.maxLength(4096))]),
]);
const ManifestSchema = v.strictObject({
  v: v.literal(MANIFEST_VERSION),
  entries: v.array(EntrySchema),
});

/** A manifest entry. */
export type ManifestEntry = v.InferOutput<typeof EntrySchema>;

/** A manifest with its id and totals. */
export interface Manifest {
  id: string;
  entries: ManifestEntry[];
  /** Bytes of its files. */
  sizeBytes: number;
  /** Its entries (directories, files, links). */
  files: number;
}

function totals(entries: readonly ManifestEntry[]) {
  let sizeBytes = 0;
  for (const e of entries) if (e[1] === "f") sizeBytes += e[4];
  return { sizeBytes, files: entries.length };
}

/** Byte order of UTF-8 paths: the same on every runtime and locale. */
function comparePaths(a: ManifestEntry, b: ManifestEntry): number {
  return Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0]));
}

/**
 * The canonical text and id of a set of entries.
 *
 * @example
 * ```ts
 * const m = buildManifest([["src", "d", 0o755], ["src/a.ts", "f", 0o644, sha, 12]]);
 * m.id; // 64 hex
 * ```
 */
export function buildManifest(entries: ManifestEntry[]): Manifest & { text: string } {
  const sorted = [...entries].sort(comparePaths);
  const text = JSON.stringify({ v: MANIFEST_VERSION, entries: sorted });
  const id = createHash("sha256").update(text).digest("hex");
  return { id, text, entries: sorted, ...totals(sorted) };
}

function damaged(id: string, why: string): VltairError {
  return new VltairError("internal", `checkpoint manifest is damaged: ${why}`, {
    details: { checkpoint_id: id },
  });
}

/**
 * Parses a manifest read from the store and checks it against its id and its structure.
 * Throws `internal` when it is damaged (it was written by the server).
 */
export function parseManifest(id: string, text: string): Manifest {
  if (createHash("sha256").update(text).digest("hex") !== id) throw damaged(id, "hash mismatch");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw damaged(id, "not JSON");
  }
  const parsed = v.safeParse(ManifestSchema, json);
  if (!parsed.success) throw damaged(id, "bad shape");
  const dirs = new Set<string>([""]);
  for (const entry of parsed.output.entries) {
    const path = entry[0];
    let normal: string;
    try {
      normal = normalizeWorkspacePath(path);
    } catch {
      throw damaged(id, "bad path");
    }
    const parent = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    if (normal !== path || path === "" || !dirs.has(parent)) throw damaged(id, "bad path");
    if (entry[1] === "d") dirs.add(path);
  }
  return { id, entries: parsed.output.entries, ...totals(parsed.output.entries) };
}
