import { describe, expect, test } from "bun:test";
import { VltairError } from "../../../src/core/mod.ts";
import { resolveLimitConfig, SANDBOX_LIMITS } from "../../../src/sandbox/options.ts";
import { validateRequest } from "../../../src/sandbox/validate.ts";

const limits = resolveLimitConfig();

function failure(body: unknown): { code: string; field: unknown } {
  try {
    validateRequest(body, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(VltairError);
    const e = error as VltairError;
    return { code: e.code, field: e.details.field };
  }
  throw new Error("expected validation_failed");
}

describe("validateRequest", () => {
  test("fills defaults: network deny, allow_partial true, configured limits", () => {
    const req = validateRequest({ cmd: ["true"] }, limits);
    expect(req.network).toBe("deny");
    expect(req.allowPartial).toBe(true);
    expect(req.wallMs).toBe(SANDBOX_LIMITS.specs.wallMsDefault.default);
    expect(req.memBytes).toBe(SANDBOX_LIMITS.specs.memBytesDefault.default);
    expect(req.outputBytes).toBe(SANDBOX_LIMITS.specs.outputBytesDefault.default);
    expect(req.pids).toBe(SANDBOX_LIMITS.specs.pidsDefault.default);
    expect(req.cpuMs).toBeNull();
  });
  test("empty cmd and empty cmd[0] are refused naming cmd", () => {
    expect(failure({ cmd: [] })).toEqual({ code: "validation_failed", field: "cmd" });
    expect(failure({ cmd: [""] })).toEqual({ code: "validation_failed", field: "cmd" });
    expect(failure({})).toEqual({ code: "validation_failed", field: "cmd" });
  });
  test("limits at the ceiling pass, one past fail naming the field", () => {
    expect(
      validateRequest({ cmd: ["x"], limits: { wall_ms: limits.wallMsMax } }, limits).wallMs,
    ).toBe(limits.wallMsMax);
    expect(failure({ cmd: ["x"], limits: { wall_ms: limits.wallMsMax + 1 } }).field).toBe(
      "limits.wall_ms",
    );
    expect(failure({ cmd: ["x"], limits: { mem_bytes: limits.memBytesMax + 1 } }).field).toBe(
      "limits.mem_bytes",
    );
    expect(
      failure({ cmd: ["x"], limits: { mem_bytes: SANDBOX_LIMITS.specs.memBytesMax.min - 1 } })
        .field,
    ).toBe("limits.mem_bytes");
    expect(failure({ cmd: ["x"], limits: { output_bytes: limits.outputBytesMax + 1 } }).field).toBe(
      "limits.output_bytes",
    );
    expect(
      failure({ cmd: ["x"], limits: { pids: SANDBOX_LIMITS.specs.pidsMax.min - 1 } }).field,
    ).toBe("limits.pids");
    expect(failure({ cmd: ["x"], limits: { cpu_ms: limits.cpuMsMax + 1 } }).field).toBe(
      "limits.cpu_ms",
    );
  });
  test("non-integer, zero and unknown limits are refused", () => {
    expect(failure({ cmd: ["x"], limits: { wall_ms: 1.5 } }).field).toBe("limits.wall_ms");
    expect(failure({ cmd: ["x"], limits: { wall_ms: 0 } }).field).toBe("limits.wall_ms");
    expect(failure({ cmd: ["x"], limits: { wall_msec: 5 } }).code).toBe("validation_failed");
  });
  test("bad env names, NUL bytes, bad network and oversized stdin are refused", () => {
    expect(failure({ cmd: ["x"], env: { "1BAD": "v" } }).code).toBe("validation_failed");
    expect(failure({ cmd: ["x\0y"] }).field).toBe("cmd.0");
    expect(failure({ cmd: ["x"], network: "maybe" }).field).toBe("network");
    const small = resolveLimitConfig({ stdinBytesMax: 4 });
    expect(() => validateRequest({ cmd: ["x"], stdin: "12345" }, small)).toThrow(VltairError);
    expect(validateRequest({ cmd: ["x"], stdin: "1234" }, small).stdin).toBe("1234");
  });
});

describe("resolveLimitConfig", () => {
  test("defaults resolve and every spec has a reason", () => {
    expect(resolveLimitConfig().wallMsDefault).toBe(30_000);
    for (const spec of Object.values(SANDBOX_LIMITS.specs)) {
      expect(spec.reason.length).toBeGreaterThan(10);
      expect(spec.min).toBeLessThanOrEqual(spec.max);
    }
  });
  test("a default above its configured maximum is config_invalid", () => {
    expect(() => resolveLimitConfig({ wallMsDefault: 5000, wallMsMax: 1000 })).toThrow(VltairError);
  });
  test("a value past its ceiling is config_invalid naming the key", () => {
    try {
      resolveLimitConfig({ outputBytesMax: SANDBOX_LIMITS.specs.outputBytesMax.max + 1 });
      throw new Error("expected config_invalid");
    } catch (error) {
      expect((error as VltairError).code).toBe("config_invalid");
      expect((error as VltairError).details.field).toBe("sandbox_limits.output_bytes_max");
    }
  });
});
