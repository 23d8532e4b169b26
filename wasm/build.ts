/**
 * Builds the WebAssembly modules (wasm32-wasi reactors) and embeds them in the sources:
 * - `usearch.wasm`, the vector index: the C++ headers and `c/lib.cpp` of the `usearch` npm
 *   package, pinned to `USEARCH_VERSION` (an optional dependency in package.json), plus
 *   wasm/vltair_shim.cpp and the SIMD128 metric kernels of wasm/metric_simd.h;
 * - `text-terms.wasm`, the text index's term table and code tokenizer (wasm/text_terms.cpp,
 *   docs/adr/0023-compiled-term-table.md).
 *
 *   npx bun wasm/build.ts           rebuild each module, its .sha256 and its base64 copy in
 *                                   src/ (the copy the binary embeds)
 *   npx bun wasm/build.ts --check   install the toolchain when root + apt-get are available,
 *                                   rebuild into a temp dir and exit 1 when the bytes differ from
 *                                   the checked-in SHA-256; print a reason and exit 0 when it
 *                                   cannot build (no toolchain and no way to install it, or the
 *                                   pinned `usearch` sources are not installed)
 *
 * The toolchain is Debian's clang-19 (`TOOLCHAIN_PACKAGES`). Everything that could leak the build
 * machine into the bytes is fixed: paths are remapped, names and debug info are stripped.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The `usearch` npm package version whose sources the module is built from. */
export const USEARCH_VERSION = "2.25.3";

/** Debian packages that provide the toolchain (bookworm-backports / trixie clang-19). */
export const TOOLCHAIN_PACKAGES = [
  "clang-19",
  "lld-19",
  "wasi-libc",
  "libc++-19-dev-wasm32",
  "libc++abi-19-dev-wasm32",
  "libclang-rt-19-dev-wasm32",
];

/** The C API functions the binding calls, plus the allocator. */
const EXPORTED_FUNCTIONS = [
  "usearch_version",
  "usearch_free",
  "usearch_memory_usage",
  "usearch_serialized_length",
  "usearch_save_buffer",
  "usearch_load_buffer",
  "usearch_size",
  "usearch_capacity",
  "usearch_dimensions",
  "usearch_connectivity",
  "usearch_reserve",
  "usearch_expansion_add",
  "usearch_expansion_search",
  "usearch_change_expansion_add",
  "usearch_change_expansion_search",
  "usearch_add",
  "usearch_contains",
  "usearch_search",
  "usearch_remove",
  "malloc",
  "free",
];

/** Initial linear memory; the binding creates the shared memory of this size. */
export const MODULE_INITIAL_MEMORY_BYTES = 16 * 65_536;
/** Maximum linear memory: 4 GiB, the whole wasm32 address space; growth is on demand. */
export const MODULE_MAXIMUM_MEMORY_BYTES = 65_536 * 65_536;

const COMPILER = "clang++-19";
/** Upper bound of one compiler run; a full build takes about 10 s on a 2-core VM. */
const COMPILE_TIMEOUT_MS = 600_000;
/** Upper bound of the toolchain installation by apt-get. */
const INSTALL_TIMEOUT_MS = 1_200_000;

const wasmDir = dirname(fileURLToPath(import.meta.url));
const rootDir = resolve(wasmDir, "..");
const usearchDir = join(rootDir, "node_modules", "usearch");
/** The USearch module's compiler command line: one translation unit per source, linked by lld. */
function usearchArgs(outPath: string): string[] {
  const exports = EXPORTED_FUNCTIONS.map((name) => `-Wl,--export=${name}`);
  return [
    "--target=wasm32-wasi",
    "--sysroot=/usr",
    "-I/usr/include/wasm32-wasi/c++/v1",
    `-I${join(usearchDir, "include")}`,
    `-I${join(usearchDir, "c")}`,
    "-include",
    join(wasmDir, "single_thread_compat.h"),
    "-include",
    join(wasmDir, "metric_simd.h"),
    "-O3",
    "-msimd128",
    "-std=c++17",
    "-fno-exceptions",
    "-DNDEBUG",
    "-D_WASI_EMULATED_MMAN",
    "-DUSEARCH_USE_OPENMP=0",
    "-DUSEARCH_USE_SIMSIMD=0",
    "-DUSEARCH_USE_NUMKONG=0",
    "-DUSEARCH_USE_FP16LIB=1",
    `-ffile-prefix-map=${usearchDir}=usearch`,
    `-ffile-prefix-map=${wasmDir}=wasm`,
    "-mexec-model=reactor",
    "-fuse-ld=lld",
    // No -lwasi-emulated-mman: vltair_shim.cpp defines the mmap/munmap USearch's arenas use
    // (without the library's zero fill); -D_WASI_EMULATED_MMAN still declares them.
    "-Wl,--strip-all",
    // 4 GiB, the whole wasm32 address space; growth is on demand.
    `-Wl,--max-memory=${MODULE_MAXIMUM_MEMORY_BYTES}`,
    // The memory is imported and shared, so a helper thread can run a second instance over it
    // (src/search/vector-thread.ts). wasi-libc is built without the atomics feature, so the
    // feature check is off: the two instances never run at the same time (the binding joins
    // the helper before any other call), which is the condition that makes that safe.
    "-mbulk-memory",
    "-Wl,--shared-memory",
    "-Wl,--import-memory",
    `-Wl,--initial-memory=${MODULE_INITIAL_MEMORY_BYTES}`,
    "-Wl,--no-check-features",
    ...exports,
    "-o",
    outPath,
    join(usearchDir, "c", "lib.cpp"),
    join(wasmDir, "vltair_shim.cpp"),
  ];
}

