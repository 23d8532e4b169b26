import { describe, expect, test } from "bun:test";
import {
  classify,
  exitRc,
  looksLikeAllocationFailure,
  type RunOutcome,
} from "../../../src/sandbox/status.ts";

const ok: RunOutcome = {
  ready: true,
  exitCode: 0,
  exitSignal: null,
  killReason: null,
  durationMs: 10,
  wallMs: 1000,
  cgroupOomKill: false,
  allocationFailure: false,
  survivors: 0,
  outputExceeded: false,
  commandNotFound: false,
};

describe("classify", () => {
  test("rc 0 is OK, other rc FAILED", () => {
    expect(classify(ok)).toEqual({ status: "OK", rc: 0, reason: null });
    expect(classify({ ...ok, exitCode: 2 })).toEqual({ status: "FAILED", rc: 2, reason: null });
  });
  test("a timeout is rc 124", () => {
    expect(classify({ ...ok, killReason: "timeout", exitCode: 143 })).toEqual({
      status: "TIMEOUT",
      rc: 124,
      reason: "wall_timeout",
    });
  });
  test("AR-8: a run that reached its wall limit without the timer firing is TIMEOUT", () => {
    expect(classify({ ...ok, durationMs: 1000 }).status).toBe("TIMEOUT");
    expect(classify({ ...ok, durationMs: 999.9 }).status).toBe("OK");
  });
  test("a cgroup OOM kill is MEM_LIMIT even under a timeout", () => {
    expect(
      classify({ ...ok, cgroupOomKill: true, exitCode: 137, killReason: "timeout" }).status,
    ).toBe("MEM_LIMIT");
  });
  test("output limit, cancel, cpu limit and signals", () => {
    expect(classify({ ...ok, killReason: "output_limit", exitCode: 143 }).status).toBe(
      "OUTPUT_LIMIT",
    );
    expect(classify({ ...ok, killReason: "cancelled", exitCode: 143 })).toEqual({
      status: "KILLED",
      rc: 143,
      reason: "cancelled",
    });
    expect(classify({ ...ok, exitCode: 152 }).reason).toBe("cpu_limit");
    expect(classify({ ...ok, exitCode: null, exitSignal: "SIGKILL" })).toEqual({
      status: "KILLED",
      rc: 137,
      reason: "signal:SIGKILL",
    });
  });
  test("a run that never reached its command is INTERNAL_ERROR", () => {
    expect(classify({ ...ok, ready: false, exitCode: 1 })).toEqual({
      status: "INTERNAL_ERROR",
      rc: 1,
      reason: "sandbox_setup_failed",
    });
  });
  test("a command the OS could not find is FAILED rc 127", () => {
    expect(classify({ ...ok, ready: false, exitCode: null, commandNotFound: true })).toEqual({
      status: "FAILED",
      rc: 127,
      reason: "command_not_found",
    });
  });
  test("survivors beat every other status", () => {
    expect(classify({ ...ok, survivors: 1 }).reason).toBe("survivors_after_kill");
  });
});

describe("helpers", () => {
  test("exitRc maps signals shell-style", () => {
    expect(exitRc(null, "SIGTERM")).toBe(143);
    expect(exitRc(3, null)).toBe(3);
  });
  test("allocation failures are recognised only on failure", () => {
    expect(looksLikeAllocationFailure(1, "Traceback...\nMemoryError\n")).toBe(true);
    expect(looksLikeAllocationFailure(0, "MemoryError")).toBe(false);
    expect(looksLikeAllocationFailure(1, "assert 1 == 2")).toBe(false);
  });
});
