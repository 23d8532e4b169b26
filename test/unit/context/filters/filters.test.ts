import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import * as v from "valibot";
import {
  canonicalJson,
  FILTER_LIMITS_DEFAULT,
  FILTER_OPS,
  FilterSchema,
  type FilterTarget,
  parseFilter,
  prepareFilter,
} from "../../../../src/context/filters/mod.ts";
import { VltairError } from "../../../../src/core/mod.ts";

const DOC: FilterTarget = {
  id: "src/app.ts#1",
  version: 3,
  scope: { kind: "session", id: "s1" },
  metadata: {
    lang: "ts",
    lines: 120,
    tags: ["api", "http", 7],
    path: "src/app.ts",
    nested: { deep: { flag: true, zero: 0, nil: null } },
    five: "5",
  },
};
const GLOBAL_DOC: FilterTarget = {
  id: "readme",
  version: 1,
  scope: { kind: "global" },
  metadata: undefined,
};

const matches = (filter: unknown, doc: FilterTarget = DOC) =>
  prepareFilter(filter, FILTER_LIMITS_DEFAULT).predicate(doc);
const cond = (field: string, op: string, value: unknown) => ({ field, op, value });

describe("filter operators", () => {
  const cases: [string, unknown, boolean][] = [
    ["eq string", cond("metadata.lang", "eq", "ts"), true],
    ["eq other", cond("metadata.lang", "eq", "js"), false],
    ["eq never coerces", cond("metadata.five", "eq", 5), false],
    ["eq null", cond("metadata.nested.deep.nil", "eq", null), true],
    ["eq on id", cond("id", "eq", "src/app.ts#1"), true],
    ["eq on version", cond("version", "eq", 3), true],
    ["eq on scope.kind", cond("scope.kind", "eq", "session"), true],
    ["eq on scope.id", cond("scope.id", "eq", "s1"), true],
    ["eq on a missing field is false", cond("metadata.nope", "eq", "x"), false],
    ["ne", cond("metadata.lang", "ne", "js"), true],
    ["ne equal", cond("metadata.lang", "ne", "ts"), false],
    ["ne on a missing field is true", cond("metadata.nope", "ne", "x"), true],
    ["ne never coerces", cond("metadata.five", "ne", 5), true],
    ["lt", cond("metadata.lines", "lt", 121), true],
    ["lt at the value", cond("metadata.lines", "lt", 120), false],
    ["lte at the value", cond("metadata.lines", "lte", 120), true],
    ["gt", cond("metadata.lines", "gt", 119), true],
    ["gt at the value", cond("metadata.lines", "gt", 120), false],
    ["gte at the value", cond("metadata.lines", "gte", 120), true],
    ["gt strings compare by code unit", cond("metadata.lang", "gt", "tr"), true],
    ["lt across types is false", cond("metadata.five", "lt", 9), false],
    ["lt on a missing field is false", cond("metadata.nope", "lt", 9), false],
    ["version gte", cond("version", "gte", 3), true],
    ["in", cond("metadata.lang", "in", ["js", "ts"]), true],
    ["in without it", cond("metadata.lang", "in", ["js", "py"]), false],
    ["in never coerces", cond("metadata.lines", "in", ["120"]), false],
    ["in on a missing field is false", cond("metadata.nope", "in", ["x"]), false],
    ["nin", cond("metadata.lang", "nin", ["js"]), true],
    ["nin with it", cond("metadata.lang", "nin", ["ts"]), false],
    ["nin on a missing field is true", cond("metadata.nope", "nin", ["x"]), true],
    ["exists true", cond("metadata.nested.deep.flag", "exists", true), true],
    ["exists true on null value", cond("metadata.nested.deep.nil", "exists", true), true],
    ["exists true missing", cond("metadata.nope", "exists", true), false],
    ["exists false missing", cond("metadata.nope", "exists", false), true],
    ["exists false present", cond("metadata.lang", "exists", false), false],
    ["exists on scope.id of a session doc", cond("scope.id", "exists", false), false],
    ["prefix", cond("metadata.path", "prefix", "src/"), true],
    ["prefix other", cond("metadata.path", "prefix", "test/"), false],
    ["prefix on a number is false", cond("metadata.lines", "prefix", "12"), false],
    ["prefix on id", cond("id", "prefix", "src/"), true],
    ["contains array member", cond("metadata.tags", "contains", "http"), true],
    ["contains array member number", cond("metadata.tags", "contains", 7), true],
    ["contains array never coerces", cond("metadata.tags", "contains", "7"), false],
    ["contains substring", cond("metadata.path", "contains", "app"), true],
    ["contains substring missing", cond("metadata.path", "contains", "zzz"), false],
    ["contains on a number is false", cond("metadata.lines", "contains", 1), false],
    ["array index path", cond("metadata.tags.0", "eq", "api"), true],
    ["falsy values are present", cond("metadata.nested.deep.zero", "eq", 0), true],
    ["and", { and: [cond("metadata.lang", "eq", "ts"), cond("version", "gt", 1)] }, true],
    [
      "and one false",
      { and: [cond("metadata.lang", "eq", "ts"), cond("version", "gt", 5)] },
      false,
    ],
    ["or", { or: [cond("metadata.lang", "eq", "js"), cond("version", "eq", 3)] }, true],
    ["or none", { or: [cond("metadata.lang", "eq", "js"), cond("version", "eq", 4)] }, false],
    ["not", { not: cond("metadata.lang", "eq", "js") }, true],
    ["not of missing eq", { not: cond("metadata.nope", "eq", 1) }, true],
    [
      "nested",
      { and: [{ or: [cond("id", "eq", "x"), { not: cond("scope.kind", "eq", "global") }] }] },
      true,
    ],
  ];
  for (const [name, filter, expected] of cases) {
    test(name, () => {
      expect(matches(filter)).toBe(expected);
    });
  }

  test("every operator is covered above", () => {
    const used = new Set(
      cases
        .map(([, f]) => JSON.stringify(f))
        .join(" ")
        .match(/"op":"(\w+)"/g),
    );
    for (const op of FILTER_OPS) expect([...used].some((u) => u.includes(`"${op}"`))).toBe(true);
  });

  test("a document without metadata fails metadata conditions but not ne/nin/exists:false", () => {
    expect(matches(cond("metadata.a", "eq", 1), GLOBAL_DOC)).toBe(false);
    expect(matches(cond("metadata.a", "ne", 1), GLOBAL_DOC)).toBe(true);
    expect(matches(cond("metadata.a", "nin", [1]), GLOBAL_DOC)).toBe(true);
    expect(matches(cond("metadata.a", "exists", false), GLOBAL_DOC)).toBe(true);
    expect(matches(cond("scope.id", "exists", false), GLOBAL_DOC)).toBe(true);
    expect(matches(cond("scope.id", "ne", "s1"), GLOBAL_DOC)).toBe(true);
  });

  test("inherited object properties are not fields", () => {
    expect(matches(cond("metadata.toString", "exists", true))).toBe(false);
    expect(matches(cond("metadata.lang.length", "exists", true))).toBe(false);
  });
});

