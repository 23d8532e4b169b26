import { describe, expect, test } from "bun:test";
import type { Call } from "../../../src/core/mod.ts";
import { createLogger } from "../../../src/obs/mod.ts";
import { loadCedarEngine } from "../../../src/policy/cedar-engine.ts";
import {
  ADMIN_PRINCIPAL,
  createPolicyMachine,
  DEFAULT_POLICY,
  type PolicyDecision,
  PolicyService,
} from "../../../src/policy/mod.ts";
import { createStorage, openDataDir } from "../../../src/storage/mod.ts";
import { callAs } from "../../support/call.ts";
import { tempDir } from "../../support/tmp.ts";

const OPERATOR: Call = { principal: ADMIN_PRINCIPAL, traceId: "0".repeat(32) };
const NOW = Date.UTC(2026, 0, 1);
const READ = { scope_kind: "global", scope_id: "", id: "a" };
const DENY_ALL = `${DEFAULT_POLICY}@id("deny-all") forbid(principal, action, resource);`;

async function open(options: { dir?: string; load?: boolean; failOpen?: boolean } = {}) {
  const dir = options.dir ?? tempDir();
  const storage = createStorage(openDataDir(dir, {}), { fsync: "none" });
  const machine = storage.register(createPolicyMachine());
  await storage.recover();
  const logs: Record<string, unknown>[] = [];
  const decisions: PolicyDecision[] = [];
  const policy = new PolicyService({
    storage,
    machine,
    log: createLogger({ level: "debug", write: (line) => logs.push(JSON.parse(line)) }),
    nowMs: () => NOW,
    failOpen: options.failOpen ?? false,
    onDecision: (decision) => decisions.push(decision),
  });
  if (options.load !== false) await policy.load();
  return { dir, storage, machine, policy, logs, decisions };
}

/** A fresh call (a new request) of `tenant`'s admin. */
const call = (tenant: string) => callAs(tenant, "admin");

