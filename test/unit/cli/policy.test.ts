/**
 * `vltair policy validate FILE` and `vltair policy test DIR` (issue 17 item 3), and every example
 * of docs/policy.md run through `policy test`, so the documented policies stay correct.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_POLICY } from "../../../src/policy/mod.ts";
import { cli } from "../../support/cli.ts";
import { contextApp } from "../../support/context.ts";
import { ROOT } from "../../support/process.ts";
import { tempDir } from "../../support/tmp.ts";

/** Loading the Cedar module the first time takes a second or two on a busy machine. */
const CEDAR_TIMEOUT_MS = 30_000;

const READ = { scope_kind: "global", scope_id: "", id: "a" };

function write(dir: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

/** The `cedar` and `json` blocks of each "### " section under "## Examples" in docs/policy.md. */
function docExamples(): { title: string; cedar: string; cases: string }[] {
  const text = fs.readFileSync(path.join(ROOT, "docs", "policy.md"), "utf8");
  const examples = text.split("\n## Examples\n")[1]?.split("\n## ")[0] ?? "";
  return examples
    .split("\n### ")
    .slice(1)
    .map((section) => ({
      title: section.split("\n")[0] as string,
      cedar: /```cedar\n([\s\S]*?)```/.exec(section)?.[1] ?? "",
      cases: /```json\n([\s\S]*?)```/.exec(section)?.[1] ?? "",
    }));
}

describe("vltair policy validate", () => {
  test(
    "a valid set exits 0 naming its policies; an invalid one exits 2 naming line and column or the policy",
    async () => {
      const dir = write(tempDir(), {
        "ok.cedar": `${DEFAULT_POLICY}@id("no-curl") forbid(principal, action == vltair::Action::"exec", resource) when { context.program == "curl" };\n`,
        "syntax.cedar": "permit(principal, action, resource)\n",
        "schema.cedar": `@id("typo") forbid(principal, action == vltair::Action::"exec", resource) when { context.programme == "curl" };\n`,
      });
      const ok = await cli(["policy", "validate", path.join(dir, "ok.cedar"), "--json"]);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toEqual({ valid: true, policies: ["default", "no-curl"] });
      const syntax = await cli(["policy", "validate", path.join(dir, "syntax.cedar")]);
      expect(syntax.code).toBe(2);
      expect(syntax.stderr).toMatch(/syntax\.cedar:\d+:\d+: /);
      const schema = await cli(["policy", "validate", path.join(dir, "schema.cedar")]);
      expect(schema.code).toBe(2);
      expect(schema.stderr).toContain("schema.cedar: policy typo: ");
      const missing = await cli(["policy", "validate", path.join(dir, "nope.cedar")]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("FILE");
      expect((await cli(["policy", "validate"])).code).toBe(2);
    },
    CEDAR_TIMEOUT_MS,
  );
});

describe("vltair policy test", () => {
  test(
    "every case passing exits 0; a miss exits 1 naming the case; a bad set or case exits 2",
    async () => {
      const pass = [
        { name: "reads allowed", action: "context.read", context: READ, expect: "allow" },
      ];
      const miss = [
        { name: "reads denied?", action: "context.read", context: READ, expect: "deny" },
      ];
      const good = write(tempDir(), { "cases.json": JSON.stringify(pass) });
      const ok = await cli(["policy", "test", good, "--json"]);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, cases: 1, failed: 0 });
      const missed = await cli([
        "policy",
        "test",
        write(tempDir(), { "c.json": JSON.stringify(miss) }),
      ]);
      expect(missed.code).toBe(1);
      expect(missed.stdout).toContain("FAIL  c.json: reads denied?: expected deny, got allow");
      const badSet = write(tempDir(), {
        "cases.json": JSON.stringify(pass),
        "tenant.cedar": "forbid(principal, action, resource",
      });
      const invalid = await cli(["policy", "test", badSet]);
      expect(invalid.code).toBe(2);
      expect(invalid.stderr).toContain("tenant.cedar:");
      const badCase = write(tempDir(), {
        "cases.json": JSON.stringify([{ ...pass[0], expect: "maybe" }]),
      });
      const malformed = await cli(["policy", "test", badCase]);
      expect(malformed.code).toBe(2);
      expect(malformed.stderr).toContain("cases.json: 0.expect");
      const noCases = await cli(["policy", "test", tempDir()]);
      expect(noCases.code).toBe(2);
    },
    CEDAR_TIMEOUT_MS,
  );

  test(
    "every example of docs/policy.md passes its cases",
    async () => {
      const examples = docExamples();
      expect(examples.length).toBeGreaterThanOrEqual(3);
      for (const example of examples) {
        const dir = write(tempDir(), {
          "tenant.cedar": example.cedar,
          "cases.json": example.cases,
        });
        const result = await cli(["policy", "test", dir, "--json"]);
        expect({ title: example.title, code: result.code, stderr: result.stderr }).toEqual({
          title: example.title,
          code: 0,
          stderr: "",
        });
        expect(JSON.parse(result.stdout).cases).toBeGreaterThanOrEqual(3);
      }
    },
    CEDAR_TIMEOUT_MS,
  );
});

describe("policies bind local commands on a data directory", () => {
  test(
    "a stored global forbid of writes refuses vltair ingest in-process (policy_denied, nothing written); reads still work",
    async () => {
      const t = await contextApp();
      const forbid = `${DEFAULT_POLICY}@id("read-only") forbid(principal, action == vltair::Action::"context.write", resource);\n`;
      const put = await t.request("/v1/policy", {
        method: "PUT",
        body: JSON.stringify({ cedar: forbid }),
      });
      expect(put.status).toBe(200);
      await t.app.close();
      const src = write(tempDir(), { "a.ts": "export const answer = 42;\n" });
      const common = ["--data-dir", t.config.data_dir, "--wal-fsync", "none"];
      const ingest = await cli(["ingest", src, ...common]);
      expect(ingest.code).toBe(1);
      expect(ingest.stderr).toContain("policy_denied");
      const search = await cli(["search", "answer", "--json", ...common]);
      expect(search.code).toBe(0);
      expect(JSON.parse(search.stdout).results).toEqual([]);
    },
    CEDAR_TIMEOUT_MS,
  );
});
