/**
 * Checkpoint and restore of a tree, below the HTTP layer: byte-exact round trips of every kind
 * of entry, a store whose blobs never share an inode with a workspace file, and the work an
 * unchanged file saves (with the hash cache's racy margin at zero, as only a test may set it).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildManifest, parseManifest } from "../../../src/sandbox/checkpoint-manifest.ts";
import { CheckpointStore } from "../../../src/sandbox/checkpoint-store.ts";
import { HashCache, restoreTree, snapshotTree } from "../../../src/sandbox/checkpoint-tree.ts";
import { disposeServers, scratchDir } from "./server-harness.ts";
import { treeState } from "./tree-state.ts";

afterAll(disposeServers);

const TENANT = "acme";

function setup(cache = new HashCache()) {
  const root = scratchDir("vltair-ckpt-");
  const tree = path.join(root, "tree");
  fs.mkdirSync(tree);
  const store = new CheckpointStore(path.join(root, "store-root"));
  const options = { store, tenant: TENANT, cache, hidden: [], entriesMax: 100_000 };
  return { root, tree, store, options };
}

/** Every kind of entry, binary content, odd modes, a large file (copied, not read whole). */
function fill(tree: string): void {
  const w = (rel: string, data: string | Uint8Array, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(tree, rel)), { recursive: true });
    fs.writeFileSync(path.join(tree, rel), data);
    fs.chmodSync(path.join(tree, rel), mode);
  };
  w("a.txt", "alpha\n");
  w(
    "bin/every-byte",
    new Uint8Array(256).map((_, i) => i),
  );
  w("bin/big", randomBytes(3 * 1024 * 1024 + 5));
  w("bin/run.sh", "#!/bin/sh\necho hi\n", 0o755);
  w("secret", "private", 0o600);
  w("empty", "");
  w("deep/er/still/x", "x");
  fs.mkdirSync(path.join(tree, "empty-dir"));
  fs.symlinkSync("a.txt", path.join(tree, "link"));
  fs.symlinkSync("/etc/hostname", path.join(tree, "abs-link"));
  fs.symlinkSync("nowhere", path.join(tree, "dangling"));
  fs.chmodSync(path.join(tree, "deep/er"), 0o555);
}

async function take(tree: string, options: ReturnType<typeof setup>["options"]) {
  const snap = await snapshotTree(tree, options);
  const manifest = await options.store.putManifest(TENANT, snap.entries);
  return { snap, manifest };
}

/** Changes everything a run could change. */
function mangle(tree: string): void {
  fs.chmodSync(path.join(tree, "deep/er"), 0o755);
  fs.appendFileSync(path.join(tree, "a.txt"), "tampered");
  fs.writeFileSync(path.join(tree, "bin/big"), "small now");
  fs.chmodSync(path.join(tree, "bin/run.sh"), 0o644);
  fs.rmSync(path.join(tree, "deep"), { recursive: true });
  fs.writeFileSync(path.join(tree, "deep"), "a file where a directory was");
  fs.rmSync(path.join(tree, "empty-dir"), { recursive: true });
  fs.rmSync(path.join(tree, "empty"));
  fs.mkdirSync(path.join(tree, "empty"));
  fs.unlinkSync(path.join(tree, "link"));
  fs.symlinkSync("secret", path.join(tree, "link"));
  fs.mkdirSync(path.join(tree, "new/dir"), { recursive: true });
  fs.writeFileSync(path.join(tree, "new/dir/f"), "new");
  fs.chmodSync(path.join(tree, "new/dir"), 0o500);
  fs.symlinkSync("/", path.join(tree, "new/root-link"));
}

