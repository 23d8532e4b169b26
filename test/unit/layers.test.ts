/**
 * The layer map (ARCHITECTURE.md): imports point down only. The composition root `src/app/` is
 * imported by the entry point and the CLI alone, never from below it; services never import
 * `http/`; `http/`, `mcp/` and `cli/` never import `storage/` or `search/` internals directly
 * except through a service's types.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";

const SRC = path.resolve(import.meta.dirname, "../../src");
const SPEC = /^\s*(?:import|export)[^"']*?from\s*["'](\.{1,2}\/[^"']+)["']/gm;

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith(".ts") ? [p] : [];
  });
}

/** Every relative import of src/, as [importing file, imported file], relative to src/. */
function imports(): [string, string][] {
  const out: [string, string][] = [];
  for (const file of sources(SRC)) {
    for (const m of fs.readFileSync(file, "utf8").matchAll(SPEC)) {
      const target = path.resolve(path.dirname(file), m[1] as string);
      out.push([path.relative(SRC, file), path.relative(SRC, target)]);
    }
  }
  return out;
}

const top = (rel: string) => rel.split(path.sep)[0] as string;

describe("layers", () => {
  test("nothing below the composition root imports src/app/", () => {
    const allowed = new Set(["app", "cli", "main.ts"]);
    const upward = imports().filter(([from, to]) => top(to) === "app" && !allowed.has(top(from)));
    expect(upward).toEqual([]);
  });

  test("services never import http/, mcp/ or cli/", () => {
    const services = new Set([
      "context",
      "sandbox",
      "orchestrator",
      "policy",
      "search",
      "storage",
      "core",
      "obs",
      "platform",
      "config",
    ]);
    const upward = imports().filter(
      ([from, to]) => services.has(top(from)) && ["http", "mcp", "cli", "app"].includes(top(to)),
    );
    expect(upward).toEqual([]);
  });
});
