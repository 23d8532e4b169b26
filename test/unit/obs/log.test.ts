import { describe, expect, test } from "bun:test";
import { createLogger, REDACTED, redact, redactText } from "../../../src/obs/mod.ts";

function capture(level: "debug" | "info" | "warn" | "error" = "info") {
  const lines: string[] = [];
  const log = createLogger({
    level,
    write: (line) => lines.push(line),
    nowMs: () => Date.UTC(2026, 10, 25, 12, 0, 0, 5),
  });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("createLogger", () => {
  test("writes ts (UTC ISO-8601), level, event, then fields", () => {
    const { log, lines, parsed } = capture();
    log.info("server.listening", { url: "http://127.0.0.1:1" });
    expect(lines[0]).toBe(
      '{"ts":"2026-11-25T12:00:00.005Z","level":"info","event":"server.listening","url":"http://127.0.0.1:1"}',
    );
    expect(Object.keys(parsed()[0] ?? {}).slice(0, 3)).toEqual(["ts", "level", "event"]);
  });

  test("drops lines below the level", () => {
    const { log, parsed } = capture("warn");
    log.debug("a");
    log.info("b");
    log.warn("c");
    log.error("d");
    expect(parsed().map((l) => l.event)).toEqual(["c", "d"]);
  });

  test("child loggers carry their fields", () => {
    const { log, parsed } = capture();
    log.child({ request_id: "r1" }).info("x", { n: 1 });
    expect(parsed()[0]).toMatchObject({ event: "x", request_id: "r1", n: 1 });
  });

  test("never writes credentials", () => {
    const { log, lines } = capture();
    log.info("x", {
      authorization: "Bearer vlt_abcdefghijklmnop",
      admin_token: "s3cr3t-value-here",
      nested: { password: "p", note: "sent Bearer abcdef and vlt_0123456789abcdef" },
      error: new Error("bad token vlt_0123456789abcdef"),
    });
    const text = lines.join("\n");
    expect(text).not.toContain("vlt_abcdefghijklmnop");
    expect(text).not.toContain("s3cr3t-value-here");
    expect(text).not.toContain("vlt_0123456789abcdef");
    expect(text).not.toContain("abcdef and");
    expect(text).toContain(REDACTED);
  });

  test("bigint fields serialise as strings", () => {
    const { log, parsed } = capture();
    log.info("x", { key: 2n ** 64n });
    expect(parsed()[0]?.key).toBe("18446744073709551616");
  });
});

describe("redact", () => {
  test("keeps ordinary values and shapes", () => {
    expect(redact({ a: 1, b: [1, "x"], c: null })).toEqual({ a: 1, b: [1, "x"], c: null });
  });
  test("masks bearer text", () => {
    expect(redactText("Authorization: Bearer abc.def")).toBe(`Authorization: Bearer ${REDACTED}`);
  });
  test("bounds depth", () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 20; i++) deep = { next: deep };
    expect(JSON.stringify(redact(deep))).toContain("[DEPTH]");
  });
});
