/**
 * Audit chains extended by commits in flight (ADR 0020): one tenant's concurrent commits share
 * WAL groups and keep one intact chain; a failed group makes the log refuse the commits that
 * linked to it (`dependency_failed`) and the chain still verifies.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Call } from "../../../src/core/mod.ts";
import { InFlightChains } from "../../../src/policy/audit/in-flight.ts";
import {
  AUDIT_MACHINE,
  type AuditState,
  allowedBy,
  auditHook,
  createAuditMachine,
  verifyState,
  withEvents,
} from "../../../src/policy/audit/mod.ts";
import {
  createStorage,
  nodeWalIo,
  openDataDir,
  type Storage,
  type WalFileIo,
} from "../../../src/storage/mod.ts";
import { kvMachine } from "../../fixtures/storage/kv-machine.ts";
import { callAs } from "../../support/call.ts";
import { countingIo, tempDir } from "../storage/storage-fixture.ts";

const open: Storage[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => undefined);
});

async function auditedStorage(io: WalFileIo) {
  const storage = createStorage(openDataDir(tempDir()), {
    fsync: "always",
    io,
    nowMs: () => Date.UTC(2026, 11, 4),
  });
  open.push(storage);
  storage.register(kvMachine());
  const audit = storage.register(createAuditMachine());
  await storage.recover();
  const { hook, inFlight } = auditHook(audit, () => Date.UTC(2026, 11, 4));
  storage.addHook("audit", hook);
  const state = () => storage.stateOf(AUDIT_MACHINE) as AuditState;
  return { storage, inFlight, state };
}

/** A kv write of `tenant` whose call carries one audit event. */
function audited(storage: Storage, tenant: string, key: string) {
  const call: Call = callAs(tenant, "writer");
  const event = { ...allowedBy(call), action: "kv.set", resource: `kv/${key}`, details: {} };
  return storage.commit(
    [{ machine: "kv", body: { op: "set", key, value: key } }],
    withEvents(call, [event]),
  );
}

describe("audit chains in flight", () => {
  test("concurrent commits of one tenant share WAL groups and keep one intact chain", async () => {
    const { io, counts } = countingIo();
    const { storage, inFlight, state } = await auditedStorage(io);
    const before = counts.syncs;
    await Promise.all(Array.from({ length: 40 }, (_, i) => audited(storage, "busy", `k${i}`)));
    const chain = state().chainOf("busy").records;
    expect(chain.map((r) => r.seq)).toEqual(chain.map((_, i) => i + 1));
    expect(chain).toHaveLength(40);
    expect(verifyState(state()).broken).toEqual([]);
    // Serialized commits took one fsync each; in flight they share groups.
    expect(counts.syncs - before).toBeLessThan(40);
    expect(inFlight.size).toBe(0);
  });

  test("a failed group: commits linked to it are refused (dependency_failed), later ones chain on", async () => {
    let writes = 0;
    let failAt = Number.POSITIVE_INFINITY;
    const io: WalFileIo = {
      ...nodeWalIo,
      async write(fd, bytes, positionBytes) {
        writes += 1;
        if (writes === failAt) throw Object.assign(new Error("EIO: injected"), { code: "EIO" });
        return nodeWalIo.write(fd, bytes, positionBytes);
      },
    };
    const { storage, inFlight, state } = await auditedStorage(io);
    await audited(storage, "t", "first");
    // The next group (the first commit of the burst) fails; the rest queued behind it linked to it.
    failAt = writes + 1;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => audited(storage, "t", `burst${i}`)),
    );
    const reasons = outcomes.map((o) =>
      o.status === "fulfilled"
        ? "ok"
        : String((o.reason as { details?: { reason?: string } }).details?.reason),
    );
    expect(reasons[0]).toBe("io_failed");
    expect(reasons.filter((r) => r === "dependency_failed").length).toBeGreaterThan(0);
    expect(reasons).not.toContain("ok");
    await audited(storage, "t", "after");
    const chain = state().chainOf("t").records;
    expect(chain.map((r) => r.resource)).toEqual(["kv/first", "kv/after"]);
    expect(verifyState(state()).broken).toEqual([]);
    expect(inFlight.size).toBe(0);
  });

  test("a commit refused before the log (a later hook throws, a bad body) releases its link", async () => {
    const { io } = countingIo();
    const { storage, inFlight, state } = await auditedStorage(io);
    let refuse = true;
    storage.addHook("refuse", () => {
      if (refuse) throw new Error("refused");
      return undefined;
    });
    await expect(audited(storage, "t", "a")).rejects.toThrow("refused");
    refuse = false;
    // Refused by the machine's schema when encoded: nothing queued, the link is released too.
    const call = callAs("t", "writer");
    const event = { ...allowedBy(call), action: "kv.set", resource: "kv/bad", details: {} };
    const bad = storage.commit(
      [{ machine: "kv", body: { op: "set", key: 1 } }],
      withEvents(call, [event]),
    );
    await expect(bad).rejects.toMatchObject({ code: "validation_failed" });
    await audited(storage, "t", "b");
    expect(
      state()
        .chainOf("t")
        .records.map((r) => [r.seq, r.resource]),
    ).toEqual([[1, "kv/b"]]);
    expect(verifyState(state()).broken).toEqual([]);
    expect(inFlight.size).toBe(0);
  });
});

describe("InFlightChains", () => {
  const tip = (seq: number) => ({ seq, hash: String(seq).padStart(64, "0") });

  test("a new commit builds on the newest link before the first failed one", () => {
    const chains = new InFlightChains();
    expect(chains.baseOf("t")).toBeNull();
    const a = chains.extend("t", null, tip(1));
    const b = chains.extend("t", chains.baseOf("t"), tip(2));
    expect(b.predecessor).toBe(a);
    const c = chains.extend("t", chains.baseOf("t"), tip(3));
    expect(chains.baseOf("t")).toBe(c);
    chains.settle([b], false);
    // c linked to b: it will be refused; new commits build on a, still in flight.
    expect(InFlightChains.valid([c])).toBe(false);
    expect(InFlightChains.valid([b])).toBe(true);
    expect(chains.baseOf("t")).toBe(a);
    chains.settle([a], true);
    expect(chains.baseOf("t")).toBeNull();
    chains.settle([c], false);
    expect(chains.baseOf("t")).toBeNull();
    const d = chains.extend("t", chains.baseOf("t"), tip(2));
    expect(d.predecessor).toBeNull();
    // With nothing failed in flight any more, the newest pending link is the base again.
    const e = chains.extend("t", chains.baseOf("t"), tip(3));
    expect(e.predecessor).toBe(d);
    chains.settle([d], true);
    chains.settle([e], true);
    expect(chains.size).toBe(0);
    expect(chains.baseOf("other")).toBeNull();
  });
});
