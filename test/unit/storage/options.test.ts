import { describe, expect, test } from "bun:test";
import {
  FSYNC_INTERVAL_MS_MAX,
  parseFsyncPolicy,
  resolveLimits,
  STORAGE_LIMITS,
} from "../../../src/storage/mod.ts";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe("parseFsyncPolicy", () => {
  test("accepts always, none and interval:<ms> within bounds", () => {
    expect(parseFsyncPolicy("always")).toEqual({ kind: "always" });
    expect(parseFsyncPolicy("none")).toEqual({ kind: "none" });
    expect(parseFsyncPolicy("interval:1")).toEqual({ kind: "interval", intervalMs: 1 });
    expect(parseFsyncPolicy(`interval:${FSYNC_INTERVAL_MS_MAX}`)).toEqual({
      kind: "interval",
      intervalMs: FSYNC_INTERVAL_MS_MAX,
    });
  });

  test("rejects anything else with config_invalid", () => {
    for (const bad of [
      "",
      "sometimes",
      "interval:",
      "interval:0",
      `interval:${FSYNC_INTERVAL_MS_MAX + 1}`,
      "interval:-5",
      "ALWAYS",
    ]) {
      expect(codeOf(() => parseFsyncPolicy(bad))).toBe("config_invalid");
    }
  });
});

describe("resolveLimits", () => {
  test("fills defaults that respect their own bounds", () => {
    const limits = resolveLimits();
    for (const key of STORAGE_LIMITS.keys()) {
      const bound = STORAGE_LIMITS.specs[key];
      const value = limits[key];
      expect(value).toBe(bound.default);
      expect(value).toBeGreaterThanOrEqual(bound.min);
      expect(value).toBeLessThanOrEqual(bound.max);
    }
  });

  test("accepts each limit at its bounds and rejects one past them", () => {
    expect(resolveLimits({ snapshotsKept: 1 }).snapshotsKept).toBe(1);
    expect(resolveLimits({ snapshotsKept: 100 }).snapshotsKept).toBe(100);
    expect(codeOf(() => resolveLimits({ snapshotsKept: 0 }))).toBe("config_invalid");
    expect(codeOf(() => resolveLimits({ snapshotsKept: 101 }))).toBe("config_invalid");
    expect(codeOf(() => resolveLimits({ segmentBytes: 1.5 }))).toBe("config_invalid");
  });

  test("a record must fit twice in a segment", () => {
    expect(resolveLimits({ segmentBytes: 65536, recordBytesMax: 32768 }).recordBytesMax).toBe(
      32768,
    );
    expect(codeOf(() => resolveLimits({ segmentBytes: 65536, recordBytesMax: 32769 }))).toBe(
      "config_invalid",
    );
  });
});
