import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { mapFileForReading } from "../../../src/platform/mod.ts";
import { tempDir } from "../../support/tmp.ts";

describe("mapFileForReading", () => {
  test("gives a file's bytes exactly, an empty file as no bytes", () => {
    const dir = tempDir();
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff);
    writeFileSync(join(dir, "data.bin"), bytes);
    writeFileSync(join(dir, "empty.bin"), new Uint8Array(0));
    expect(mapFileForReading(join(dir, "data.bin"))).toEqual(bytes);
    expect(mapFileForReading(join(dir, "empty.bin")).length).toBe(0);
  });

  test("a missing file throws the runtime's ENOENT, as reading would", () => {
    expect(() => mapFileForReading(join(tempDir(), "missing.bin"))).toThrow(
      expect.objectContaining({ code: "ENOENT" }),
    );
  });
});
