/**
 * Validation of a sandbox request against the schema and the configured ceilings. Every failure
 * is a `validation_failed` VltairError whose `details.field` names the offending field (dotted
 * path); nothing runs.
 */
import * as v from "valibot";
import { VltairError } from "../core/mod.ts";
import { SANDBOX_LIMITS, type SandboxLimitConfig } from "./options.ts";
import { SandboxRequestSchema } from "./schema.ts";

/** A validated request, camelCase, with every limit filled in from the configured defaults. */
export interface ResolvedRequest {
  cmd: readonly string[];
  cwd: string | undefined;
  env: Readonly<Record<string, string>>;
  stdin: string | undefined;
  wallMs: number;
  memBytes: number;
  outputBytes: number;
  pids: number;
  cpuMs: number | null;
  /** `proxy`: only the listed hosts, through the server's proxy (`networkAllow`). */
  network: "deny" | "allow" | "proxy";
  /** The allowlist's patterns as sent (checked against the ceiling by the runner); else empty. */
  networkAllow: readonly string[];
  allowPartial: boolean;
}

function fieldOf(issue: v.BaseIssue<unknown>): string {
  const path = v.getDotPath(issue);
  return path ?? "body";
}

function outOfRange(field: string, value: number, min: number, max: number): VltairError {
  return new VltairError("validation_failed", `${field} out of range`, {
    details: { field, issue: "out_of_range", min, max, value },
  });
}

function within(field: string, value: number, min: number, max: number): number {
  if (value < min || value > max) throw outOfRange(field, value, min, max);
  return value;
}

/**
 * Parses `body` and applies the configured limits.
 *
 * @example
 * ```ts
 * const req = validateRequest({ cmd: ["true"] }, resolveLimitConfig());
 * req.wallMs; // 30000
 * ```
 */
export function validateRequest(body: unknown, limits: SandboxLimitConfig): ResolvedRequest {
  const parsed = v.safeParse(SandboxRequestSchema, body);
  if (!parsed.success) {
    const first = parsed.issues[0];
    const field = fieldOf(first);
    throw new VltairError("validation_failed", `invalid sandbox request: ${first.message}`, {
      details: { field, issue: first.type, message: first.message },
    });
  }
  const req = parsed.output;
  const lim = req.limits ?? {};
  const stdinBytes = req.stdin === undefined ? 0 : new TextEncoder().encode(req.stdin).length;
  within("stdin", stdinBytes, 0, limits.stdinBytesMax);
  return {
    cmd: req.cmd,
    cwd: req.cwd,
    env: req.env ?? {},
    stdin: req.stdin,
    wallMs: within(
      "limits.wall_ms",
      lim.wall_ms ?? limits.wallMsDefault,
      SANDBOX_LIMITS.specs.wallMsMax.min,
      limits.wallMsMax,
    ),
    memBytes: within(
      "limits.mem_bytes",
      lim.mem_bytes ?? limits.memBytesDefault,
      SANDBOX_LIMITS.specs.memBytesMax.min,
      limits.memBytesMax,
    ),
    outputBytes: within(
      "limits.output_bytes",
      lim.output_bytes ?? limits.outputBytesDefault,
      SANDBOX_LIMITS.specs.outputBytesMax.min,
      limits.outputBytesMax,
    ),
    pids: within(
      "limits.pids",
      lim.pids ?? limits.pidsDefault,
      SANDBOX_LIMITS.specs.pidsMax.min,
      limits.pidsMax,
    ),
    cpuMs:
      lim.cpu_ms === undefined
        ? null
        : within("limits.cpu_ms", lim.cpu_ms, SANDBOX_LIMITS.specs.cpuMsMax.min, limits.cpuMsMax),
    network: typeof req.network === "string" ? req.network : "proxy",
    networkAllow: typeof req.network === "string" ? [] : req.network.allow,
    allowPartial: req.allow_partial,
  };
}
