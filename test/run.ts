/**
 * The README's test command (`npm test`): runs `bun test` over `test/` with a fixed, portable
 * environment (TZ=UTC, LC_ALL=C.UTF-8) and ends with one plain summary line
 * `tests: N passed, N failed`. Extra arguments go to `bun test` (e.g. a path filter).
 * `VLTAIR_SLOW=1` (npm run test:slow) enables the long variants.
 */
import { spawn } from "node:child_process";
import process from "node:process";

const env = { ...process.env, TZ: "UTC", LC_ALL: "C.UTF-8", LANG: "C.UTF-8", NO_COLOR: "1" };
const args = ["test", "--timeout", "120000", ...process.argv.slice(2)];
if (process.argv.length <= 2) args.push("test/");

const child = spawn(process.execPath, args, { env, stdio: ["ignore", "inherit", "pipe"] });
let tail = "";
child.stderr.on("data", (chunk: Buffer) => {
  process.stderr.write(chunk);
  tail = (tail + chunk.toString("utf8")).slice(-4096);
});
child.on("close", (code, signal) => {
  const passed = /(\d+) pass\b/.exec(tail)?.[1] ?? "0";
  const failed = /(\d+) fail\b/.exec(tail)?.[1] ?? (code === 0 ? "0" : "1");
  process.stdout.write(`tests: ${passed} passed, ${failed} failed\n`);
  process.exit(code ?? (signal ? 1 : 0));
});
