import { describe, expect, test } from "bun:test";
import { isAuthorized } from "@cedar-policy/cedar-wasm/web";
import {
  CEDAR_SCHEMA,
  type CedarRequest,
  type CompiledPolicySet,
  DEFAULT_POLICY,
  loadCedarEngine,
} from "../../../src/policy/mod.ts";

const engine = await loadCedarEngine();

const EXEC_ACTION = 'action == vltair::Action::"exec"';
const EXEC = {
  program: "curl",
  argv: ["curl", "https://example.com"],
  cwd: ".",
  network: "allow",
  domains: [],
  wall_ms: 30_000,
  mem_bytes: 536_870_912,
  workspace: "default",
};

function execRequest(context: Record<string, unknown> = EXEC): CedarRequest {
  return { subject: "agent", tenant: "acme", action: "exec", context };
}

function compiled(text: string): CompiledPolicySet {
  const out = engine.compile(text);
  if ("problems" in out) throw new Error(JSON.stringify(out.problems));
  return out;
}

function problems(text: string) {
  const out = engine.compile(text);
  if (!("problems" in out)) throw new Error("compiled");
  return out.problems;
}

describe("CedarEngine.compile", () => {
  test("the shipped default compiles and allows everything, reason default", () => {
    const set = compiled(DEFAULT_POLICY);
    expect(set.ids).toEqual(["default"]);
    expect(engine.authorize(set, execRequest())).toEqual({
      decision: "allow",
      reasons: ["default"],
      errored: [],
      failure: null,
    });
  });

  test("policies without @id are named as Cedar names them (policyN by position), past 10", () => {
    const rules = Array.from(
      { length: 12 },
      (_, n) => `permit(principal, ${EXEC_ACTION}, resource) when { context.wall_ms == ${n} };`,
    );
    rules.splice(
      4,
      0,
      `@id("no-curl") forbid(principal, ${EXEC_ACTION}, resource) when { context.program == "curl" };`,
    );
    const text = rules.join("\n");
    const set = compiled(text);
    expect(set.ids[4]).toBe("no-curl");
    for (const wallMs of [0, 3, 4, 9, 11]) {
      const context = { ...EXEC, program: "ls", wall_ms: wallMs };
      const ours = engine.authorize(set, execRequest(context));
      // Cedar's own naming of the same text: the positional names must agree.
      const theirs = isAuthorized({
        principal: { type: "vltair::Principal", id: "agent" },
        action: { type: "vltair::Action", id: "exec" },
        resource: { type: "vltair::Tenant", id: "acme" },
        context,
        policies: { staticPolicies: text },
        entities: [],
      });
      if (theirs.type !== "success") throw new Error("cedar failed");
      expect(ours.reasons).toEqual(theirs.response.diagnostics.reason);
    }
    expect(engine.authorize(set, execRequest()).reasons).toEqual(["no-curl"]);
  });

  test("a parse error names its line and column", () => {
    const found = problems(`${DEFAULT_POLICY}forbid(principal, action, resource) when {`);
    expect(found[0]?.line).toBe(2);
    expect(found[0]?.column).toBeGreaterThan(1);
  });

  test("a policy that does not fit the schema names the policy", () => {
    const found = problems(
      '@id("typo") forbid(principal, action == vltair::Action::"exec", resource) when { context.programme == "x" };',
    );
    expect(found[0]?.policy_id).toBe("typo");
    expect(found[0]?.message).toContain("programme");
  });

  test.each([
    [
      '@id("a") permit(principal, action, resource);\n@id("a") forbid(principal, action, resource);',
      "a",
    ],
    [
      '@id("policy1") permit(principal, action, resource);\npermit(principal, action, resource);',
      "policy1",
    ],
    ['@id("has space") permit(principal, action, resource);', "has space"],
    ['@id("policy_invalid") permit(principal, action, resource);', "policy_invalid"],
  ])("ids must be unique, short, safe and not reserved: %s", (text, id) => {
    expect(problems(text).map((p) => p.policy_id)).toContain(id);
  });

  test("templates and oversized sets are refused; an empty set is valid and denies", () => {
    expect(problems("permit(principal == ?principal, action, resource);")[0]?.message).toContain(
      "templates",
    );
    expect(problems(`// ${"x".repeat(1_048_577)}`)[0]?.message).toContain("bytes");
    const empty = compiled("");
    expect(engine.authorize(empty, execRequest()).decision).toBe("deny");
  });
});

describe("CedarEngine.authorize", () => {
  const text = `${DEFAULT_POLICY}@id("no-curl") forbid(principal, action == vltair::Action::"exec", resource) when { context.program == "curl" };`;

  test("forbid overrides permit; the reasons are the deciding policies", () => {
    const set = compiled(text);
    expect(engine.authorize(set, execRequest()).reasons).toEqual(["no-curl"]);
    const ls = engine.authorize(set, execRequest({ ...EXEC, program: "ls" }));
    expect(ls).toMatchObject({ decision: "allow", reasons: ["default"] });
  });

  test("a set installed in a slot and one that lost it give the same answers", () => {
    const first = compiled(text);
    const second = compiled(DEFAULT_POLICY);
    engine.install(first, "test:slot");
    const installed = engine.authorize(first, execRequest());
    engine.install(second, "test:slot");
    expect(engine.authorize(first, execRequest())).toEqual(installed);
    expect(engine.authorize(second, execRequest()).decision).toBe("allow");
  });

  test("a context that does not fit the schema is a failure, not a decision", () => {
    const answer = engine.authorize(compiled(DEFAULT_POLICY), execRequest({ program: "ls" }));
    expect(answer.decision).toBe("deny");
    expect(answer.failure).toContain("argv");
  });

  test("the schema served is the one policies are validated against", () => {
    expect(CEDAR_SCHEMA).toContain('action "context.write"');
    expect(JSON.stringify(engine.schemaJson)).toContain("mem_bytes");
  });
});
