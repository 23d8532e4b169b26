/** Usage errors of ingest and search exit 2 naming the flag, and create nothing (in-process). */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { cli } from "../../support/cli.ts";
import { tempDir } from "../../support/tmp.ts";

describe("ingest and search usage errors exit 2 naming the flag", () => {
  const cases: [string[], string][] = [
    [["ingest"], "at least one PATH is required"],
    [["ingest", "no-such-dir"], "PATH no-such-dir does not exist"],
    [["ingest", ".", "--batch", "0"], "--batch must be an integer"],
    [["ingest", ".", "--scope", "team:x"], "--scope must be"],
    [["ingest", ".", "--bogus"], "unknown flag --bogus"],
    [["search"], "a QUERY is required"],
    [["search", "x", "-k", "0"], "-k must be an integer"],
    [["search", "x", "-k", "ten"], "-k must be an integer"],
    [["search", "x", "--filter", "{nope"], "--filter is not valid JSON"],
    [["search", "x", "--strategy", "best"], "--strategy must be one of"],
    [["search", "x", "y"], "unexpected argument 'y'"],
    [["get"], "a document ID is required"],
    [["rm", "a", "b"], "unexpected argument 'b'"],
  ];
  for (const [argv, message] of cases) {
    test(argv.join(" "), async () => {
      const root = tempDir();
      const dataDir = path.join(root, "data");
      const result = await cli([...argv, "--data-dir", dataDir]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(fs.readdirSync(root)).toEqual([]);
    });
  }

  test("VLTAIR_URL that is not an http URL", async () => {
    const result = await cli(["search", "x", "--data-dir", path.join(tempDir(), "d")], {
      VLTAIR_URL: "ftp://host",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("VLTAIR_URL must be an http:// or https:// URL");
  });
});
