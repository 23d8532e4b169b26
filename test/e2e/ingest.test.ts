/** `vltair ingest` and `vltair search` as a user runs them: on the data directory and through a server. */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import type { IngestSummary } from "../../src/cli/commands/ingest.ts";
import { hasPosixSignals } from "../../src/platform/mod.ts";
import { BUN, listeningUrl, MAIN, poll, run, start } from "../support/process.ts";
import { tempDir } from "../support/tmp.ts";

const TOKEN = "ingest-admin-token-0123456789";
const env = { VLTAIR_ADMIN_TOKEN: TOKEN, VLTAIR_TOKEN: undefined, VLTAIR_URL: undefined };

type Summary = IngestSummary;

interface Hit {
  id: string;
  score: number;
  metadata?: { path?: string; language?: string; chunk?: number; chunks?: number };
}

/** A small repository: two code files, a guide, ignored output, a log and a binary. */
function fixture(cwd: string): void {
  const write = (rel: string, content: string | Uint8Array) => {
    const file = path.join(cwd, "repo", rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  };
  write(".gitignore", "build/\n*.log\n");
  write(
    "src/lock.ts",
    "/** Reads the lock file of a data directory. */\nexport function parseLockFile(text: string): number {\n  return Number(text.trim());\n}\n",
  );
  const lines = Array.from({ length: 300 }, (_, i) => `export const constant${i} = ${i};`);
  write("src/constants.ts", `${lines.join("\n")}\n`);
  write("docs/guide.md", "# Guide\n\nHow to rotate the quarterly ledger reconciliation.\n");
  write("build/bundle.js", "function parseLockFile(){}\n");
  write("debug.log", "parseLockFile failed\n");
  write("logo.png", Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 1, 2, 3]));
}

async function vltair(
  cwd: string,
  argv: string[],
  extraEnv: Record<string, string | undefined> = {},
) {
  return run(BUN, [MAIN, ...argv], { cwd, env: { ...env, ...extraEnv } });
}

async function ingest(cwd: string, argv: string[]): Promise<Summary> {
  const result = await vltair(cwd, ["ingest", ...argv, "--json"]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Summary;
}

async function search(
  cwd: string,
  argv: string[],
  extraEnv: Record<string, string | undefined> = {},
): Promise<Hit[]> {
  const result = await vltair(cwd, ["search", ...argv, "--json"], extraEnv);
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { results: Hit[] }).results;
}

const paths = (hits: Hit[]) => hits.map((h) => h.metadata?.path);

/**
 * `--prune` between two ingests: a deleted, a renamed and a newly ignored file lose their
 * chunks; without `--prune` they stay; a sibling tree whose name shares the id prefix (`p2`
 * under `p`), and what a narrower `--include` could not have ingested, are never touched; a
 * second prune deletes nothing. Every file holds the word `prunetoken`, so a sparse search for
 * it lists every chunk of the scope.
 */
