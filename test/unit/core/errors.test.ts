import { describe, expect, test } from "bun:test";
import { ERROR_CODES, isErrorCode, statusOf, VltairError } from "../../../src/core/mod.ts";

// API.md's table, written out independently of the implementation so a drift fails here.
const API_TABLE: Record<number, string[]> = {
  // policy_invalid: API.md "Policy, budgets, audit"; workflow_invalid: its Orchestrator section.
  400: [
    "bad_request",
    "validation_failed",
    "filters_invalid",
    "config_invalid",
    "policy_invalid",
    "workflow_invalid",
  ],
  401: ["unauthorized"],
  403: ["forbidden", "policy_denied"],
  404: ["not_found"],
  405: ["method_not_allowed"],
  // embedder_mismatch: issue 12 adds it (a tenant's vectors and the configured embedder differ).
  409: ["conflict", "version_conflict", "idempotency_conflict", "embedder_mismatch"],
  413: ["payload_too_large"],
  429: ["rate_limited", "queue_full", "budget_exceeded"],
  500: ["internal"],
  // embedding_unavailable: issue 6 (CE-13) adds it beside API.md's examples.
  503: ["unavailable", "embedding_unavailable"],
  504: ["deadline_exceeded"],
};

describe("statusOf", () => {
  for (const [status, codes] of Object.entries(API_TABLE)) {
    for (const code of codes) {
      test(`${code} maps to ${status}`, () => {
        expect(isErrorCode(code)).toBe(true);
        if (isErrorCode(code)) expect(statusOf(code)).toBe(Number(status));
      });
    }
  }

  test("the code set is exactly API.md's table", () => {
    expect<string[]>([...ERROR_CODES].sort()).toEqual(Object.values(API_TABLE).flat().sort());
  });

  test("unknown strings are not codes", () => {
    expect(isErrorCode("oops")).toBe(false);
    expect(isErrorCode("toString")).toBe(false);
  });
});

describe("VltairError", () => {
  test("carries code, status, details, headers and cause", () => {
    const cause = new Error("disk");
    const error = new VltairError("method_not_allowed", "nope", {
      details: { method: "PUT" },
      headers: { Allow: "GET, HEAD" },
      cause,
    });
    expect(error.code).toBe("method_not_allowed");
    expect(error.status).toBe(405);
    expect(error.details).toEqual({ method: "PUT" });
    expect(error.headers).toEqual({ Allow: "GET, HEAD" });
    expect(error.cause).toBe(cause);
    expect(error).toBeInstanceOf(Error);
  });
});
