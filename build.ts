/**
 * Builds vltair.
 *
 *   bun build.ts [--outfile F]       dist/vltair (or F): a self-contained executable for this machine
 *   bun build.ts --all      dist/vltair-<os>-<arch>[.exe] for every shipped target + dist/SHA256SUMS
 *   bun build.ts node [--outfile F]  dist/node/vltair.mjs (or F): one ESM bundle for Node >= 20
 *   bun build.ts wasm [--check]  rebuild wasm/usearch.wasm (see docs/wasm.md); --check compares bytes
 *
 * Cross-compiled runtimes come from the npm registry through bun itself; nothing else is fetched.
 * The executables and the Node bundle embed the Cedar WebAssembly module (cedarEmbed below), so
 * they run with no node_modules beside them.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import type { BunPlugin } from "bun";

/** Every target a release ships: [bun target, output name]. */
export const RELEASE_TARGETS = [
  ["bun-linux-x64", "vltair-linux-x64"],
  ["bun-linux-arm64", "vltair-linux-arm64"],
  ["bun-darwin-arm64", "vltair-darwin-arm64"],
  ["bun-darwin-x64", "vltair-darwin-x64"],
  ["bun-windows-x64", "vltair-windows-x64.exe"],
] as const;

const ROOT = import.meta.dirname;
const DIST = path.join(ROOT, "dist");
const ENTRY = path.join(ROOT, "src", "main.ts");

function bun(args: string[]): void {
  const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: "inherit" });
  if (result.status !== 0) {
    process.stderr.write(`build: bun ${args.join(" ")} failed (exit ${result.status})\n`);
    process.exit(1);
  }
}

/** The pinned Cedar module, as `npm ci` installs it. */
const CEDAR_WASM = path.join(
  ROOT,
  "node_modules",
  "@cedar-policy",
  "cedar-wasm",
  "web",
  "cedar_wasm_bg.wasm",
);

/**
 * Replaces src/policy/cedar-wasm-bytes.ts (which reads node_modules) with a module holding the
 * same bytes as base64: the embedding wasm/build.ts uses for USearch, which Bun's executables,
 * Deno and Node all load with no file beside the program.
 */
function cedarEmbed(): BunPlugin {
  const bytes = fs.readFileSync(CEDAR_WASM);
  const contents = [
    'import { Buffer } from "node:buffer";',
    'export const CEDAR_WASM_SOURCE = "embedded";',
    `const BASE64 = "${bytes.toString("base64")}";`,
    "export function cedarWasmBytes() {",
    '  return new Uint8Array(Buffer.from(BASE64, "base64"));',
    "}",
  ].join("\n");
  return {
    name: "embed-cedar-wasm",
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]policy[\\/]cedar-wasm-bytes\.ts$/ }, () => ({
        contents,
        loader: "js",
      }));
    },
  };
}

async function bundle(config: Omit<Bun.BuildConfig, "entrypoints" | "plugins">): Promise<void> {
  const result = await Bun.build({ ...config, entrypoints: [ENTRY], plugins: [cedarEmbed()] });
  if (!result.success) {
    for (const message of result.logs) process.stderr.write(`${message}\n`);
    process.stderr.write("build: bundling failed\n");
    process.exit(1);
  }
}

async function compile(outfile: string, target?: Bun.Build.CompileTarget): Promise<void> {
  await bundle({
    minify: true,
    compile: target === undefined ? { outfile } : { outfile, target },
  });
}

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

async function buildAll(): Promise<void> {
  const lines: string[] = [];
  for (const [target, name] of RELEASE_TARGETS) {
    const outfile = path.join(DIST, name);
    await compile(outfile, target);
    lines.push(`${sha256(outfile)}  ${name}`);
  }
  fs.writeFileSync(path.join(DIST, "SHA256SUMS"), `${lines.join("\n")}\n`);
  process.stdout.write(`build: ${RELEASE_TARGETS.length} executables and SHA256SUMS in ${DIST}\n`);
}

async function buildNode(outfile: string): Promise<void> {
  await bundle({
    target: "node",
    format: "esm",
    outdir: path.dirname(outfile),
    naming: path.basename(outfile),
  });
  process.stdout.write(`build: ${outfile}\n`);
}

/** `--outfile F` after the mode (tests build into their own temp dirs), else `fallback`. */
function outfileArg(args: readonly string[], fallback: string): string {
  const at = args.indexOf("--outfile");
  const value = at === -1 ? undefined : args[at + 1];
  if (at !== -1 && value === undefined) {
    process.stderr.write("build: --outfile needs a path\n");
    process.exit(2);
  }
  return path.resolve(value ?? fallback);
}

const args = process.argv.slice(2);
const mode = args[0]?.startsWith("--outfile") ? undefined : args[0];
fs.mkdirSync(DIST, { recursive: true });
if (mode === undefined) {
  await compile(
    outfileArg(args, path.join(DIST, process.platform === "win32" ? "vltair.exe" : "vltair")),
  );
} else if (mode === "--all") {
  await buildAll();
} else if (mode === "node") {
  await buildNode(outfileArg(args, path.join(DIST, "node", "vltair.mjs")));
} else if (mode === "wasm") {
  bun([path.join(ROOT, "wasm", "build.ts"), ...process.argv.slice(3)]);
} else {
  process.stderr.write(`build: unknown mode '${mode}' (expected nothing, --all, node or wasm)\n`);
  process.exit(2);
}