describe("invalid filters: filters_invalid with details.path", () => {
  const cases: [string, unknown, string][] = [
    ["not an object", 5, "$"],
    ["an array", [cond("id", "eq", "x")], "$"],
    ["not JSON text", "{field:", "$"],
    ["unknown op", cond("id", "like", "x"), "$.op"],
    ["missing op", { field: "id", value: "x" }, "$.op"],
    ["unknown field", cond("title", "eq", "x"), "$.field"],
    ["field not a string", cond(5 as unknown as string, "eq", "x"), "$.field"],
    ["empty metadata segment", cond("metadata..a", "eq", "x"), "$.field"],
    ["bare metadata", cond("metadata", "eq", "x"), "$.field"],
    ["extra key", { ...cond("id", "eq", "x"), extra: 1 }, "$.extra"],
    ["eq with an object", cond("id", "eq", { a: 1 }), "$.value"],
    ["eq with an array", cond("id", "eq", [1]), "$.value"],
    ["lt with a boolean", cond("version", "lt", true), "$.value"],
    ["lt with null", cond("version", "lt", null), "$.value"],
    ["in with a scalar", cond("id", "in", "x"), "$.value"],
    ["in empty", cond("id", "in", []), "$.value"],
    ["in with an object member", cond("id", "in", ["a", { b: 1 }]), "$.value[1]"],
    ["exists with a string", cond("id", "exists", "yes"), "$.value"],
    ["prefix with a number", cond("id", "prefix", 1), "$.value"],
    ["contains with an array", cond("metadata.tags", "contains", ["a"]), "$.value"],
    ["and empty", { and: [] }, "$.and"],
    ["and not an array", { and: cond("id", "eq", "x") }, "$.and"],
    ["or child bad", { or: [cond("id", "eq", "x"), cond("id", "bad", "x")] }, "$.or[1].op"],
    ["not child bad", { not: { and: [cond("nope", "eq", 1)] } }, "$.not.and[0].field"],
    ["and plus another key", { and: [cond("id", "eq", "x")], or: [] }, "$.and"],
  ];
  for (const [name, filter, path] of cases) {
    test(name, () => {
      try {
        prepareFilter(filter, FILTER_LIMITS_DEFAULT);
        throw new Error("expected filters_invalid");
      } catch (error) {
        expect(error).toBeInstanceOf(VltairError);
        expect((error as VltairError).code).toBe("filters_invalid");
        expect((error as VltairError).details.path).toBe(path);
      }
    });
  }

  test("depth limit: at the limit passes, one past fails", () => {
    const limits = { ...FILTER_LIMITS_DEFAULT, depthMax: 3 };
    const nest = (n: number): unknown => (n === 1 ? cond("id", "eq", "x") : { not: nest(n - 1) });
    expect(() => parseFilter(nest(3), limits)).not.toThrow();
    expect(() => parseFilter(nest(4), limits)).toThrow(VltairError);
  });

  test("conditions limit: at the limit passes, one past fails", () => {
    const limits = { ...FILTER_LIMITS_DEFAULT, conditionsMax: 4 };
    const many = (n: number) => ({ and: Array.from({ length: n }, () => cond("id", "eq", "x")) });
    expect(() => parseFilter(many(4), limits)).not.toThrow();
    try {
      parseFilter(many(5), limits);
      throw new Error("expected filters_invalid");
    } catch (error) {
      expect((error as VltairError).details).toMatchObject({ path: "$.and[4]", limit: 4 });
    }
  });

  test("in-values and text-length limits", () => {
    const limits = { ...FILTER_LIMITS_DEFAULT, inValuesMax: 2, textCharsMax: 60 };
    expect(() => parseFilter(cond("id", "in", ["a", "b"]), limits)).not.toThrow();
    expect(() => parseFilter(cond("id", "in", ["a", "b", "c"]), limits)).toThrow(VltairError);
    const text = JSON.stringify(cond("id", "eq", "x".repeat(60)));
    expect(() => parseFilter(text, limits)).toThrow(VltairError);
  });
});

