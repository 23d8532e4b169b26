/** dispatchVariant answers exactly as the valibot variant it speeds up, for any input. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import * as v from "valibot";
import { dispatchVariant } from "../../../src/storage/variant-dispatch.ts";

const Variant = v.variant("op", [
  v.strictObject({ op: v.literal("add"), n: v.number() }),
  v.object({ op: v.literal("name"), name: v.pipe(v.string(), v.trim()) }),
  v.strictObject({ op: v.literal("none") }),
]);
const fast = dispatchVariant(Variant);

const outcome = (schema: v.GenericSchema, input: unknown) => {
  const r = v.safeParse(schema, input);
  return r.success ? { ok: true, output: r.output } : { ok: false };
};

describe("dispatchVariant", () => {
  test("valid, invalid and foreign inputs: the same outcome and output as the variant", () => {
    const inputs = [
      { op: "add", n: 1 },
      { op: "add", n: "1" },
      { op: "add", n: 1, extra: true },
      { op: "name", name: "  padded  ", extra: 1 },
      { op: "none" },
      { op: "unknown" },
      { n: 1 },
      null,
      "add",
      [],
    ];
    for (const input of inputs) expect(outcome(fast, input)).toEqual(outcome(Variant, input));
    expect(outcome(fast, { op: "name", name: " x " })).toEqual({
      ok: true,
      output: { op: "name", name: "x" },
    });
  });

  test("property: any JSON value with any op answers as the variant", () => {
    const op = fc.constantFrom("add", "name", "none", "other", 1, null);
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), op, (rest, value) => {
        const input = { ...rest, op: value };
        expect(outcome(fast, input)).toEqual(outcome(Variant, input));
      }),
      { seed: 20261204, numRuns: 300 },
    );
  });

  test("a schema that is not a plain variant of literal-keyed objects is used as it is", () => {
    const union = v.union([v.string(), v.number()]);
    expect(dispatchVariant(union)).toBe(union);
    const nested = v.variant("op", [
      v.object({ op: v.literal("a") }),
      v.variant("kind", [v.object({ op: v.literal("b"), kind: v.literal("x") })]),
    ]);
    expect(dispatchVariant(nested)).toBe(nested);
  });
});
