/** Every `<!-- example:NAME -->` block of docs/search.md runs, in order, against a real server. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { hasPosixSignals } from "../../src/platform/mod.ts";
import type { Json } from "../support/context.ts";
import { BUN, MAIN, ROOT, readyUrl, run, start } from "../support/process.ts";
import { tempDir } from "../support/tmp.ts";

const TOKEN = "search-docs-admin-token-0123456789";

/** The named sh blocks of a markdown file, in document order. */
function examples(file: string): { name: string; script: string }[] {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  const pattern = /<!-- example:([a-z-]+) -->\s*```sh\n([\s\S]*?)```/g;
  return [...text.matchAll(pattern)].map((m) => ({ name: m[1] ?? "", script: m[2] ?? "" }));
}

/** What each example's output must show (one JSON answer per curl line). */
const EXPECT: Record<string, (answers: Json[]) => void> = {
  upsert: ([a]) => expect(a).toMatchObject({ inserted: 3, updated: 0, skipped: 0, wal_index: 2 }),
  versions: ([updated, versions, v1]) => {
    expect(updated?.items[0]).toMatchObject({ version: 2, status: "updated" });
    expect(versions?.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(v1?.text).toBe("remember: parseConfig must accept YAML too");
  },
  merge: ([strings, versions]) => {
    expect(strings).toEqual({
      merged: "a\nB\nc\nD\n",
      conflicts: 0,
      added: 2,
      removed: 2,
      clean: true,
    });
    expect(versions).toMatchObject({ conflicts: 1, clean: false });
    expect(versions?.merged).toContain("<<<<<<< ours\n");
  },
  search: ([a]) => {
    expect(a?.strategy_used).toBe("hybrid");
    expect(a?.results[0]).toMatchObject({
      id: "src/config.ts#L1-20",
      metadata: { path: "src/config.ts" },
    });
    expect(a?.results[0].text).toContain("parseConfig");
  },
  filter: ([a]) =>
    expect(a?.results.map((r: { id: string }) => r.id)).toEqual(["src/render.ts#L1-30"]),
  "time-travel": ([a]) => {
    expect(a?.wal_index).toBe(1);
    expect(a?.results.map((r: { text: string }) => r.text)).toEqual([
      "remember: parseConfig must accept YAML too",
    ]);
  },
};

describe.if(hasPosixSignals())("docs/search.md examples", () => {
  let server: ReturnType<typeof start>;
  let url = "";
  beforeAll(async () => {
    server = start(BUN, [MAIN, "serve", "--port", "0"], {
      cwd: tempDir(),
      env: { VLTAIR_ADMIN_TOKEN: TOKEN },
    });
    url = await readyUrl(server);
  });
  afterAll(async () => {
    server.proc.kill("SIGTERM");
    await server.exited;
  });

  test("every example is checked, in document order", async () => {
    const blocks = examples("docs/search.md");
    expect(blocks.map((b) => b.name)).toEqual(Object.keys(EXPECT));
    for (const block of blocks) {
      const env = { ...(process.env as Record<string, string>), VLTAIR_URL: url, TOKEN };
      const result = await run("bash", ["-euo", "pipefail", "-c", block.script], { env });
      expect(result.code).toBe(0);
      const answers = result.stdout
        .replace(/\}\{/g, "}\n{")
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line));
      for (const answer of answers) expect(answer.error).toBeUndefined();
      (EXPECT[block.name] as (a: Json[]) => void)(answers);
    }
  });
});
