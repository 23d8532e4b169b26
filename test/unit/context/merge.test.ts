import { describe, expect, test } from "bun:test";
import { MERGE_LINES_MAX, merge3 } from "../../../src/context/merge.ts";
import { VltairError } from "../../../src/core/mod.ts";

describe("merge3", () => {
  test("edits on separate lines merge cleanly", () => {
    const result = merge3({ base: "a\nb\nc\nd\n", ours: "a\nB\nc\nd\n", theirs: "a\nb\nc\nD\n" });
    expect(result).toEqual({
      merged: "a\nB\nc\nD\n",
      conflicts: 0,
      added: 2,
      removed: 2,
      clean: true,
    });
  });

  test("edits of adjacent lines conflict, as in git's diff3", () => {
    expect(merge3({ base: "a\nb\nc\n", ours: "a\nB\nc\n", theirs: "a\nb\nC\n" }).conflicts).toBe(1);
  });

  test("the same edit on both sides is taken once", () => {
    const result = merge3({ base: "x\ny\n", ours: "x\nY\n", theirs: "x\nY\n" });
    expect(result.merged).toBe("x\nY\n");
    expect(result.clean).toBe(true);
  });

  test("one side's insertions and deletions are kept", () => {
    const result = merge3({ base: "1\n2\n3\n", ours: "0\n1\n2\n3\n", theirs: "1\n3\n" });
    expect(result).toEqual({
      merged: "0\n1\n3\n",
      conflicts: 0,
      added: 1,
      removed: 1,
      clean: true,
    });
  });

  test("different edits of the same line conflict with the stable markers", () => {
    const result = merge3({ base: "a\nb\nc", ours: "a\nours\nc", theirs: "a\ntheirs\nc" });
    expect(result.merged).toBe("a\n<<<<<<< ours\nours\n=======\ntheirs\n>>>>>>> theirs\nc");
    expect(result.conflicts).toBe(1);
    expect(result.clean).toBe(false);
  });

  test("two separate conflicts are counted", () => {
    const result = merge3({
      base: "1\n2\n3\n4\n5",
      ours: "1\nA\n3\n4\nX",
      theirs: "1\nB\n3\n4\nY",
    });
    expect(result.conflicts).toBe(2);
    expect(result.merged.split("<<<<<<< ours").length - 1).toBe(2);
  });

  test("unchanged sides give the base back", () => {
    expect(merge3({ base: "k\n", ours: "k\n", theirs: "k\n" })).toEqual({
      merged: "k\n",
      conflicts: 0,
      added: 0,
      removed: 0,
      clean: true,
    });
  });

  test("empty inputs", () => {
    expect(merge3({ base: "", ours: "", theirs: "new" }).merged).toBe("new");
  });

  test("more lines than the limit is validation_failed naming the side", () => {
    const big = "x\n".repeat(MERGE_LINES_MAX);
    try {
      merge3({ base: "", ours: big, theirs: "" });
      throw new Error("expected validation_failed");
    } catch (error) {
      expect(error).toBeInstanceOf(VltairError);
      expect((error as VltairError).details.field).toBe("ours");
    }
  });
});
