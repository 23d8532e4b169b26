/**
 * The Cedar WebAssembly module's bytes, read from `node_modules` (the pinned
 * `@cedar-policy/cedar-wasm`) when vltair runs from its sources under Bun, Deno or Node.
 *
 * The shipped forms have no `node_modules`: `build.ts` replaces this module, when it bundles
 * the executable and the Node bundle, with one that holds the same bytes as base64 (the
 * embedding wasm/build.ts uses for USearch), so the binary runs alone in an empty directory.
 */
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";

/** Where the bytes come from, for the start-up log line. */
export const CEDAR_WASM_SOURCE = "node_modules";

/**
 * The module's bytes. The file is beside the package's `web` glue; the package's `exports`
 * name only the glue, so the path is built from the glue's resolved URL.
 *
 * @example
 * ```ts
 * const module = await WebAssembly.compile(cedarWasmBytes());
 * ```
 */
export function cedarWasmBytes(): Uint8Array {
  const glue = import.meta.resolve("@cedar-policy/cedar-wasm/web");
  return fs.readFileSync(fileURLToPath(new URL("cedar_wasm_bg.wasm", glue)));
}
