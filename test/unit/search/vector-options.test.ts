import { describe, expect, test } from "bun:test";
import { VltairError } from "../../../src/core/mod.ts";
import {
  resolveVectorIndexOptions,
  VECTOR_INDEX_DEFAULTS,
  VECTOR_LIMITS,
  type VectorIndexOptions,
} from "../../../src/search/vector-options.ts";

function rejection(options: VectorIndexOptions): VltairError {
  try {
    resolveVectorIndexOptions(options);
  } catch (error) {
    if (error instanceof VltairError) return error;
    throw error;
  }
  throw new Error("options were accepted");
}

describe("resolveVectorIndexOptions", () => {
  test("applies the documented defaults", () => {
    expect(resolveVectorIndexOptions({ dimensions: 384 })).toEqual({
      dimensions: 384,
      ...VECTOR_INDEX_DEFAULTS,
    });
  });

  test("accepts every field at its limits", () => {
    const max = resolveVectorIndexOptions({
      dimensions: VECTOR_LIMITS.dimensionsMax,
      metric: "l2sq",
      quantization: "f16",
      connectivity: VECTOR_LIMITS.connectivityMax,
      expansionAdd: VECTOR_LIMITS.expansionMax,
      expansionSearch: VECTOR_LIMITS.expansionMax,
      capacity: VECTOR_LIMITS.capacityMax,
    });
    expect(max.dimensions).toBe(VECTOR_LIMITS.dimensionsMax);
    const min = resolveVectorIndexOptions({
      dimensions: 1,
      connectivity: VECTOR_LIMITS.connectivityMin,
      expansionAdd: 1,
      expansionSearch: 1,
      capacity: 1,
    });
    expect(min.connectivity).toBe(VECTOR_LIMITS.connectivityMin);
  });

  const cases: [string, VectorIndexOptions][] = [
    ["dimensions", { dimensions: 0 }],
    ["dimensions", { dimensions: VECTOR_LIMITS.dimensionsMax + 1 }],
    ["dimensions", { dimensions: 1.5 }],
    ["dimensions", { dimensions: Number.NaN }],
    ["metric", { dimensions: 4, metric: "dot" as "cos" }],
    ["quantization", { dimensions: 4, quantization: "f64" as "f32" }],
    ["quantization", { dimensions: 4, metric: "l2sq", quantization: "i8" }],
    ["quantization", { dimensions: 4, metric: "ip", quantization: "i8" }],
    ["connectivity", { dimensions: 4, connectivity: VECTOR_LIMITS.connectivityMin - 1 }],
    ["connectivity", { dimensions: 4, connectivity: VECTOR_LIMITS.connectivityMax + 1 }],
    ["expansionAdd", { dimensions: 4, expansionAdd: 0 }],
    ["expansionSearch", { dimensions: 4, expansionSearch: VECTOR_LIMITS.expansionMax + 1 }],
    ["capacity", { dimensions: 4, capacity: 0 }],
  ];
  for (const [field, options] of cases) {
    test(`rejects ${field} ${JSON.stringify(options)} with validation_failed`, () => {
      const error = rejection(options);
      expect(error.code).toBe("validation_failed");
      expect(error.details.field).toBe(field);
    });
  }
});
