import { describe, expect, test } from "bun:test";
import { formatSandboxHeader, formatSandboxText } from "../../../src/sandbox/format.ts";
import { ENFORCED_KEYS, type SandboxResult } from "../../../src/sandbox/schema.ts";

const entry = { requested: null, applied: false, mechanism: "none", reason: "not requested" };
const result: SandboxResult = {
  status: "OK",
  rc: 0,
  stdout: "3 passed",
  stderr: "",
  stdout_truncated: false,
  stderr_truncated: false,
  duration_ms: 42,
  max_rss_bytes: null,
  cpu_ms: null,
  enforced: Object.fromEntries(ENFORCED_KEYS.map((k) => [k, entry])) as SandboxResult["enforced"],
  network_refused: null,
  reason: null,
  trace_id: "0af7651916cd43dd8448eb211c80319c",
};

describe("formatSandboxText (AR-13)", () => {
  test("starts with the [sandbox] traceId=… duration_ms=… line", () => {
    const text = formatSandboxText(result);
    expect(
      text.startsWith("[sandbox] traceId=0af7651916cd43dd8448eb211c80319c duration_ms=42 "),
    ).toBe(true);
    expect(text).toBe(
      "[sandbox] traceId=0af7651916cd43dd8448eb211c80319c duration_ms=42 status=OK rc=0\n3 passed\n",
    );
  });
  test("adds the reason and a stderr section when present", () => {
    const text = formatSandboxText({
      ...result,
      status: "TIMEOUT",
      rc: 124,
      reason: "wall_timeout",
      stderr: "boom\n",
    });
    expect(
      formatSandboxHeader({ ...result, reason: "wall_timeout" }).endsWith(" reason=wall_timeout"),
    ).toBe(true);
    expect(text.endsWith("[stderr]\nboom\n")).toBe(true);
  });
});
