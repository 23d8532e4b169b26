import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type ChunkOptions,
  chunkText,
  languageOf,
  type SkippedFile,
  WALK_OPTIONS_DEFAULT,
  walkTree,
} from "../../../../src/context/ingest/mod.ts";
import { VltairError } from "../../../../src/core/mod.ts";
import { tempDir } from "../../../support/tmp.ts";

const numbered = (n: number) => Array.from({ length: n }, (_, i) => `  line ${i + 1}`).join("\n");

describe("chunkText", () => {
  const options: ChunkOptions = { linesMax: 10, overlapLines: 2, charsMax: 10_000 };

  test("covers every line, respects the size, overlaps", () => {
    const chunks = chunkText(numbered(35), options);
    expect(chunks[0]?.startLine).toBe(1);
    expect(chunks.at(-1)?.endLine).toBe(35);
    for (const c of chunks) expect(c.endLine - c.startLine + 1).toBeLessThanOrEqual(10);
    for (let i = 1; i < chunks.length; i++) {
      const prev = chunks[i - 1];
      const cur = chunks[i];
      if (prev === undefined || cur === undefined) throw new Error("unreachable");
      expect(cur.startLine).toBe(prev.endLine - 1);
    }
    expect(chunks[0]?.text.split("\n")[0]).toBe("  line 1");
  });

  test("prefers a blank line, then a top-level line, as the boundary", () => {
    const lines = Array.from({ length: 20 }, (_, i) => `  body ${i + 1}`);
    lines[6] = "";
    lines[8] = "function next() {";
    const [first] = chunkText(lines.join("\n"), options);
    expect(first?.endLine).toBe(6);
    lines[6] = "  not blank";
    const [second] = chunkText(lines.join("\n"), options);
    expect(second?.endLine).toBe(8);
  });

  test("a huge line is cut into pieces of charsMax", () => {
    const chunks = chunkText(`a\n${"x".repeat(25)}\nb`, {
      linesMax: 10,
      overlapLines: 2,
      charsMax: 10,
    });
    const pieces = chunks.filter((c) => c.startLine === 2);
    expect(pieces.map((c) => c.text.length)).toEqual([10, 10, 5]);
    for (const c of chunks) expect(c.text.length).toBeLessThanOrEqual(10);
  });

  test("the char limit ends a chunk early", () => {
    const chunks = chunkText(numbered(30), { linesMax: 100, overlapLines: 1, charsMax: 50 });
    for (const c of chunks) expect(c.text.length).toBeLessThanOrEqual(50);
    expect(chunks.at(-1)?.endLine).toBe(30);
  });

  test("empty and whitespace-only texts give no chunks; output is deterministic", () => {
    expect(chunkText("", options)).toEqual([]);
    expect(chunkText("\n\n  \n", options)).toEqual([]);
    expect(chunkText(numbered(50), options)).toEqual(chunkText(numbered(50), options));
  });
});

describe("languageOf", () => {
  test.each([
    ["src/a.ts", "typescript"],
    ["x/Y.PY", "python"],
    ["Dockerfile", "dockerfile"],
    ["README.md", "markdown"],
    ["noext", "text"],
    ["weird.zzz", "text"],
  ])("%s -> %s", (file, language) => {
    expect(languageOf(file)).toBe(language);
  });
});

describe("walkTree", () => {
  function tree(files: Record<string, string | Uint8Array>): string {
    const root = tempDir();
    for (const [rel, content] of Object.entries(files)) {
      const file = path.join(root, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
    }
    return root;
  }
  const walk = (root: string, extra: Partial<typeof WALK_OPTIONS_DEFAULT> = {}) => {
    const skipped: SkippedFile[] = [];
    const files = [
      ...walkTree(root, { ...WALK_OPTIONS_DEFAULT, ...extra }, (s) => skipped.push(s)),
    ];
    return { paths: files.map((f) => f.path), skipped };
  };

  test("honours nested .gitignore files, skips .git, binaries and large files, in sorted order", () => {
    const root = tree({
      ".gitignore": "dist/\n*.log\n",
      "src/a.ts": "a",
      "src/b.ts": "b",
      "src/.gitignore": "gen.ts\n",
      "src/gen.ts": "generated",
      "dist/out.js": "x",
      "debug.log": "x",
      ".git/HEAD": "ref",
      "img.png": new Uint8Array([137, 80, 78, 71, 0, 1]),
      "latin1.txt": new Uint8Array([0x63, 0x61, 0x66, 0xe9]),
      "big.md": "y".repeat(2048),
      "z.md": "z",
    });
    const { paths, skipped } = walk(root, { fileBytesMax: 1024 });
    expect(paths).toEqual([".gitignore", "z.md", "src/.gitignore", "src/a.ts", "src/b.ts"]);
    expect(skipped).toEqual([
      { path: "big.md", reason: "too_large" },
      { path: "img.png", reason: "binary" },
      { path: "latin1.txt", reason: "binary" },
    ]);
  });

  test("include and exclude globs", () => {
    const root = tree({ "src/a.ts": "a", "src/a.test.ts": "t", "docs/x.md": "d" });
    expect(walk(root, { include: ["**/*.ts"] }).paths).toEqual(["src/a.test.ts", "src/a.ts"]);
    expect(walk(root, { include: ["**/*.ts"], exclude: ["**/*.test.ts"] }).paths).toEqual([
      "src/a.ts",
    ]);
    expect(walk(root, { exclude: ["docs/"] }).paths).toEqual(["src/a.test.ts", "src/a.ts"]);
  });

  test("symlinks are not followed", () => {
    const root = tree({ "a.ts": "a" });
    fs.symlinkSync(root, path.join(root, "loop"));
    fs.symlinkSync("/etc/hostname", path.join(root, "outside"));
    expect(walk(root).paths).toEqual(["a.ts"]);
  });

  test("more files than filesMax is validation_failed", () => {
    const root = tree({ a: "1", b: "2", c: "3" });
    expect(() => walk(root, { filesMax: 2 })).toThrow(VltairError);
    expect(walk(root, { filesMax: 3 }).paths).toHaveLength(3);
  });
});
