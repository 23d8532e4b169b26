import { describe, expect, test } from "bun:test";
import { configOptions, parseFlags, UsageError } from "../../../src/cli/args.ts";
import { CONFIG_FIELDS, CONFIG_KEYS } from "../../../src/config/mod.ts";

const OPTIONS = {
  json: { type: "boolean" as const },
  "vector-thread": { type: "boolean" as const },
  "wall-ms": { type: "string" as const },
  scope: { type: "string" as const },
};

describe("parseFlags: booleans", () => {
  const cases: [string[], Record<string, unknown>][] = [
    [["--json"], { json: true }],
    [["--json=true"], { json: true }],
    [["--json=false"], { json: false }],
    [["--json=0"], { json: false }],
    [["--json=YES"], { json: true }],
    [["--no-json"], { json: false }],
    [["--no-vector-thread"], { "vector-thread": false }],
    [["--vector-thread=false", "--json"], { "vector-thread": false, json: true }],
    // The last word wins, as with repeated flags.
    [["--no-json", "--json=true"], { json: true }],
  ];
  for (const [argv, want] of cases) {
    test(argv.join(" "), () => {
      expect(parseFlags(argv, OPTIONS, 0).values).toMatchObject(want);
    });
  }

  test("a boolean given another word, and --no- of a string flag, are usage errors naming the flag", () => {
    for (const [argv, field] of [
      [["--json=maybe"], "--json"],
      [["--no-scope"], "--no-scope"],
    ] as const) {
      const error = (() => {
        try {
          parseFlags(argv, OPTIONS, 0);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).field).toBe(field);
    }
  });

  test("every boolean option of the config has --x=false and --no-x", () => {
    const bools = CONFIG_KEYS.filter((k) => CONFIG_FIELDS[k].kind === "bool");
    expect(bools.length).toBeGreaterThan(0);
    for (const key of bools) {
      const flag = CONFIG_FIELDS[key].flag as string;
      expect(parseFlags([`--no-${flag}`], configOptions(), 0).values[flag]).toBe(false);
      expect(parseFlags([`--${flag}=false`], configOptions(), 0).values[flag]).toBe(false);
      expect(parseFlags([`--${flag}`], configOptions(), 0).values[flag]).toBe(true);
    }
  });
});

describe("parseFlags: values", () => {
  test("a negative number is a flag's value, not a flag; after -- nothing is rewritten", () => {
    expect(parseFlags(["--wall-ms", "-5"], OPTIONS, 0).values["wall-ms"]).toBe("-5");
    const parsed = parseFlags(["--", "--no-json", "--json=false"], OPTIONS, 2);
    expect(parsed.positionals).toEqual(["--no-json", "--json=false"]);
    expect(parsed.values.json).toBeUndefined();
  });
});
