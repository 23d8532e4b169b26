import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { CONFIG_FIELDS } from "../../../src/config/mod.ts";
import { applied, notApplied, notRequested } from "../../../src/sandbox/enforced.ts";
import { checkRequireList } from "../../../src/sandbox/options.ts";
import {
  DEFAULT_REQUIRE,
  hintFor,
  missingRequired,
  refusalReason,
} from "../../../src/sandbox/requirements.ts";
import { ENFORCED_KEYS, type EnforcedReport } from "../../../src/sandbox/schema.ts";
import { linuxCaps, missing } from "./fixtures.ts";

function report(unapplied: readonly string[], notAsked: readonly string[] = []): EnforcedReport {
  const entries = ENFORCED_KEYS.map((key) => {
    if (notAsked.includes(key)) return [key, notRequested()];
    if (unapplied.includes(key)) return [key, notApplied(1, `${key} missing here`)];
    return [key, applied(1, "m", "ok")];
  });
  return Object.fromEntries(entries) as EnforcedReport;
}

const strict = { require: DEFAULT_REQUIRE, allowPartial: false };
const lenient = { require: DEFAULT_REQUIRE, allowPartial: true };

describe("missingRequired", () => {
  const cases: [string, EnforcedReport, typeof strict, boolean, string[]][] = [
    ["all applied", report([]), strict, true, []],
    ["a required one missing", report(["filesystem", "cpu"]), strict, true, ["filesystem"]],
    ["request asks partial, operator does not", report(["pids"]), strict, true, ["pids"]],
    ["operator and request allow partial", report(["pids", "filesystem"]), lenient, true, []],
    ["operator allows, request does not", report(["pids"]), lenient, false, ["pids"]],
    ["hidden paths are never waived", report(["hidden_paths"]), lenient, true, ["hidden_paths"]],
    ["not requested is not missing", report([], ["hidden_paths"]), strict, true, []],
    [
      "an empty list still keeps hidden paths",
      report(["pids", "hidden_paths"]),
      { require: [], allowPartial: false },
      true,
      ["hidden_paths"],
    ],
  ];
  for (const [name, enforced, policy, requestPartial, expected] of cases) {
    test(name, () => {
      expect(missingRequired(enforced, policy, requestPartial)).toEqual(expected as never);
    });
  }
});

describe("refusalReason and hints", () => {
  test("stable prefix, then why it is missing and how to get it, per key", () => {
    const caps = linuxCaps();
    const reason = refusalReason(["filesystem", "pids"], report(["filesystem", "pids"]), caps);
    expect(reason).toStartWith("required_not_applied:filesystem,pids — ");
    expect(reason).toContain("filesystem: filesystem missing here; to get it: install bubblewrap");
    expect(reason).toContain(
      "pids: pids missing here; to get it: give the server a writable cgroup",
    );
  });
  test("a runtime that cannot read /proc (Deno without -A) is named first", () => {
    const caps = linuxCaps({
      procfs: missing('cannot read /proc: NotCapable: Requires all access to "/proc/self/stat"'),
    });
    expect(hintFor("filesystem", caps)).toStartWith("run Deno with --allow-all (-A)");
  });
  test("other OSes say so", () => {
    expect(hintFor("memory", linuxCaps({ platform: "darwin" }))).toContain(
      "not available on darwin",
    );
  });
});

describe("checkRequireList", () => {
  test("known keys pass; unknown or repeated ones are config_invalid", () => {
    expect(checkRequireList(["pids", "timeout"])).toEqual(["pids", "timeout"]);
    for (const bad of [["nope"], ["pids", "pids"]]) {
      expect(() => checkRequireList(bad)).toThrow(
        expect.objectContaining({ code: "config_invalid" }),
      );
    }
  });
});

describe("the sandbox_require option", () => {
  test("accepts exactly the enforced keys, and defaults to DEFAULT_REQUIRE", () => {
    const field = CONFIG_FIELDS.sandbox_require;
    expect(v.safeParse(field.schema, [...ENFORCED_KEYS]).success).toBe(true);
    expect(v.safeParse(field.schema, ["seccomp"]).success).toBe(false);
    expect<string[]>([...field.default]).toEqual([...DEFAULT_REQUIRE]);
  });
});
