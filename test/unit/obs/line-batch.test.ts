/** Log lines of one event-loop turn are written together; flush, close and size write at once. */
import { describe, expect, test } from "bun:test";
import { batchLines } from "../../../src/obs/line-batch.ts";
import { poll } from "../../support/process.ts";

describe("batchLines", () => {
  test("the lines of one turn are one write, in order, on the next turn", async () => {
    const writes: string[] = [];
    const lines = batchLines((text) => writes.push(text));
    lines.write("a\n");
    lines.write("b\n");
    expect(writes).toEqual([]);
    await poll(() => (writes.length > 0 ? true : undefined), 5_000, "the batched write");
    expect(writes).toEqual(["a\nb\n"]);
    lines.close();
  });

  test("flush writes at once; 64 KiB waiting is written at once; after close every line at once", () => {
    const writes: string[] = [];
    const lines = batchLines((text) => writes.push(text));
    lines.write("x\n");
    lines.flush();
    expect(writes).toEqual(["x\n"]);
    const big = `${"y".repeat(64 * 1024)}\n`;
    lines.write(big);
    expect(writes).toEqual(["x\n", big]);
    lines.close();
    lines.write("z\n");
    expect(writes).toEqual(["x\n", big, "z\n"]);
  });
});
