import { describe, expect, test } from "bun:test";
import { buildChildEnv, FALLBACK_PATH } from "../../../src/sandbox/env.ts";

const base = { passthrough: [], requestEnv: {}, homeDir: "/t/home", tmpDir: "/t/tmp" };

describe("buildChildEnv", () => {
  test("copies only the allowlist and sets HOME/TMPDIR inside the run dir", () => {
    const env = buildChildEnv({
      ...base,
      parentEnv: {
        PATH: "/p",
        LANG: "de_DE.UTF-8",
        VLTAIR_ADMIN_TOKEN: "secret",
        AWS_SECRET_ACCESS_KEY: "x",
        HOME: "/root",
      },
    });
    expect(env).toEqual({
      PATH: "/p",
      LANG: "de_DE.UTF-8",
      TZ: "UTC",
      HOME: "/t/home",
      TMPDIR: "/t/tmp",
    });
  });
  test("falls back to a fixed PATH, LANG and TZ", () => {
    const env = buildChildEnv({ ...base, parentEnv: {} });
    expect(env.PATH).toBe(FALLBACK_PATH);
    expect(env.LANG).toBe("C.UTF-8");
    expect(env.TZ).toBe("UTC");
  });
  test("passes the coverage variables through when named (AR-1, AR-6)", () => {
    const env = buildChildEnv({
      ...base,
      passthrough: ["COVERAGE_PROCESS_START", "COVERAGE_RCFILE", "COVERAGE_FILE", "NOT_SET"],
      parentEnv: {
        COVERAGE_PROCESS_START: "/w/.coveragerc",
        COVERAGE_RCFILE: "/w/rc",
        COVERAGE_FILE: "/w/.cov",
        OTHER: "no",
      },
    });
    expect(env.COVERAGE_PROCESS_START).toBe("/w/.coveragerc");
    expect(env.COVERAGE_RCFILE).toBe("/w/rc");
    expect(env.COVERAGE_FILE).toBe("/w/.cov");
    expect("NOT_SET" in env).toBe(false);
    expect("OTHER" in env).toBe(false);
  });
  test("the request's env wins over the allowlist", () => {
    const env = buildChildEnv({
      ...base,
      parentEnv: { PATH: "/p" },
      requestEnv: { PATH: "/mine", FOO: "1" },
    });
    expect(env.PATH).toBe("/mine");
    expect(env.FOO).toBe("1");
  });
});