function run(command: string, args: string[], timeoutMs: number): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: timeoutMs });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}${result.error?.message ?? ""}`;
  return { ok: result.status === 0, output };
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function hasCompiler(): boolean {
  return run(COMPILER, ["--version"], COMPILE_TIMEOUT_MS).ok;
}

/** Why the pinned sources cannot be used, or undefined when they can. */
function sourcesProblem(): string | undefined {
  const manifestPath = join(usearchDir, "package.json");
  if (!existsSync(manifestPath)) return `usearch sources not installed (${usearchDir}); run npm ci`;
  const version = (JSON.parse(readFileSync(manifestPath, "utf8")) as { version?: string }).version;
  if (version !== USEARCH_VERSION) return `usearch ${version} installed, ${USEARCH_VERSION} pinned`;
  return undefined;
}

/** Installs the toolchain with apt-get when running as root; returns why not otherwise. */
function installToolchain(): string | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return "not root";
  if (!run("apt-get", ["--version"], INSTALL_TIMEOUT_MS).ok) return "apt-get not available";
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = spawnSync("apt-get", ["update", "-qq"], { env, timeout: INSTALL_TIMEOUT_MS });
  if (update.status !== 0) return "apt-get update failed";
  const install = spawnSync("apt-get", ["install", "-y", "-qq", ...TOOLCHAIN_PACKAGES], {
    env,
    timeout: INSTALL_TIMEOUT_MS,
  });
  if (install.status !== 0) return `apt-get install ${TOOLCHAIN_PACKAGES.join(" ")} failed`;
  return hasCompiler() ? undefined : `${COMPILER} still missing after install`;
}

/**
 * The term table's compiler command line: one C++ file over wasi-libc's allocator, no imports,
 * its own (unshared) memory, exports named in the source (`export_name`).
 */
function textTermsArgs(outPath: string): string[] {
  return [
    "--target=wasm32-wasi",
    "--sysroot=/usr",
    "-O3",
    "-std=c++17",
    "-fno-exceptions",
    "-fno-rtti",
    "-DNDEBUG",
    `-ffile-prefix-map=${wasmDir}=wasm`,
    "-mexec-model=reactor",
    "-fuse-ld=lld",
    "-Wl,--strip-all",
    `-Wl,--max-memory=${MODULE_MAXIMUM_MEMORY_BYTES}`,
    "-o",
    outPath,
    join(wasmDir, "text_terms.cpp"),
  ];
}

/** One module the build makes: how to compile it and where its outputs go. */
interface ModuleSpec {
  fileName: string;
  args(outPath: string): string[];
  /** Why its sources cannot be used, or undefined when they can. */
  sourcesProblem(): string | undefined;
  embedPath: string;
  embedSource(bytes: Uint8Array, sha256: string): string;
}

const MODULES: ModuleSpec[] = [
  {
    fileName: "usearch.wasm",
    args: usearchArgs,
    sourcesProblem,
    embedPath: join(rootDir, "src", "search", "usearch-wasm.ts"),
    embedSource: usearchEmbedSource,
  },
  {
    fileName: "text-terms.wasm",
    args: textTermsArgs,
    sourcesProblem: () => undefined,
    embedPath: join(rootDir, "src", "search", "text", "text-terms-wasm.ts"),
    embedSource: textTermsEmbedSource,
  },
];

/** Compiles into a fresh temp dir and returns the module bytes. */
function compile(spec: ModuleSpec): Uint8Array {
  const tempDir = mkdtempSync(join(tmpdir(), "vltair-wasm-"));
  try {
    const outPath = join(tempDir, spec.fileName);
    const result = run(COMPILER, spec.args(outPath), COMPILE_TIMEOUT_MS);
    if (!result.ok) throw new Error(`${COMPILER} failed:\n${result.output}`);
    return new Uint8Array(readFileSync(outPath));
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
}

/** The TS module that carries the bytes, so `bun build --compile` embeds them with no file. */
function usearchEmbedSource(bytes: Uint8Array, sha256: string): string {
  const base64 = Buffer.from(bytes).toString("base64");
  return [
    "/**",
    " * The USearch WebAssembly module, as base64, generated by wasm/build.ts from",
    " * wasm/usearch.wasm. Do not edit: rebuild with `npx bun wasm/build.ts`.",
    " * A string constant is the one embedding that Bun's compiled binaries, Deno and Node",
    " * all load with no file beside the program and no import attributes.",
    " */",
    "",
    "/** SHA-256 (hex) of the decoded module bytes; checked in tests against wasm/usearch.wasm.sha256. */",
    "export const USEARCH_WASM_SHA256 =",
    `  "${sha256}";`,
    "",
    "/** Size of the decoded module, in bytes. */",
    `export const USEARCH_WASM_SIZE_BYTES = ${bytes.length};`,
    "",
    "/** Initial size of the shared linear memory the module imports (`env.memory`), in bytes. */",
    `export const USEARCH_WASM_INITIAL_MEMORY_BYTES = ${MODULE_INITIAL_MEMORY_BYTES};`,
    "",
    "/** Maximum size of that memory (the whole wasm32 address space), in bytes. */",
    `export const USEARCH_WASM_MAXIMUM_MEMORY_BYTES = ${MODULE_MAXIMUM_MEMORY_BYTES};`,
    "",
    "/** The module bytes, base64-encoded (RFC 4648, with padding), on one line. */",
    "export const USEARCH_WASM_BASE64 =",
    `  "${base64}";`,
    "",
  ].join("\n");
}

/** The term table's base64 module, like `usearchEmbedSource`. */
function textTermsEmbedSource(bytes: Uint8Array, sha256: string): string {
  const base64 = Buffer.from(bytes).toString("base64");
  return [
    "/**",
    " * The text index's term table module, as base64, generated by wasm/build.ts from",
    " * wasm/text-terms.wasm. Do not edit: rebuild with `npx bun wasm/build.ts`.",
    " */",
    "",
    "/** SHA-256 (hex) of the decoded module bytes; checked in tests against wasm/text-terms.wasm.sha256. */",
    "export const TEXT_TERMS_WASM_SHA256 =",
    `  "${sha256}";`,
    "",
    "/** The module bytes, base64-encoded (RFC 4648, with padding), on one line. */",
    "export const TEXT_TERMS_WASM_BASE64 =",
    `  "${base64}";`,
    "",
  ].join("\n");
}

function checkedInSha256(spec: ModuleSpec): string {
  const sha256Path = join(wasmDir, `${spec.fileName}.sha256`);
  return readFileSync(sha256Path, "utf8").trim().split(/\s+/)[0] ?? "";
}

function checkModule(spec: ModuleSpec): number {
  const problem = spec.sourcesProblem();
  if (problem !== undefined) {
    console.log(`wasm check of ${spec.fileName} skipped: ${problem}`);
    return 0;
  }
  const expected = checkedInSha256(spec);
  const actual = sha256Hex(compile(spec));
  const fileSha = sha256Hex(new Uint8Array(readFileSync(join(wasmDir, spec.fileName))));
  if (fileSha !== expected) {
    console.error(
      `wasm check failed: wasm/${spec.fileName} is ${fileSha}, sha256 file says ${expected}`,
    );
    return 1;
  }
  if (actual !== expected) {
    console.error(
      `wasm check failed: rebuilt ${spec.fileName} is ${actual}, checked in ${expected}`,
    );
    return 1;
  }
  console.log(`wasm check ok: rebuilt ${spec.fileName} matches ${expected}`);
  return 0;
}

function check(): number {
  if (!hasCompiler()) {
    const reason = installToolchain();
    if (reason !== undefined) {
      console.log(`wasm check skipped: ${COMPILER} not found and cannot be installed (${reason})`);
      return 0;
    }
  }
  let status = 0;
  for (const spec of MODULES) status = Math.max(status, checkModule(spec));
  return status;
}

function buildModule(spec: ModuleSpec): number {
  const problem = spec.sourcesProblem();
  if (problem !== undefined) {
    console.error(`wasm build of ${spec.fileName} failed: ${problem}`);
    return 1;
  }
  const bytes = compile(spec);
  const sha256 = sha256Hex(bytes);
  writeFileSync(join(wasmDir, spec.fileName), bytes);
  writeFileSync(join(wasmDir, `${spec.fileName}.sha256`), `${sha256}  ${spec.fileName}\n`);
  writeFileSync(spec.embedPath, spec.embedSource(bytes, sha256));
  console.log(`wasm build ok: ${spec.fileName}, ${bytes.length} bytes, sha256 ${sha256}`);
  return 0;
}

function build(): number {
  if (!hasCompiler()) {
    console.error(
      `wasm build failed: ${COMPILER} not found; install ${TOOLCHAIN_PACKAGES.join(" ")}`,
    );
    return 1;
  }
  let status = 0;
  for (const spec of MODULES) status = Math.max(status, buildModule(spec));
  return status;
}

if (import.meta.main) {
  process.exit(process.argv.includes("--check") ? check() : build());
}
