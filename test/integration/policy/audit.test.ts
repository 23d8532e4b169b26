/**
 * The audit trail in a running app: a record per write in the same WAL batch, per token change
 * and per failed authentication; chains per tenant that stay intact under concurrent writes,
 * across restart and snapshot, and after retention; GET /v1/audit with tenancy.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { localCall } from "../../../src/core/mod.ts";
import {
  AUDIT_MACHINE,
  type AuditBody,
  AuditService,
  type AuditState,
  verifyState,
} from "../../../src/policy/audit/mod.ts";
import { ADMIN_PRINCIPAL } from "../../../src/policy/mod.ts";
import type { MachineHandle } from "../../../src/storage/mod.ts";
import { ADMIN, createToken, testApp } from "../../support/app.ts";
import { type ContextTestApp, contextApp, type Json } from "../../support/context.ts";
import { poll } from "../../support/process.ts";

let t: ContextTestApp | null = null;
afterEach(async () => {
  await t?.app.close();
  t = null;
});

const UPSERT = "/v1/context/docs:upsert";
const stateOf = (app: ContextTestApp) => app.app.storage.stateOf(AUDIT_MACHINE) as AuditState;

describe("audit records", () => {
  test("a write's audit record is in the same batch; tokens and auth failures are recorded", async () => {
    t = await contextApp();
    const app = t;
    const writer = await app.tokenFor("acme", "writer");
    const before = app.app.storage.lastIndex;
    const up = await app.post(
      UPSERT,
      {
        items: [
          { id: "a", text: "x" },
          { id: "b", text: "y" },
        ],
      },
      writer,
    );
    expect(up.status).toBe(200);
    // One context record and its audit record: one batch of two.
    expect(up.body.wal_index).toBe(before + 2);
    const acme = stateOf(app).chainOf("acme").records;
    expect(acme.at(-1)).toMatchObject({
      tenant: "acme",
      subject: "acme-writer",
      action: "context.write",
      decision: "allow",
      details: { items: 2 },
    });
    expect((await app.call("GET", "/v1/context/docs", "not-a-token")).status).toBe(401);
    // Written asynchronously after the 401: poll until it is durable.
    const server = await poll(
      () =>
        stateOf(app).chainOf("*").records.length > 0
          ? stateOf(app).chainOf("*").records
          : undefined,
      5_000,
      "the auth.failed record",
    );
    expect(server.at(-1)).toMatchObject({
      action: "auth.failed",
      decision: "deny",
      reasons: ["invalid_token"],
    });
    const tokenEvents = stateOf(app)
      .chainOf("acme")
      .records.filter((r) => r.action.startsWith("token."));
    expect(tokenEvents.map((r) => r.action)).toEqual(["token.create"]);
    expect(verifyState(stateOf(app)).broken).toEqual([]);
  });

  test("a flood of bad tokens writes at most 10 records a second; the rest are counted", async () => {
    t = await contextApp();
    const app = t;
    for (let i = 0; i < 40; i++) await app.call("GET", "/v1/context/docs", `bad-token-${i}`);
    const failures = () => stateOf(app).chainOf("*").records;
    // Written asynchronously after each 401: poll until the first window's ten are durable.
    await poll(() => (failures().length >= 10 ? true : undefined), 5_000, "10 audit records");
    expect(failures().length).toBeLessThan(40);
  });

  test("concurrent writes of one tenant from many tokens keep one intact chain", async () => {
    t = await contextApp();
    const app = t;
    const tokens = await Promise.all([1, 2, 3, 4].map(() => app.tokenFor("busy", "writer")));
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        app.post(UPSERT, { items: [{ id: `d${i}`, text: `doc ${i}` }] }, tokens[i % 4]),
      ),
    );
    const chain = stateOf(app).chainOf("busy").records;
    expect(chain.filter((r) => r.action === "context.write")).toHaveLength(40);
    expect(chain.map((r) => r.seq)).toEqual(chain.map((_, i) => i + 1));
    expect(verifyState(stateOf(app)).broken).toEqual([]);
  });

  test("a commit refused by an earlier hook leaves no audit record", async () => {
    t = await contextApp();
    const app = t;
    const writer = await app.tokenFor("acme", "writer");
    const before = stateOf(app).chainOf("acme").records.length;
    const lastIndex = app.app.storage.lastIndex;
    // A hook added after audit still runs in the same commit: it refuses the whole batch.
    app.app.storage.addHook("refuse", () => {
      throw new Error("refused by policy");
    });
    expect((await app.post(UPSERT, { items: [{ id: "a", text: "x" }] }, writer)).status).toBe(500);
    expect(stateOf(app).chainOf("acme").records).toHaveLength(before);
    expect(app.app.storage.lastIndex).toBe(lastIndex);
  });
});

describe("side effects", () => {
  test("a sandbox run and a workflow run are audited: exec, run.start, run.finish (run_id filter)", async () => {
    t = await contextApp();
    const app = t;
    const writer = await app.tokenFor("fx", "writer");
    const admin = await app.tokenFor("fx", "admin");
    expect((await app.post("/v1/sandbox/exec", { cmd: ["true"] }, writer)).status).toBe(200);
    const started = await app.post(
      "/v1/runs?wait_ms=10000",
      { workflow: { steps: [{ id: "e", kind: "echo", with: { value: 1 } }] } },
      writer,
    );
    const runId = started.body.run_id as string;
    expect(started.body.status).toBe("succeeded");
    const exec = await app.call("GET", "/v1/audit?action=exec", admin);
    expect(exec.body.records.at(-1)).toMatchObject({
      action: "exec",
      subject: "fx-writer",
      resource: "sandbox/default",
      details: { program: "true", network: "deny" },
    });
    const run = await app.call("GET", `/v1/audit?run_id=${runId}`, admin);
    expect(run.body.records.map((r: Json) => r.action)).toEqual(["run.start", "run.finish"]);
    expect(run.body.records[1].details).toEqual({ status: "succeeded" });
    expect(verifyState(stateOf(app)).broken).toEqual([]);
  });
});

describe("GET /v1/audit", () => {
  test("an admin reads its tenant's chain in pages; another tenant's is 404; the operator reads any", async () => {
    t = await contextApp();
    const app = t;
    const admin = await app.tokenFor("acme", "admin");
    for (let i = 0; i < 5; i++)
      await app.post(UPSERT, { items: [{ id: `d${i}`, text: "x" }] }, admin);
    const page1 = await app.call("GET", "/v1/audit?action=context.write&limit=3", admin);
    expect(page1.status).toBe(200);
    expect(page1.body.records).toHaveLength(3);
    expect(page1.body.records.every((r: Json) => r.tenant === "acme")).toBe(true);
    const page2 = await app.call(
      "GET",
      `/v1/audit?action=context.write&limit=3&cursor=${page1.body.next_cursor}`,
      admin,
    );
    expect(page2.body.records).toHaveLength(2);
    expect(page2.body.next_cursor).toBeNull();
    const seqs = [...page1.body.records, ...page2.body.records].map((r: Json) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const since = await app.call("GET", `/v1/audit?since_seq=${seqs[3]}`, admin);
    expect(since.body.records.map((r: Json) => r.seq)).toEqual(seqs.slice(3));
    expect((await app.call("GET", "/v1/audit?tenant=default", admin)).status).toBe(404);
    const writer = await app.tokenFor("acme", "writer");
    expect((await app.call("GET", "/v1/audit", writer)).body.error.code).toBe("forbidden");
    const operator = await app.call("GET", "/v1/audit?tenant=acme&decision=allow", ADMIN);
    expect(operator.body.records.length).toBeGreaterThanOrEqual(5);
    const bad = await app.call("GET", "/v1/audit?limit=0", admin);
    expect(bad.body.error.code).toBe("validation_failed");
    const verify = await app.call("GET", "/v1/audit/verify", ADMIN);
    expect(verify.body).toMatchObject({ ok: true, broken: [] });
    expect((await app.call("GET", "/v1/audit/verify", admin)).body.error.code).toBe("forbidden");
  });
});

describe("durability and retention", () => {
  test("chains survive restart and snapshot, and keep linking", async () => {
    const first = testApp({}, { ready: false });
    await first.app.start();
    const { token } = await createToken(first.app, {
      subject: "w",
      tenant: "acme",
      roles: ["writer"],
    });
    const post = (app: typeof first, id: string) =>
      app.request(UPSERT, {
        token,
        method: "POST",
        body: JSON.stringify({ items: [{ id, text: id }] }),
      });
    await post(first, "a");
    await first.app.storage.takeSnapshot();
    await post(first, "b");
    await first.app.close();
    const second = testApp({ data_dir: first.config.data_dir }, { ready: false });
    try {
      await second.app.start();
      await post(second, "c");
      const state = second.app.storage.stateOf(AUDIT_MACHINE) as AuditState;
      // Start (with its retention pass) and an append did not need the restored records.
      expect(state.chainOf("acme").parsed).toBe(false);
      expect(
        state.chainOf("acme").records.filter((r) => r.action === "context.write"),
      ).toHaveLength(3);
      expect(verifyState(state).broken).toEqual([]);
    } finally {
      await second.app.close();
    }
  });

  test("retention compacts old and surplus records behind an anchor; the chain still verifies", async () => {
    t = await contextApp();
    const app = t;
    const writer = await app.tokenFor("acme", "writer");
    for (let i = 0; i < 12; i++)
      await app.post(UPSERT, { items: [{ id: `d${i}`, text: "x" }] }, writer);
    const storage = app.app.storage;
    const handle: MachineHandle<AuditState, AuditBody> = {
      name: AUDIT_MACHINE,
      state: () => storage.stateOf(AUDIT_MACHINE) as AuditState,
      record: (body) => ({ machine: AUDIT_MACHINE, body }),
    };
    const operator = localCall(ADMIN_PRINCIPAL, "0".repeat(32));
    const options = { storage, handle, retentionDays: 30, recordsMax: 5, authFailuresPerS: 10 };
    const bySize = new AuditService({ ...options, nowMs: () => Date.UTC(2026, 0, 2) });
    expect(await bySize.compact(operator)).toBeGreaterThan(0);
    const kept = handle.state().chainOf("acme");
    expect(kept.records.length).toBeLessThanOrEqual(6);
    expect(kept.anchor.seq).toBeGreaterThan(0);
    expect(verifyState(handle.state()).broken).toEqual([]);
    const byAge = new AuditService({
      ...options,
      recordsMax: 1000,
      nowMs: () => Date.UTC(2026, 3, 1),
    });
    await byAge.compact(operator);
    expect(handle.state().chainOf("acme").records.length).toBeLessThanOrEqual(1);
    await app.post(UPSERT, { items: [{ id: "after", text: "x" }] }, writer);
    expect(verifyState(handle.state()).broken).toEqual([]);
  });
});
