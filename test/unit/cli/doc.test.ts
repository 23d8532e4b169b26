import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { cli } from "../../support/cli.ts";
import { tempDir } from "../../support/tmp.ts";

describe("vltair get and rm", () => {
  test("take ingest ids (with / and #) as they are; a missing one is not_found, exit 1", async () => {
    const root = tempDir();
    const src = path.join(root, "src", "sub");
    fs.mkdirSync(src, { recursive: true });
    fs.writeFileSync(path.join(src, "a.ts"), "export const answer = 42;\n");
    const dataDir = path.join(root, "data");
    const common = ["--data-dir", dataDir, "--wal-fsync", "none"];
    expect((await cli(["ingest", src, ...common])).code).toBe(0);
    const listed = JSON.parse((await cli(["search", "answer", "--json", ...common])).stdout);
    const id = listed.results[0].id as string;
    expect(id).toContain("/");
    expect(id).toContain("#");
    const got = await cli(["get", id, ...common]);
    expect(got).toMatchObject({ code: 0, stdout: "export const answer = 42;\n", stderr: "" });
    const json = JSON.parse((await cli(["get", id, "--json", ...common])).stdout);
    expect(json).toMatchObject({ id, version: 1, metadata: { language: "typescript" } });
    const removed = await cli(["rm", id, "--json", ...common]);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout).deleted).toBe(true);
    const gone = await cli(["get", id, ...common]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("not_found");
    const noId = await cli(["get", ...common]);
    expect(noId.code).toBe(2);
    expect(noId.stderr).toContain("a document ID is required");
  });
});
