/**
 * `npx bun wasm/build.ts --check` rebuilds the module and compares it with the checked-in
 * SHA-256 (about 10 s of compiling, so only with VLTAIR_SLOW=1; CI runs the same check as its
 * own step). It must exit 0 with a match wherever the compiler is (or can be installed).
 */
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { BUN, ROOT, run } from "../../support/process.ts";

const SLOW = process.env.VLTAIR_SLOW === "1";

function compilerPresent(): boolean {
  return spawnSync("sh", ["-c", "command -v clang++-19"], { stdio: "ignore" }).status === 0;
}
/** Installing the toolchain with apt-get can take minutes on a fresh machine. */
const CHECK_TIMEOUT_MS = 900_000;

test.if(SLOW)(
  "wasm/build.ts --check reproduces every wasm/*.wasm byte for byte, or says why it cannot",
  async () => {
    const result = await run(BUN, [path.join(ROOT, "wasm", "build.ts"), "--check"], {
      timeoutMs: CHECK_TIMEOUT_MS,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    // With the compiler on this machine (present, or installed by the check), only a match
    // passes; without it, only the skip that says the toolchain cannot be installed.
    if (compilerPresent()) {
      expect(result.stdout).toMatch(
        /^wasm check ok: rebuilt usearch\.wasm matches [0-9a-f]{64}\nwasm check ok: rebuilt text-terms\.wasm matches [0-9a-f]{64}\n$/,
      );
    } else {
      expect(result.stdout).toMatch(
        /^wasm check skipped: clang\+\+-19 not found and cannot be installed \(.+\)\n$/,
      );
    }
  },
  CHECK_TIMEOUT_MS,
);