describe("snapshotTree / restoreTree", () => {
  test("a mangled tree comes back byte-exact: files, modes, links, empty ones, a read-only directory", async () => {
    const { tree, options } = setup();
    fill(tree);
    const before = treeState(tree);
    const { snap, manifest } = await take(tree, options);
    expect(snap.truncated).toBe(false);
    expect(manifest.files).toBe(before.length);
    mangle(tree);
    expect(treeState(tree)).not.toEqual(before);
    const done = await restoreTree(tree, manifest, options);
    expect(treeState(tree)).toEqual(before);
    expect(done.removed).toBeGreaterThan(0);
    // And from nothing at all.
    fs.rmSync(tree, { recursive: true, force: true });
    fs.mkdirSync(tree);
    await restoreTree(tree, manifest, options);
    expect(treeState(tree)).toEqual(before);
  });

  test("the same tree has the same id; a one-byte change gives another", async () => {
    const { tree, options } = setup();
    fill(tree);
    const first = await take(tree, options);
    const second = await take(tree, options);
    expect(second.manifest.id).toBe(first.manifest.id);
    expect(first.manifest.id).toMatch(/^[0-9a-f]{64}$/);
    fs.writeFileSync(path.join(tree, "a.txt"), "alphA\n");
    expect((await take(tree, options)).manifest.id).not.toBe(first.manifest.id);
  });

  test("blobs are read-only copies named by their content; restored files never share their inode", async () => {
    const { tree, store, options } = setup();
    fill(tree);
    const { manifest } = await take(tree, options);
    const files = manifest.entries.filter((e) => e[1] === "f");
    for (const e of files) {
      const blob = store.blobPath(TENANT, e[3] as string);
      const info = fs.statSync(blob);
      expect(info.nlink).toBe(1);
      expect(info.mode & 0o777).toBe(0o444);
      expect(createHash("sha256").update(fs.readFileSync(blob)).digest("hex")).toBe(e[3]);
    }
    await restoreTree(tree, manifest, options);
    for (const e of files) {
      const blob = fs.statSync(store.blobPath(TENANT, e[3] as string));
      expect(fs.statSync(path.join(tree, e[0])).ino).not.toBe(blob.ino);
    }
    // Writing restored files in place (as a run would, after chmod) leaves the checkpoint intact.
    const before = treeState(tree);
    for (const e of files) {
      const abs = path.join(tree, e[0]);
      fs.chmodSync(abs, 0o644);
      const fd = fs.openSync(abs, "r+");
      fs.writeSync(fd, "XXXX", 0);
      fs.closeSync(fd);
    }
    await restoreTree(tree, manifest, options);
    expect(treeState(tree)).toEqual(before);
  });

  test("unchanged files are neither stored nor rewritten again", async () => {
    const { tree, options } = setup(new HashCache({ racyMarginNs: 0n }));
    fill(tree);
    const first = await take(tree, options);
    expect(first.snap.addedBytes).toBe(first.manifest.sizeBytes);
    fs.writeFileSync(path.join(tree, "a.txt"), "changed, longer\n");
    const second = await take(tree, options);
    expect(second.snap.addedBytes).toBe("changed, longer\n".length);
    const done = await restoreTree(tree, first.manifest, options);
    // Six other files and three links are already right.
    expect(done).toEqual({ written: 1, removed: 0, unchanged: 9 });
    expect(fs.readFileSync(path.join(tree, "a.txt"), "utf8")).toBe("alpha\n");
  });

  test("a fresh hash cache (after a restart) still restores byte-exact", async () => {
    const { tree, options } = setup();
    fill(tree);
    const before = treeState(tree);
    const { manifest } = await take(tree, options);
    mangle(tree);
    await restoreTree(tree, manifest, { ...options, cache: new HashCache() });
    expect(treeState(tree)).toEqual(before);
  });

  test("the collector keeps what a kept manifest names and removes the rest", async () => {
    const { tree, store, options } = setup();
    fill(tree);
    const keep = await take(tree, options);
    fs.writeFileSync(path.join(tree, "only-in-second"), "second");
    const drop = await take(tree, options);
    const removed = await store.collect(TENANT, new Set([keep.manifest.id]));
    expect(removed).toEqual({ manifests: 1, blobs: 1 });
    expect(await store.getManifest(TENANT, drop.manifest.id)).toBeNull();
    await restoreTree(
      tree,
      (await store.getManifest(TENANT, keep.manifest.id)) ?? keep.manifest,
      options,
    );
    expect(fs.existsSync(path.join(tree, "only-in-second"))).toBe(false);
    // Seven distinct contents in fill().
    expect(await store.collect(TENANT, new Set())).toEqual({ manifests: 1, blobs: 7 });
  });
});

describe("parseManifest", () => {
  test("a manifest is checked like untrusted input", () => {
    const sha = "0".repeat(64);
    const bad: unknown[][] = [
      [["../x", "f", 0o644, sha, 1]],
      [["/x", "f", 0o644, sha, 1]],
      [["a/./b", "d", 0o755]],
      [
        ["l", "l", "/etc"],
        ["l/x", "f", 0o644, sha, 1],
      ],
      [["nodir/x", "f", 0o644, sha, 1]],
      [["x", "f", 0o4755, sha, 1]],
      [["x", "q", 0o644]],
    ];
    for (const entries of bad) {
      const text = JSON.stringify({ v: 1, entries });
      const id = createHash("sha256").update(text).digest("hex");
      expect(() => parseManifest(id, text)).toThrow(expect.objectContaining({ code: "internal" }));
    }
    const good = buildManifest([
      ["d", "d", 0o755],
      ["d/x", "f", 0o644, sha, 1],
    ]);
    expect(parseManifest(good.id, good.text).files).toBe(2);
    expect(() => parseManifest("f".repeat(64), good.text)).toThrow(
      expect.objectContaining({ code: "internal" }),
    );
  });
});
