import { describe, expect, test } from "bun:test";
import { contextShape } from "../../../src/policy/context-shape.ts";

describe("contextShape", () => {
  const cases: [string, unknown, string | null][] = [
    [
      "strings stand for any well-formed string",
      { id: "a", scope_id: "" },
      '{"id":s,"scope_id":s}',
    ],
    ["numbers keep their value (a Long has a range)", { max_tokens: 5 }, '{"max_tokens":n5}'],
    ["sets keep each element's kind", { argv: ["ls", "-l"] }, '{"argv":[s,s]}'],
    ["booleans", { on: true }, '{"on":b}'],
    ["attribute order is part of the shape", { b: "x", a: "y" }, '{"b":s,"a":s}'],
    ["a lone surrogate in a value", { id: "a\ud800" }, null],
    ["a lone surrogate in a key", { "k\udc00": "a" }, null],
    ["a Cedar escape key", { id: { __entity: { type: "T", id: "x" } } }, null],
    ["null", { id: null }, null],
    ["a non-finite number", { n: Number.POSITIVE_INFINITY }, null],
    ["undefined", { id: undefined }, null],
  ];
  test.each(cases)("%s", (_name, context, expected) => {
    expect(contextShape(context)).toBe(expected);
  });

  test("two contexts of one shape differ only in string values", () => {
    const a = contextShape({ scope_kind: "repo", scope_id: "r1", id: "a.ts" });
    expect(a).toBe(contextShape({ scope_kind: "global", scope_id: "", id: "zz" }));
    expect(a).not.toBe(contextShape({ scope_kind: "repo", scope_id: "r1", id: 1 }));
    expect(a).not.toBe(contextShape({ scope_kind: "repo", id: "a.ts" }));
  });
});