describe("PolicyService decisions", () => {
  test("a fresh install allows every action by the shipped default, version 0", async () => {
    const { policy, storage, decisions } = await open();
    const decision = policy.check(call("acme"), "context.read", READ);
    expect(decision).toEqual({
      decision: "allow",
      reasons: ["default"],
      policy_version: 0,
      action: "context.read",
      tenant: "acme",
    });
    expect(decisions).toEqual([decision]);
    await storage.close();
  });

  test("a tenant's forbid denies that tenant only, with the policy id; deny overrides permit", async () => {
    const { policy, storage } = await open();
    expect(await policy.put(call("acme"), DENY_ALL)).toEqual({ version: 1 });
    expect(() => policy.check(call("acme"), "context.read", READ)).toThrow(
      expect.objectContaining({
        code: "policy_denied",
        details: { action: "context.read", reasons: ["deny-all"], policy_version: 1 },
      }),
    );
    expect(policy.check(call("beta"), "context.read", READ).policy_version).toBe(0);
    await storage.close();
  });

  test("both levels must allow: a tenant's permit cannot lift a global forbid", async () => {
    const { policy, storage } = await open();
    const forbidBeta = `${DEFAULT_POLICY}@id("no-beta") forbid(principal in vltair::Tenant::"beta", action, resource);`;
    await policy.put(OPERATOR, forbidBeta);
    await policy.put(call("beta"), DEFAULT_POLICY);
    const denied = policy.decide(call("beta"), "context.read", READ);
    expect(denied).toMatchObject({ decision: "deny", reasons: ["no-beta"], policy_version: 2 });
    expect(policy.decide(call("acme"), "context.read", READ)).toMatchObject({
      decision: "allow",
      policy_version: 1,
    });
    await storage.close();
  });

  test("a call keeps the version of its first decision; the next call sees the new one", async () => {
    const { policy, storage } = await open();
    const running = call("acme");
    expect(policy.decide(running, "context.read", READ).decision).toBe("allow");
    await policy.put(call("acme"), DENY_ALL);
    expect(policy.decide(running, "context.read", READ)).toMatchObject({
      decision: "allow",
      policy_version: 0,
    });
    expect(policy.decide(call("acme"), "context.read", READ)).toMatchObject({
      decision: "deny",
      policy_version: 1,
    });
    await storage.close();
  });

  test("under the shipped defaults a batch of writes is one Cedar call; a bad context still fails", async () => {
    const { policy, storage } = await open();
    const engine = await loadCedarEngine();
    const authorize = engine.authorize;
    let calls = 0;
    engine.authorize = (set, request) => {
      calls++;
      return authorize(set, request);
    };
    try {
      const writer = call("acme");
      for (let i = 0; i < 50; i++) {
        const context = { scope_kind: "repo", scope_id: `r${i % 3}`, id: `doc-${i}` };
        expect(policy.check(writer, "context.write", context).reasons).toEqual(["default"]);
      }
      expect(calls).toBe(1);
      const bad = { scope_kind: "repo", scope_id: "r", id: 7 } as unknown as typeof READ;
      expect(policy.decide(call("acme"), "context.write", bad)).toMatchObject({
        decision: "deny",
        reasons: ["policy_invalid"],
      });
      // A set that reads the context is asked per value.
      const noSecret = `${DEFAULT_POLICY}@id("no-secret") forbid(principal, action == vltair::Action::"context.write", resource) when { context.id == "secret" };`;
      await policy.put(call("acme"), noSecret);
      const after = call("acme");
      expect(policy.decide(after, "context.write", { ...READ, id: "open" }).decision).toBe("allow");
      expect(policy.decide(after, "context.write", { ...READ, id: "secret" })).toMatchObject({
        decision: "deny",
        reasons: ["no-secret"],
      });
    } finally {
      engine.authorize = authorize;
      await storage.close();
    }
  });

  test("without the engine every decision is deny policy_invalid (fail closed)", async () => {
    const { policy, storage } = await open({ load: false });
    expect(policy.decide(call("acme"), "context.read", READ)).toMatchObject({
      decision: "deny",
      reasons: ["policy_invalid"],
    });
    await storage.close();
  });

  test("policy_fail_open allows instead, warning at start and on every decision it opens", async () => {
    const { policy, storage, logs } = await open({ load: false, failOpen: true });
    for (let n = 0; n < 2; n++) {
      expect(policy.decide(call("acme"), "context.read", READ)).toMatchObject({
        decision: "allow",
        reasons: ["policy_fail_open"],
      });
    }
    expect(logs.filter((l) => l.event === "policy.fail_open")).toHaveLength(2);
    await policy.load();
    expect(logs.some((l) => l.event === "policy.fail_open_enabled" && l.level === "warn")).toBe(
      true,
    );
    expect(policy.decide(call("acme"), "context.read", READ).reasons).toEqual(["default"]);
    await storage.close();
  });

  test("a stored set that no longer compiles is logged and denies policy_invalid", async () => {
    const { policy, storage, machine, logs } = await open();
    await storage.append([
      machine.record({
        op: "put",
        tenant: "acme",
        cedar: "forbid(",
        sha256: "0".repeat(64),
        version: 1,
        updated_at: new Date(NOW).toISOString(),
        subject: "test",
      }),
    ]);
    policy.logLevels();
    expect(logs.find((l) => l.event === "policy.level_invalid")).toMatchObject({
      level: "tenant:acme",
      version: 1,
    });
    expect(policy.decide(call("acme"), "context.read", READ).reasons).toEqual(["policy_invalid"]);
    expect(policy.decide(call("beta"), "context.read", READ).decision).toBe("allow");
    await storage.close();
  });
});

