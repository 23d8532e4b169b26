/** Docs are part of done: every option and every error code is documented. */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CONFIG_FIELDS, CONFIG_KEYS } from "../../src/config/mod.ts";
import { CONTEXT_LIMITS } from "../../src/context/mod.ts";
import type { LimitSpec, LimitTable } from "../../src/core/mod.ts";
import { ERROR_CODES } from "../../src/core/mod.ts";
import { openApiPath, RATE_LIMITS } from "../../src/http/mod.ts";
import { MCP_LIMITS } from "../../src/mcp/mod.ts";
import { ORCHESTRATOR_LIMITS, STEP_ERROR_CODES } from "../../src/orchestrator/mod.ts";
import { SANDBOX_LIMITS } from "../../src/sandbox/mod.ts";
import { STORAGE_LIMITS } from "../../src/storage/mod.ts";
import { testApp } from "../support/app.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

describe("docs", () => {
  test("docs/configuration.md lists every option with its flag, env name and default", () => {
    const text = read("docs/configuration.md");
    for (const key of CONFIG_KEYS) {
      const spec = CONFIG_FIELDS[key];
      const row = text.split("\n").find((line) => line.startsWith(`| \`${key}\` |`));
      expect(row).toBeDefined();
      expect(row).toContain(`\`${spec.env}\``);
      expect(row).toContain(spec.flag === null ? "—" : `\`--${spec.flag}\``);
      expect(row).toContain(`\`${JSON.stringify(spec.default)}\``);
    }
  });

  const tables: LimitTable<string>[] = [
    STORAGE_LIMITS,
    CONTEXT_LIMITS,
    MCP_LIMITS,
    RATE_LIMITS,
    SANDBOX_LIMITS,
    ORCHESTRATOR_LIMITS,
  ];
  test.each(tables.map((t) => [t.option, t] as const))(
    "docs/configuration.md lists every %s key with its default, bounds, unit and reason",
    (_, table) => {
      const text = read("docs/configuration.md");
      // The whole row, reason included, comes from the limits table.
      for (const key of table.keys()) {
        const spec = table.specs[key] as LimitSpec;
        const snake = table.field(key).split(".")[1];
        const row = `| \`${snake}\` | ${spec.default} | ${spec.min} | ${spec.max} | ${spec.unit} | ${spec.reason} |`;
        expect(text).toContain(row);
      }
    },
  );

  test("docs/api.md names every error code", () => {
    const text = read("docs/api.md");
    for (const code of ERROR_CODES) expect(text).toContain(`\`${code}\``);
  });

  test("docs/orchestrator.md lists every step error code", () => {
    const text = read("docs/orchestrator.md");
    for (const code of STEP_ERROR_CODES) expect(text).toContain(`| \`${code}\` |`);
  });

  test("docs/api.md documents every mounted route", () => {
    const text = read("docs/api.md");
    for (const route of testApp().app.http.routes) {
      const row = text
        .split("\n")
        .find(
          (line) =>
            line.includes(`| \`${openApiPath(route.path)}\` |`) && line.includes(route.method),
        );
      expect(row).toBeDefined();
    }
  });

  test("README starts with the two set-up commands", () => {
    const text = read("README.md");
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(text)?.[1] ?? "";
    expect(firstBlock).toContain("npm ci && npm start");
    expect(firstBlock).toContain("npm test");
  });
});
