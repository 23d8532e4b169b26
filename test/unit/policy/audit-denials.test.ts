/**
 * auditDenials: each denial becomes one audit record, written in order in the background; a
 * flood waits at most 1024 records deep and the rest are counted in the next record.
 */
import { describe, expect, test } from "bun:test";
import { auditDenials } from "../../../src/app/policy.ts";
import type { Call } from "../../../src/core/mod.ts";
import { silentLogger } from "../../../src/obs/mod.ts";
import type { AuditEvent, AuditService } from "../../../src/policy/audit/mod.ts";
import type { PolicyDecision, PolicyService } from "../../../src/policy/mod.ts";
import { callAs } from "../../support/call.ts";

type Listener = (decision: PolicyDecision, call: Call) => void;

function harness() {
  let listener: Listener = () => {};
  const policy = { onDecision: (l: Listener) => (listener = l) } as unknown as PolicyService;
  const written: AuditEvent[] = [];
  let release: () => void = () => {};
  let gate = new Promise<void>((resolve) => (release = resolve));
  const audit = {
    record: async (_call: Call, events: readonly AuditEvent[]) => {
      await gate;
      written.push(...events);
    },
  } as unknown as AuditService;
  const denials = auditDenials(policy, audit, silentLogger);
  const decide = (decision: "allow" | "deny", tenant = "acme") =>
    listener(
      { decision, reasons: ["no"], policy_version: 3, action: "exec", tenant },
      callAs(tenant, "writer"),
    );
  const open = () => {
    release();
    gate = Promise.resolve();
  };
  return { denials, decide, written, open };
}

describe("auditDenials", () => {
  test("a denial is a record of its tenant's chain with the policy ids and version; an allow is none", async () => {
    const { denials, decide, written, open } = harness();
    decide("allow");
    decide("deny", "beta");
    open();
    await denials.settle();
    expect(written).toMatchObject([
      {
        tenant: "beta",
        action: "exec",
        decision: "deny",
        reasons: ["no"],
        policy_version: 3,
        details: {},
      },
    ]);
  });

  test("past 1024 waiting, denials are counted and the count rides on the next record", async () => {
    const { denials, decide, written, open } = harness();
    for (let i = 0; i < 1024 + 5; i++) decide("deny");
    open();
    await denials.settle();
    expect(written.length).toBe(1024);
    decide("deny");
    await denials.settle();
    expect(written.length).toBe(1025);
    expect(written.at(-1)?.details).toEqual({ suppressed: 5 });
  });
});