async function pruneScenario(
  cwd: string,
  via: IngestSummary["via"],
  batchItemsMax: number,
): Promise<void> {
  // Batch deletes a server refuses as too large are halved until they fit: one batch each, of
  // two records (the delete and its audit record).
  const records = (n: number): number =>
    n <= batchItemsMax ? 2 : records(Math.ceil(n / 2)) + records(Math.floor(n / 2));
  const scope = ["--scope", "session:prune"];
  const put = (rel: string, text: string) => {
    const file = path.join(cwd, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  };
  put("p/a.ts", "export const a = 1; // prunetoken\n");
  put(
    "p/big.ts",
    Array.from({ length: 150 }, (_, i) => `const b${i} = ${i}; // prunetoken`).join("\n"),
  );
  put("p/sub/c.md", "# C\n\nprunetoken in a guide\n");
  put("p/keep.md", "# Keep\n\nprunetoken stays\n");
  put("p2/x.ts", "export const x = 2; // prunetoken\n");
  const listed = async () => {
    const hits = await search(cwd, ["prunetoken", "--strategy", "sparse", "-k", "1000", ...scope]);
    return hits.map((h) => h.id).sort();
  };
  expect((await ingest(cwd, ["p2", ...scope])).via).toBe(via);
  const first = await ingest(cwd, ["p", ...scope, "--prune"]);
  expect(first).toMatchObject({ files: 4, pruned: 0, deleted: 0 });
  const bigChunks = (await listed()).filter((id) => id.startsWith("p/big.ts#")).length;
  expect(bigChunks).toBeGreaterThan(1);

  fs.rmSync(path.join(cwd, "p/big.ts"));
  fs.renameSync(path.join(cwd, "p/a.ts"), path.join(cwd, "p/renamed.ts"));
  put("p/.gitignore", "sub/\n");
  const kept = await ingest(cwd, ["p", ...scope]);
  expect(kept).toMatchObject({ files: 3, inserted: 2, pruned: null }); // renamed.ts, .gitignore
  expect(await listed()).toEqual(
    [
      "p/a.ts#1",
      ...Array.from({ length: bigChunks }, (_, i) => `p/big.ts#${i + 1}`),
      "p/keep.md#1",
      "p/renamed.ts#1",
      "p/sub/c.md#1",
      "p2/x.ts#1",
    ].sort(),
  );

  // A narrower --include prunes only what it could have ingested: nothing here.
  const narrow = await ingest(cwd, ["p", ...scope, "--prune", "--include", "**/*.rs"]);
  expect(narrow).toMatchObject({ files: 0, pruned: 0 });
  const pruned = await ingest(cwd, ["p", ...scope, "--prune"]);
  expect(pruned).toMatchObject({ files: 3, inserted: 0, skipped: 3, pruned: bigChunks + 2 });
  expect(pruned.wal_index).toBe((kept.wal_index ?? 0) + records(bigChunks + 2));
  expect(await listed()).toEqual(["p/keep.md#1", "p/renamed.ts#1", "p2/x.ts#1"]);
  const again = await vltair(cwd, ["ingest", "p", ...scope, "--prune"]);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain(", 0 stale deleted, 0 pruned in ");
  expect(again.stdout).toContain(`wal index ${pruned.wal_index},`);
}

describe("vltair ingest and search on the data directory", () => {
  test("ingest walks the tree, re-ingest skips everything, search finds the path", async () => {
    const cwd = tempDir();
    fixture(cwd);
    const first = await ingest(cwd, ["repo"]);
    expect(first).toMatchObject({
      files: 4, // .gitignore, src/lock.ts, src/constants.ts, docs/guide.md
      updated: 0,
      skipped: 0,
      deleted: 0,
      skipped_files: 1,
      skipped_by_reason: { binary: 1, too_large: 0, unreadable: 0 },
      via: "data_dir",
    });
    expect(first.chunks).toBeGreaterThan(5); // constants.ts spans several chunks
    expect(first.inserted).toBe(first.chunks);
    const again = await ingest(cwd, ["repo"]);
    expect(again).toMatchObject({ chunks: first.chunks, inserted: 0, updated: 0, deleted: 0 });
    expect(again.skipped).toBe(first.chunks);
    expect(again.wal_index).toBe(first.wal_index);

    const text = await vltair(cwd, ["search", "parseLockFile"]);
    expect(text.code).toBe(0);
    expect(text.stdout.split("\n")[0]).toMatch(/^repo\/src\/lock\.ts:1-4 {2}\d+\.\d{4}$/);
    const hits = await search(cwd, ["lock file", "-k", "50"]);
    expect(hits.length).toBeGreaterThan(0);
    for (const p of paths(hits)) expect(p).not.toMatch(/build\/|\.log$|\.png$/);
    const docs = await search(cwd, [
      "ledger",
      "--strategy",
      "sparse",
      "--filter",
      '{"field":"metadata.language","op":"eq","value":"markdown"}',
    ]);
    expect(paths(docs)).toEqual(["repo/docs/guide.md"]);
  }, 30_000);

  test("a file that shrank loses its surplus chunks; scopes and globs narrow an ingest", async () => {
    const cwd = tempDir();
    fixture(cwd);
    const first = await ingest(cwd, ["repo"]);
    const constants = path.join(cwd, "repo", "src", "constants.ts");
    fs.writeFileSync(constants, "export const constant0 = 0;\n");
    const shrunk = await ingest(cwd, ["repo"]);
    expect(shrunk.updated).toBe(1);
    expect(shrunk.deleted).toBe(first.chunks - shrunk.chunks);
    expect(shrunk.deleted).toBeGreaterThan(1);
    // One batch for the upsert, one batch delete for all the surplus chunks: each one record
    // and its audit record.
    expect(shrunk.wal_index).toBe((first.wal_index ?? 0) + 4);
    const left = await search(cwd, [
      "constant0",
      "-k",
      "100",
      "--filter",
      '{"field":"metadata.path","op":"eq","value":"repo/src/constants.ts"}',
    ]);
    expect(left.map((h) => h.id)).toEqual(["repo/src/constants.ts#1"]);

    const md = await ingest(cwd, ["repo", "--scope", "session:s1", "--include", "**/*.md"]);
    expect(md).toMatchObject({ files: 1, inserted: 1 });
    const inSession = await search(cwd, ["guide ledger", "--scope", "session:s1", "-k", "100"]);
    expect(paths(inSession)).toEqual(["repo/docs/guide.md"]);
    const excluded = await ingest(cwd, ["repo", "--scope", "task:t1", "--exclude", "src/**"]);
    expect(excluded).toMatchObject({ files: 2, inserted: 2 }); // .gitignore and docs/guide.md
  }, 30_000);

  test("--prune deletes the chunks of deleted, renamed and ignored files, and only those", async () => {
    await pruneScenario(tempDir(), "data_dir", 1000);
  }, 30_000);

  test("a progress-less plain summary, and search on a missing data directory exits 1", async () => {
    const cwd = tempDir();
    fixture(cwd);
    const plain = await vltair(cwd, ["ingest", "repo/src/lock.ts"]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^ingested 1 files: 1 chunks, 1 inserted, 0 updated/);
    expect(plain.stderr).toBe("");
    const missing = await vltair(cwd, ["search", "x", "--data-dir", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("not_found");
  }, 30_000);
});

describe.if(hasPosixSignals())("vltair ingest and search through a running server", () => {
  test("upserts through the server, splits batches the server refuses, and stays in the token's tenant", async () => {
    const cwd = tempDir();
    fixture(cwd);
    const server = start(
      BUN,
      [MAIN, "serve", "--port", "0", "--context-limits", '{"batch_items_max":4}'],
      { cwd, env },
    );
    try {
      const url = await listeningUrl(server);
      await poll(
        () => (server.stdout().includes('"server.ready"') ? true : undefined),
        20_000,
        "server.ready",
      );
      const first = await ingest(cwd, ["repo", "--batch", "16"]);
      expect(first).toMatchObject({ via: "server", skipped: 0, deleted: 0 });
      expect(first.inserted).toBe(first.chunks);
      const again = await ingest(cwd, ["repo"]);
      expect(again.skipped).toBe(first.chunks);
      expect(again.inserted + again.updated).toBe(0);

      const hits = await search(cwd, ["parseLockFile"]);
      expect(paths(hits)[0]).toBe("repo/src/lock.ts");
      const bad = await vltair(cwd, [
        "search",
        "x",
        "--filter",
        '{"field":"nope","op":"eq","value":1}',
      ]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("filters_invalid");

      const created = await vltair(cwd, [
        "token",
        "create",
        "--tenant",
        "other",
        "--role",
        "reader",
        "--json",
      ]);
      expect(created.code).toBe(0);
      const otherToken = (JSON.parse(created.stdout) as { token: string }).token;
      expect(await search(cwd, ["parseLockFile"], { VLTAIR_TOKEN: otherToken })).toEqual([]);
      const denied = await vltair(cwd, ["ingest", "repo"], { VLTAIR_TOKEN: otherToken });
      expect(denied.code).toBe(1);
      expect(denied.stderr).toContain("forbidden");
      const unknown = await vltair(cwd, ["search", "x"], { VLTAIR_TOKEN: "not-a-token" });
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain("unauthorized");
      // VLTAIR_URL reaches the server from anywhere, without a data directory.
      const elsewhere = tempDir();
      const remote = await search(elsewhere, ["parseLockFile"], {
        VLTAIR_URL: `${url}/`,
        VLTAIR_TOKEN: TOKEN,
      });
      expect(paths(remote)[0]).toBe("repo/src/lock.ts");
      expect(fs.readdirSync(elsewhere)).toEqual([]);
      // Pruning through the server, whose batch limit (4) splits the deletes too.
      await pruneScenario(cwd, "server", 4);
    } finally {
      server.proc.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    }
    // With the server stopped, the same data directory answers in-process, identically.
    const direct = await search(cwd, ["parseLockFile"]);
    expect(paths(direct)[0]).toBe("repo/src/lock.ts");
  }, 30_000);
});
