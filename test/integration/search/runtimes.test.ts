/**
 * The embedded vector module loads and gives bit-identical results under every path the
 * project ships: Bun, Deno (`deno run`), Node (a `bun build --target=node` bundle) and a
 * `bun build --compile` binary. The bundle and the binary run alone in an empty temp dir,
 * so a module file beside them could not be what they load.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { BUN, DENO, ROOT, run } from "../../support/process.ts";
import { tempDir } from "../../support/tmp.ts";

const ENTRY = path.join(ROOT, "test", "integration", "search", "vector-smoke.ts");
/** Bundling, compiling and running each take seconds on a busy 2-core VM. */
const STEP_TIMEOUT_MS = 120_000;

function parse(result: { code: number; stdout: string; stderr: string }): unknown {
  if (result.code !== 0) throw new Error(`exit ${result.code}\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(result.stdout.trim());
}

describe("vector module on every shipped runtime", () => {
  let expected: unknown;

  beforeAll(async () => {
    expected = parse(await run(BUN, [ENTRY], { timeoutMs: STEP_TIMEOUT_MS }));
  }, STEP_TIMEOUT_MS);

  test("Bun runs the sources", () => {
    expect(expected).toMatchObject({ size: 1979 });
  });

  test(
    "Deno runs the sources with no permissions, same results and bytes",
    async () => {
      const result = await run(DENO, ["run", "--no-prompt", ENTRY], {
        cwd: tempDir(),
        timeoutMs: STEP_TIMEOUT_MS,
      });
      expect(parse(result)).toEqual(expected);
    },
    STEP_TIMEOUT_MS,
  );

  test(
    "Node runs a bundle alone in a temp dir, same results and bytes",
    async () => {
      const dir = tempDir();
      const bundle = path.join(dir, "vector-smoke.mjs");
      const built = await run(BUN, ["build", ENTRY, "--target=node", "--outfile", bundle], {
        timeoutMs: STEP_TIMEOUT_MS,
      });
      expect(built.code).toBe(0);
      expect(fs.readdirSync(dir)).toEqual(["vector-smoke.mjs"]);
      const result = await run("node", [bundle], { cwd: dir, timeoutMs: STEP_TIMEOUT_MS });
      expect(parse(result)).toEqual(expected);
    },
    STEP_TIMEOUT_MS * 2,
  );

  test(
    "a bun --compile binary alone in a temp dir embeds the module",
    async () => {
      const dir = tempDir();
      const binary = path.join(dir, "vector-smoke");
      const built = await run(BUN, ["build", ENTRY, "--compile", "--outfile", binary], {
        timeoutMs: STEP_TIMEOUT_MS,
      });
      expect(built.code).toBe(0);
      expect(fs.readdirSync(dir)).toEqual(["vector-smoke"]);
      const result = await run(binary, [], { cwd: dir, timeoutMs: STEP_TIMEOUT_MS });
      expect(parse(result)).toEqual(expected);
    },
    STEP_TIMEOUT_MS * 2,
  );
});
