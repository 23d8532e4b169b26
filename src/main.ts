#!/usr/bin/env bun
/**
 * Entry point of the `vltair` binary: `serve | token | version` (more land with their issues).
 * Runs unchanged on Bun, Deno and Node (through a `bun build --target=node` bundle).
 */
import * as fs from "node:fs";
import process from "node:process";
import { systemClocks } from "./app/mod.ts";
import { runCli } from "./cli/mod.ts";
import { installCrashReporter } from "./obs/mod.ts";

installCrashReporter({
  write: (line) => process.stderr.write(line),
  nowMs: () => systemClocks.nowMs(),
});

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  readFile: (path) => fs.readFileSync(path, "utf8"),
  clocks: systemClocks,
});
process.exitCode = code;
// Servers, timers and signal listeners would keep the process alive after a command finished.
process.exit(code);
