import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  TEXT_TERMS_WASM_BASE64,
  TEXT_TERMS_WASM_SHA256,
} from "../../../src/search/text/text-terms-wasm.ts";
import {
  USEARCH_WASM_BASE64,
  USEARCH_WASM_SHA256,
  USEARCH_WASM_SIZE_BYTES,
} from "../../../src/search/usearch-wasm.ts";

const root = join(import.meta.dir, "..", "..", "..");

describe("embedded USearch module", () => {
  test("the base64 constant decodes to wasm/usearch.wasm, whose SHA-256 is checked in", () => {
    const embedded = Buffer.from(USEARCH_WASM_BASE64, "base64");
    const file = readFileSync(join(root, "wasm", "usearch.wasm"));
    const recorded = readFileSync(join(root, "wasm", "usearch.wasm.sha256"), "utf8").split(
      /\s+/,
    )[0];
    expect(embedded.length).toBe(USEARCH_WASM_SIZE_BYTES);
    expect(embedded.equals(file)).toBe(true);
    const sha = createHash("sha256").update(embedded).digest("hex");
    expect(sha).toBe(USEARCH_WASM_SHA256);
    expect(sha).toBe(recorded as string);
  });

  test("the module imports only its memory, the WASI stubs, the filter trampoline and the load source", () => {
    const module = new WebAssembly.Module(Buffer.from(USEARCH_WASM_BASE64, "base64"));
    const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
    for (const name of imports)
      expect(name).toMatch(
        /^(env\.memory$|wasi_snapshot_preview1\.|vltair\.filter$|vltair\.read$)/,
      );
    expect(imports).toContain("env.memory");
    const exports = WebAssembly.Module.exports(module).map((e) => e.name);
    expect(exports).not.toContain("memory");
    for (const name of ["_initialize", "malloc", "free", "usearch_search", "vltair_add_batch"]) {
      expect(exports).toContain(name);
    }
  });
});

describe("embedded term table module", () => {
  test("the base64 constant decodes to wasm/text-terms.wasm, whose SHA-256 is checked in", () => {
    const embedded = Buffer.from(TEXT_TERMS_WASM_BASE64, "base64");
    const file = readFileSync(join(root, "wasm", "text-terms.wasm"));
    const recorded = readFileSync(join(root, "wasm", "text-terms.wasm.sha256"), "utf8");
    expect(embedded.equals(file)).toBe(true);
    const sha = createHash("sha256").update(embedded).digest("hex");
    expect(sha).toBe(TEXT_TERMS_WASM_SHA256);
    expect(recorded.split(/\s+/)[0]).toBe(sha);
  });

  test("the module imports nothing: no host access, its own memory", () => {
    const module = new WebAssembly.Module(Buffer.from(TEXT_TERMS_WASM_BASE64, "base64"));
    expect(WebAssembly.Module.imports(module)).toEqual([]);
    const exports = WebAssembly.Module.exports(module).map((e) => e.name);
    for (const name of ["memory", "_initialize", "vt_intern", "vt_count_code_ascii"]) {
      expect(exports).toContain(name);
    }
  });
});
