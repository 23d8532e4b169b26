import { describe, expect, test } from "bun:test";
import { AssertionError, LimitTable } from "../../../src/core/mod.ts";

const table = () =>
  new LimitTable<"itemsMax" | "groupItemsMax">(
    "demo_limits",
    {
      itemsMax: { default: 10, min: 1, max: 100, unit: "items", reason: "bounds one batch" },
      groupItemsMax: { default: 20, min: 1, max: 1000, unit: "items", reason: "bounds a group" },
    },
    [
      {
        key: "groupItemsMax",
        message: "must be at least demo_limits.items_max",
        holds: (l) => l.groupItemsMax >= l.itemsMax,
      },
    ],
  );

describe("LimitTable", () => {
  test("resolves defaults, values at the bounds, and snake_case config objects", () => {
    expect(table().resolve()).toEqual({ itemsMax: 10, groupItemsMax: 20 });
    expect(table().resolve({ itemsMax: 1 }).itemsMax).toBe(1);
    expect(table().resolve({ itemsMax: 100, groupItemsMax: 100 }).itemsMax).toBe(100);
    expect(table().resolveSnake({ group_items_max: 50 })).toEqual({
      itemsMax: 10,
      groupItemsMax: 50,
    });
  });

  test("one error shape: config_invalid naming <option>.<snake_key>, the range and the unit", () => {
    for (const [value, shown] of [
      [0, "0"],
      [101, "101"],
      [1.5, "1.5"],
      ["5", '"5"'],
    ] as const) {
      expect(() => table().resolve({ itemsMax: value as number })).toThrow(
        expect.objectContaining({
          code: "config_invalid",
          message: `demo_limits.items_max: must be an integer in [1, 100] (items), got ${shown}`,
          details: expect.objectContaining({ field: "demo_limits.items_max", min: 1, max: 100 }),
        }),
      );
    }
  });

  test("relations are checked on every resolve; unknown snake keys are refused", () => {
    expect(() => table().resolve({ itemsMax: 50, groupItemsMax: 40 })).toThrow(
      expect.objectContaining({
        code: "config_invalid",
        details: expect.objectContaining({ field: "demo_limits.group_items_max" }),
      }),
    );
    expect(() => table().resolveSnake({ items: 3 })).toThrow(
      expect.objectContaining({
        code: "config_invalid",
        details: expect.objectContaining({ field: "demo_limits.items" }),
      }),
    );
  });

  test("a default outside its bounds, or defaults breaking a relation, is a bug caught at definition", () => {
    expect(
      () => new LimitTable("bad", { x: { default: 0, min: 1, max: 2, unit: "u", reason: "r" } }),
    ).toThrow(AssertionError);
    expect(
      () =>
        new LimitTable<"a">("bad", { a: { default: 5, min: 1, max: 9, unit: "u", reason: "r" } }, [
          { key: "a", message: "must be small", holds: (l) => l.a < 3 },
        ]),
    ).toThrow(AssertionError);
  });
});
