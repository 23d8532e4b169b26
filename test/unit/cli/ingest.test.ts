/** The pieces of `vltair ingest` and `vltair search`: ids, items, sources, progress, result lines. */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { hitLine } from "../../../src/cli/commands/search.ts";
import { listSources, readSource } from "../../../src/cli/ingest-sources.ts";
import { runCli } from "../../../src/cli/mod.ts";
import { ProgressBar, progressLine, REDRAW_INTERVAL_MS } from "../../../src/cli/progress.ts";
import { chunkDocId, fileItems } from "../../../src/context/ingest/items.ts";
import { DOC_ID_CHARS_MAX, isValidId, WALK_OPTIONS_DEFAULT } from "../../../src/context/mod.ts";
import { tempDir } from "../../support/tmp.ts";

function tree(files: Record<string, string | Uint8Array>): string {
  const root = tempDir();
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return root;
}

describe("chunk ids and items", () => {
  test("ids are <path>#<n>; a path too long for an id keeps its head and a hash", () => {
    expect(chunkDocId("src/cli/run.ts", 3)).toBe("src/cli/run.ts#3");
    const long = `${"d/".repeat(200)}file.ts`;
    const other = `${"d/".repeat(200)}other.ts`;
    const id = chunkDocId(long, 1_000_000_000);
    expect(id.length).toBeLessThanOrEqual(DOC_ID_CHARS_MAX);
    expect(id).toMatch(/^(d\/)+d?~[0-9a-f]{16}#1000000000$/);
    expect(chunkDocId(long, 1)).toBe(chunkDocId(long, 1));
    expect(chunkDocId(other, 1)).not.toBe(chunkDocId(long, 1));
    const emoji = `${"x".repeat(227)}${"😀".repeat(20)}`;
    expect(isValidId(chunkDocId(emoji, 1), DOC_ID_CHARS_MAX)).toBe(true);
  });

  test("items carry path, language, line range and the chunk count", () => {
    const source = Array.from({ length: 150 }, (_, i) => `line ${i}`).join("\n");
    const items = fileItems("lib/a.py", source, { kind: "task", id: "t1" });
    expect(items.length).toBeGreaterThan(2);
    items.forEach((item, i) => {
      expect(item.id).toBe(`lib/a.py#${i + 1}`);
      expect(item.scope).toEqual({ kind: "task", id: "t1" });
      expect(item.metadata).toMatchObject({
        path: "lib/a.py",
        language: "python",
        chunk: i + 1,
        chunks: items.length,
      });
    });
    expect(items[0]?.metadata).toMatchObject({ line_start: 1 });
    expect(items.at(-1)?.metadata).toMatchObject({ line_end: 150 });
    expect(fileItems("empty.txt", "\n\n", { kind: "global" })).toEqual([]);
  });
});

describe("sources", () => {
  test("paths are relative to the current directory; a PATH outside it is named by its base name", () => {
    const root = tree({
      ".gitignore": "out/\n",
      "src/a.ts": "a\n",
      "src/b.bin": Uint8Array.from([1, 0, 2]),
      "out/c.js": "c\n",
    });
    const inside = listSources(["src", "src/a.ts", "."], { cwd: root, walk: WALK_OPTIONS_DEFAULT });
    expect(inside.files.map((f) => f.docPath)).toEqual(["src/a.ts", ".gitignore"]);
    expect(inside.skipped).toEqual([{ docPath: "src/b.bin", reason: "binary" }]);
    expect(inside.bytesTotal).toBe(2 + 5);
    expect(inside.roots).toEqual([
      { docPath: "src", kind: "dir" },
      { docPath: "src/a.ts", kind: "file" },
      { docPath: "", kind: "dir" },
    ]);
    const outside = listSources([path.join(root, "src")], {
      cwd: path.join(root, "out"),
      walk: WALK_OPTIONS_DEFAULT,
    });
    expect(outside.files.map((f) => f.docPath)).toEqual(["src/a.ts"]);
    expect(() => listSources(["missing"], { cwd: root, walk: WALK_OPTIONS_DEFAULT })).toThrow(
      "PATH missing does not exist",
    );
  });

  test("the data directory is never walked, and a PATH inside it is a usage error", () => {
    const root = tree({
      "a.ts": "a\n",
      ".vltair/admin.token": "secret\n",
      "d[1]/admin.token": "s\n",
    });
    for (const dataDir of [".vltair", "d[1]"]) {
      const list = listSources(["."], { cwd: root, walk: WALK_OPTIONS_DEFAULT, dataDir });
      expect(list.files.map((f) => f.docPath)).not.toContain(`${dataDir}/admin.token`);
      expect(list.files.map((f) => f.docPath)).toContain("a.ts");
    }
    const opts = { cwd: root, walk: WALK_OPTIONS_DEFAULT, dataDir: ".vltair" };
    expect(() => listSources([".vltair"], opts)).toThrow("is inside the data directory");
    expect(() => listSources([".vltair/admin.token"], opts)).toThrow(
      "is inside the data directory",
    );
  });

  test("readSource repeats the walker's tests", () => {
    const root = tree({
      "t.txt": "héllo",
      "z.bin": Uint8Array.from([0x61, 0]),
      "bad.txt": Uint8Array.from([0xff, 0xfe]),
    });
    expect(readSource(path.join(root, "t.txt"), 100)).toEqual({ text: "héllo" });
    expect(readSource(path.join(root, "t.txt"), 3)).toEqual({ reason: "too_large" });
    expect(readSource(path.join(root, "z.bin"), 100)).toEqual({ reason: "binary" });
    expect(readSource(path.join(root, "bad.txt"), 100)).toEqual({ reason: "binary" });
    expect(readSource(path.join(root, "gone"), 100)).toEqual({ reason: "unreadable" });
  });
});

describe("progress and result lines", () => {
  test("the progress line shows files, chunks, rate and an ETA from bytes", () => {
    const line = progressLine({
      files: 5,
      filesTotal: 10,
      chunks: 40,
      bytes: 25,
      bytesTotal: 100,
      elapsedMs: 2000,
    });
    expect(line).toBe(
      `[${"#".repeat(6)}${".".repeat(18)}] 5/10 files  40 chunks  20 chunks/s  ETA 6s`,
    );
    const done = { files: 1, filesTotal: 1, chunks: 1, bytes: 0, bytesTotal: 0, elapsedMs: 0 };
    expect(progressLine(done)).toEndWith("0 chunks/s  ETA -");
    const slow = { ...done, bytes: 1, bytesTotal: 100, elapsedMs: 60_000 };
    expect(progressLine(slow)).toEndWith("ETA 1h39m");
  });

  test("the bar redraws at most every interval unless forced, and ends its line", () => {
    let now = 0;
    let out = "";
    const bar = new ProgressBar(
      (t) => {
        out += t;
      },
      () => now,
    );
    const state = { files: 0, filesTotal: 2, chunks: 0, bytes: 0, bytesTotal: 2, elapsedMs: 0 };
    bar.update(state);
    bar.update(state);
    now += REDRAW_INTERVAL_MS;
    bar.update(state);
    bar.update(state, true);
    expect(out.split("\r").length - 1).toBe(3);
    bar.finish();
    expect(out.endsWith("\n")).toBe(true);
  });

  test("a result line names path and lines, else the path, else the id", () => {
    const base = { scope: { kind: "global" as const }, version: 1, score: 0.5 };
    expect(
      hitLine({ ...base, id: "a#1", metadata: { path: "a.ts", line_start: 3, line_end: 9 } }),
    ).toBe("a.ts:3-9  0.5000");
    expect(hitLine({ ...base, id: "a#1", metadata: { path: "a.ts" } })).toBe("a.ts  0.5000");
    expect(hitLine({ ...base, id: "note-7" })).toBe("note-7  0.5000");
  });
});

describe("ingest in-process", () => {
  test("ingest and search have help", async () => {
    for (const name of ["ingest", "search"]) {
      let stdout = "";
      const code = await runCli([name, "--help"], {
        stdout: (t) => {
          stdout += t;
        },
        stderr: () => {},
        env: {},
        readFile: (p) => fs.readFileSync(p, "utf8"),
        clocks: { nowMs: () => 0, monotonicMs: () => 0 },
      });
      expect(code).toBe(0);
      expect(stdout).toStartWith(`Usage: vltair ${name}`);
    }
  });

  test("draws progress on a terminal's stderr and reports the summary on stdout", async () => {
    const root = tree({ "a.md": "# alpha\n", "b.md": "# beta\n" });
    let stdout = "";
    let stderr = "";
    let clock = 0;
    const code = await runCli(["ingest", root, "--data-dir", path.join(root, ".data"), "--json"], {
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
      env: {},
      readFile: (p) => fs.readFileSync(p, "utf8"),
      clocks: {
        nowMs: () => Date.UTC(2026, 0, 1),
        monotonicMs: () => {
          clock += 50;
          return clock;
        },
      },
      stderrIsTty: true,
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ files: 2, chunks: 2, inserted: 2, via: "data_dir" });
    expect(stderr).toContain("\r\x1b[K[");
    expect(stderr).toContain("2/2 files  2 chunks");
    expect(stderr.endsWith("\n")).toBe(true);
  });

  test("a file that lost many chunks loses them in a few batch deletes (windows 8, 16, 32)", async () => {
    const lines = Array.from({ length: 1500 }, (_, i) => `line ${i}`);
    const root = tree({ "long.txt": `${lines.join("\n")}\n` });
    const ingestJson = async () => {
      let stdout = "";
      const code = await runCli(
        ["ingest", root, "--data-dir", path.join(root, ".data"), "--json", "--batch", "1000"],
        {
          stdout: (t) => {
            stdout += t;
          },
          stderr: () => {},
          env: {},
          readFile: (p) => fs.readFileSync(p, "utf8"),
          clocks: { nowMs: () => Date.UTC(2026, 0, 1), monotonicMs: () => 0 },
          stderrIsTty: false,
        },
      );
      expect(code).toBe(0);
      return JSON.parse(stdout) as { chunks: number; deleted: number; wal_index: number };
    };
    const first = await ingestJson();
    expect(first.chunks).toBeGreaterThan(8 + 16);
    expect(first.chunks).toBeLessThanOrEqual(1 + 8 + 16 + 32);
    fs.writeFileSync(path.join(root, "long.txt"), "line 0\n");
    const shrunk = await ingestJson();
    expect(shrunk.deleted).toBe(first.chunks - 1);
    // One upsert batch, then one batch per window that found chunks: 8, 16 and the rest; each
    // batch is one record and its audit record.
    expect(shrunk.wal_index).toBe(first.wal_index + 2 * (1 + 3));
  });
});
