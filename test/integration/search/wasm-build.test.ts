/**
 * `npx bun wasm/build.ts --check` rebuilds the module and compares it with the checked-in
 * SHA-256 (about 10 s of compiling, so only with VLTAIR_SLOW=1; CI runs the same check as its
 * own step). It must exit 0 with either a match or a printed reason for skipping.
 */
import { expect, test } from "bun:test";
import * as path from "node:path";
import { BUN, ROOT, run } from "../../support/process.ts";

const SLOW = process.env.VLTAIR_SLOW === "1";
/** Installing the toolchain with apt-get can take minutes on a fresh machine. */
const CHECK_TIMEOUT_MS = 900_000;

test.if(SLOW)(
  "wasm/build.ts --check reproduces wasm/usearch.wasm byte for byte, or says why it cannot",
  async () => {
    const result = await run(BUN, [path.join(ROOT, "wasm", "build.ts"), "--check"], {
      timeoutMs: CHECK_TIMEOUT_MS,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^wasm check (ok: rebuilt module matches [0-9a-f]{64}|skipped: .+)\n$/,
    );
  },
  CHECK_TIMEOUT_MS,
);
