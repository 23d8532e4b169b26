/**
 * Builds vltair.
 *
 *   bun build.ts            dist/vltair: a self-contained executable for this machine
 *   bun build.ts --all      dist/vltair-<os>-<arch>[.exe] for every shipped target + dist/SHA256SUMS
 *   bun build.ts node       dist/node/vltair.mjs: one ESM bundle for Node >= 20 (@hono/node-server)
 *   bun build.ts wasm [--check]  rebuild wasm/usearch.wasm (see docs/wasm.md); --check compares bytes
 *
 * Cross-compiled runtimes come from the npm registry through bun itself; nothing else is fetched.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";

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

function compile(outfile: string, target?: string): void {
  const args = ["build", ENTRY, "--compile", "--minify", "--outfile", outfile];
  if (target !== undefined) args.push(`--target=${target}`);
  bun(args);
}

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

function buildAll(): void {
  const lines: string[] = [];
  for (const [target, name] of RELEASE_TARGETS) {
    const outfile = path.join(DIST, name);
    compile(outfile, target);
    lines.push(`${sha256(outfile)}  ${name}`);
  }
  fs.writeFileSync(path.join(DIST, "SHA256SUMS"), `${lines.join("\n")}\n`);
  process.stdout.write(`build: ${RELEASE_TARGETS.length} executables and SHA256SUMS in ${DIST}\n`);
}

function buildNode(): void {
  const outfile = path.join(DIST, "node", "vltair.mjs");
  bun(["build", ENTRY, "--target=node", "--format=esm", "--outfile", outfile]);
  process.stdout.write(`build: ${outfile}\n`);
}

const [mode] = process.argv.slice(2);
fs.mkdirSync(DIST, { recursive: true });
if (mode === undefined) {
  compile(path.join(DIST, process.platform === "win32" ? "vltair.exe" : "vltair"));
} else if (mode === "--all") {
  buildAll();
} else if (mode === "node") {
  buildNode();
} else if (mode === "wasm") {
  bun([path.join(ROOT, "wasm", "build.ts"), ...process.argv.slice(3)]);
} else {
  process.stderr.write(`build: unknown mode '${mode}' (expected nothing, --all, node or wasm)\n`);
  process.exit(2);
}