describe("canonical form (CE-9)", () => {
  const filterArb = fc.letrec((tie) => ({
    cond: fc.record({
      field: fc.constantFrom("id", "version", "scope.kind", "metadata.a", "metadata.b.c"),
      op: fc.constantFrom("eq", "ne", "contains"),
      value: fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.boolean(), fc.constant(null)),
    }),
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      tie("cond"),
      fc.record({ and: fc.array(tie("node"), { minLength: 1, maxLength: 3 }) }),
      fc.record({ or: fc.array(tie("node"), { minLength: 1, maxLength: 3 }) }),
      fc.record({ not: tie("node") }),
    ),
  })).node;

  function shuffleKeys(value: unknown, seed: number): unknown {
    if (Array.isArray(value)) return value.map((v, i) => shuffleKeys(v, seed + i));
    if (value === null || typeof value !== "object") return value;
    const entries = Object.entries(value);
    if (seed % 2 === 1) entries.reverse();
    return Object.fromEntries(entries.map(([k, v], i) => [k, shuffleKeys(v, seed * 31 + i)]));
  }

  test("object, reordered object and JSON string canonicalize to one text", () => {
    fc.assert(
      fc.property(filterArb, fc.integer({ min: 0, max: 1000 }), (filter, seed) => {
        const a = prepareFilter(filter, FILTER_LIMITS_DEFAULT).canonical;
        const b = prepareFilter(shuffleKeys(filter, seed), FILTER_LIMITS_DEFAULT).canonical;
        const c = prepareFilter(
          JSON.stringify(shuffleKeys(filter, seed + 1)),
          FILTER_LIMITS_DEFAULT,
        ).canonical;
        expect(b).toBe(a);
        expect(c).toBe(a);
        expect(a).toBe(canonicalJson(JSON.parse(a)));
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  test("every filter parseFilter accepts, the published valibot schema accepts", () => {
    fc.assert(
      fc.property(filterArb, (filter) => {
        parseFilter(filter, FILTER_LIMITS_DEFAULT);
        expect(v.safeParse(FilterSchema, filter).success).toBe(true);
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  test("the canonical text sorts keys", () => {
    const { canonical } = prepareFilter(
      '{"value":"x","op":"eq","field":"id"}',
      FILTER_LIMITS_DEFAULT,
    );
    expect(canonical).toBe('{"field":"id","op":"eq","value":"x"}');
  });
});