describe("PolicyService sets and versions", () => {
  test("an invalid set is 400 policy_invalid and the previous version stays in force", async () => {
    const { policy, storage } = await open();
    await policy.put(call("acme"), DENY_ALL);
    const bad = policy.put(call("acme"), "permit(principal, action, resource) when { context.x };");
    await expect(bad).rejects.toMatchObject({ code: "policy_invalid" });
    expect(policy.current(call("acme"))).toMatchObject({ cedar: DENY_ALL, version: 1 });
    expect(policy.decide(call("acme"), "context.read", READ).reasons).toEqual(["deny-all"]);
    await storage.close();
  });

  test("levels: the operator's default is global; an admin manages only its own tenant", async () => {
    const { policy, storage } = await open();
    await policy.put(OPERATOR, DENY_ALL);
    expect(policy.current(call("acme"))).toEqual({
      cedar: DEFAULT_POLICY,
      version: 0,
      updated_at: null,
    });
    expect(policy.current(OPERATOR).version).toBe(1);
    await policy.put(OPERATOR, DEFAULT_POLICY, "acme");
    expect(policy.current(call("acme")).version).toBe(2);
    await expect(policy.put(call("acme"), DENY_ALL, "beta")).rejects.toMatchObject({
      code: "forbidden",
      details: { role_needed: "operator" },
    });
    await expect(policy.put(callAs("acme", "writer"), DENY_ALL)).rejects.toMatchObject({
      code: "forbidden",
      details: { role_needed: "admin" },
    });
    expect(() => policy.versions(call("acme"), "beta")).toThrow(
      expect.objectContaining({ code: "forbidden" }),
    );
    await storage.close();
  });

  test("versions are listed newest first and survive a restart and a snapshot", async () => {
    const first = await open();
    await first.policy.put(call("acme"), DENY_ALL);
    await first.policy.put(call("acme"), DEFAULT_POLICY);
    await first.storage.takeSnapshot();
    await first.policy.put(OPERATOR, DENY_ALL);
    await first.storage.close();
    const second = await open({ dir: first.dir });
    const listed = second.policy.versions(call("acme")).versions;
    expect(listed.map((v) => v.version)).toEqual([2, 1]);
    expect(listed[0]).toMatchObject({
      subject: "acme-admin",
      updated_at: "2026-01-01T00:00:00.000Z",
    });
    expect(second.policy.current(OPERATOR).version).toBe(3);
    expect(second.policy.decide(call("acme"), "context.read", READ)).toMatchObject({
      decision: "deny",
      reasons: ["deny-all"],
      policy_version: 3,
    });
    await second.storage.close();
  });
});

describe("PolicyService.dryRun", () => {
  const exec = {
    program: "curl",
    argv: ["curl"],
    cwd: ".",
    network: "deny",
    domains: [],
    wall_ms: 1000,
    mem_bytes: 1_000_000,
    workspace: "default",
  };

  test("evaluates a described request against the stored sets or a candidate", async () => {
    const { policy, storage, decisions } = await open();
    const noCurl = `${DEFAULT_POLICY}@id("no-curl") forbid(principal, action == vltair::Action::"exec", resource) when { context.program == "curl" };`;
    expect(policy.dryRun(call("acme"), { action: "exec", context: exec })).toEqual({
      decision: "allow",
      reasons: ["default"],
      policy_version: 0,
    });
    expect(policy.dryRun(call("acme"), { action: "exec", context: exec, cedar: noCurl })).toEqual({
      decision: "deny",
      reasons: ["no-curl"],
      policy_version: null,
    });
    expect(decisions).toEqual([]);
    await storage.close();
  });

  test("the operator may name any principal; an admin only its own tenant's", async () => {
    const { policy, storage } = await open();
    await policy.put(call("beta"), DENY_ALL);
    const input = {
      action: "context.read" as const,
      context: READ,
      principal: { tenant: "beta", subject: "bot" },
    };
    expect(policy.dryRun(OPERATOR, input).reasons).toEqual(["deny-all"]);
    expect(() => policy.dryRun(call("acme"), input)).toThrow(
      expect.objectContaining({ code: "forbidden" }),
    );
    await storage.close();
  });

  test("a context that does not fit the action is 400 naming the field", async () => {
    const { policy, storage } = await open();
    expect(() =>
      policy.dryRun(call("acme"), { action: "exec", context: { ...exec, wall_ms: "1" } }),
    ).toThrow(
      expect.objectContaining({
        code: "validation_failed",
        details: expect.objectContaining({ field: "context.wall_ms" }),
      }),
    );
    await storage.close();
  });
});
