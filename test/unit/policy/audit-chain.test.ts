/** Audit chains: canonical hashing, verification of every kind of tampering, and the machine's fold. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  type AuditEvent,
  type AuditRecord,
  AuditState,
  canonicalJson,
  chain,
  createAuditMachine,
  GENESIS_HASH,
  hashOf,
  verifyChain,
  verifyState,
} from "../../../src/policy/audit/mod.ts";

const GENESIS = { seq: 0, hash: GENESIS_HASH };
const TS = "2026-12-04T00:00:00.000Z";

function event(i: number, tenant = "acme"): AuditEvent {
  return {
    tenant,
    subject: `agent-${i}`,
    action: i % 2 === 0 ? "context.write" : "exec",
    resource: `context/${tenant}`,
    decision: i % 3 === 0 ? "deny" : "allow",
    reasons: i % 3 === 0 ? ["forbid-network"] : [],
    policy_version: null,
    trace_id: i.toString(16).padStart(32, "0"),
    run_id: null,
    details: { items: i },
  };
}

const records = (n: number, tenant = "acme") =>
  chain(
    GENESIS,
    Array.from({ length: n }, (_, i) => event(i, tenant)),
    TS,
  );

describe("canonical JSON and hashes", () => {
  test("key order does not matter; nested keys are sorted too", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}',
    );
    const [first] = records(1);
    const shuffled = Object.fromEntries(Object.entries(first as AuditRecord).reverse());
    expect(hashOf(shuffled as AuditRecord)).toBe((first as AuditRecord).hash);
  });

  test("property: the same string as sorting entries then stringifying (stored hashes hold)", () => {
    // The first implementation, kept as the reference: chains hashed by it must still verify.
    const reference = (value: unknown): string => {
      if (value === null || typeof value !== "object") return JSON.stringify(value);
      if (Array.isArray(value)) return `[${value.map(reference).join(",")}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, item]) => item !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, item]) => `${JSON.stringify(k)}:${reference(item)}`).join(",")}}`;
    };
    const withUndefined = fc.oneof(fc.jsonValue(), fc.constant(undefined));
    const value = fc.dictionary(
      fc.string(),
      fc.oneof(withUndefined, fc.dictionary(fc.string(), withUndefined)),
    );
    fc.assert(
      fc.property(value, (v) => canonicalJson(v) === reference(v)),
      { seed: 20261204, numRuns: 500 },
    );
  });

  test("each record links to the one before; the first to the genesis hash", () => {
    const out = records(3);
    expect(out.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(out[0]?.prev_hash).toBe(GENESIS_HASH);
    expect(out[1]?.prev_hash).toBe(out[0]?.hash);
    expect(out[2]?.prev_hash).toBe(out[1]?.hash);
    expect(verifyChain("acme", GENESIS, out)).toBeNull();
  });
});

describe("verifyChain names the first broken record", () => {
  test.each([
    [
      "an edited field",
      (r: AuditRecord[]) => {
        (r[2] as AuditRecord).decision = "allow";
        (r[2] as AuditRecord).subject = "someone else";
      },
      { seq: 3, reason: "hash_mismatch" },
    ],
    ["a deleted record", (r: AuditRecord[]) => r.splice(1, 1), { seq: 2, reason: "seq_gap" }],
    [
      "two records swapped",
      (r: AuditRecord[]) => r.splice(1, 2, r[2] as AuditRecord, r[1] as AuditRecord),
      { seq: 2, reason: "seq_gap" },
    ],
    [
      "a record re-hashed after an edit",
      (r: AuditRecord[]) => {
        const edited = { ...(r[1] as AuditRecord), resource: "context/other" };
        r[1] = { ...edited, hash: hashOf(edited) };
      },
      { seq: 3, reason: "prev_hash_mismatch" },
    ],
    [
      "the whole tail renumbered after a deletion",
      (r: AuditRecord[]) => {
        r.splice(1, 1);
        for (const [i, rec] of r.entries()) rec.seq = i + 1;
      },
      { seq: 2, reason: "prev_hash_mismatch" },
    ],
    [
      "a record of another tenant",
      (r: AuditRecord[]) => {
        (r[3] as AuditRecord).tenant = "beta";
      },
      { seq: 4, reason: "wrong_chain" },
    ],
  ])("%s", (_, tamper, expected) => {
    const out = records(6);
    tamper(out);
    expect(verifyChain("acme", GENESIS, out)).toEqual({ tenant: "acme", ...expected } as never);
  });

  test("property: any single changed byte of any field of any record is found", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 12 }),
        fc.nat(),
        fc.constantFrom("subject", "action", "resource", "trace_id", "ts", "prev_hash", "hash"),
        fc.nat(),
        (n, pick, field, at) => {
          const out = records(n);
          const target = out[pick % n] as AuditRecord;
          const text = target[field as keyof AuditRecord] as string;
          const i = at % text.length;
          const flipped = text.charCodeAt(i) === 48 ? "1" : "0";
          (target as unknown as Record<string, string>)[field] =
            text.slice(0, i) + flipped + text.slice(i + 1);
          const found = verifyChain("acme", GENESIS, out);
          return found !== null && found.seq <= target.seq + 1;
        },
      ),
      { seed: 20261204, numRuns: 300 },
    );
  });
});

describe("the audit machine", () => {
  test("files records per tenant; compaction keeps an anchor so the rest verifies", () => {
    const state = new AuditState();
    state.apply({ op: "append", records: [...records(5, "acme"), ...records(2, "beta")] });
    expect(state.tipOf("acme")).toEqual({
      seq: 5,
      hash: (state.chainOf("acme").records[4] as AuditRecord).hash,
    });
    state.apply({ op: "compact", tenant: "acme", through_seq: 3 });
    const acme = state.chainOf("acme");
    expect(acme.records.map((r) => r.seq)).toEqual([4, 5]);
    expect(acme.anchor.seq).toBe(3);
    expect(verifyState(state)).toEqual({ chains: 2, records: 4, broken: [] });
    // The tip is unchanged by compaction: the next record links to record 5.
    expect(state.tipOf("acme").seq).toBe(5);
    state.apply({ op: "compact", tenant: "acme", through_seq: 99 });
    expect(state.chainOf("acme").records).toEqual([]);
    expect(state.tipOf("acme").seq).toBe(5);
  });

  test("snapshot and restore give the same chains", () => {
    const machine = createAuditMachine();
    const state = machine.init();
    machine.apply(state, {
      walIndex: 1,
      wallMs: 0,
      body: { op: "append", records: records(4, "acme") },
    } as never);
    machine.apply(state, {
      walIndex: 2,
      wallMs: 0,
      body: { op: "compact", tenant: "acme", through_seq: 1 },
    } as never);
    const restored = machine.restore(machine.snapshot(state));
    expect(chainView(restored, "acme")).toEqual(chainView(state, "acme"));
    expect(verifyState(restored).broken).toEqual([]);
  });

  test("a restored chain answers its count, tip and oldest time unparsed; appends link to it", () => {
    const machine = createAuditMachine();
    const state = machine.init();
    state.apply({ op: "append", records: [...records(6, "acme"), ...records(1, "beta")] });
    state.apply({ op: "compact", tenant: "acme", through_seq: 2 });
    const bytes = machine.snapshot(state);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe("VLTAUDT2");
    const restored = machine.restore(bytes);
    const acme = restored.chainOf("acme");
    expect({ count: acme.count, tip: acme.tip, oldest: acme.oldestTs }).toEqual({
      count: 4,
      tip: state.tipOf("acme"),
      oldest: TS,
    });
    // Snapshotting a chain nobody read writes its records back as they were.
    expect(machine.snapshot(restored)).toEqual(bytes);
    expect(acme.parsed).toBe(false);
    // An append after the restore links to the restored tip; the chain reads whole.
    const next = chain(restored.tipOf("acme"), [event(7)], TS);
    restored.apply({ op: "append", records: next });
    expect(restored.chainOf("acme").count).toBe(5);
    expect(acme.parsed).toBe(false);
    expect(restored.chainOf("acme").records.map((r) => r.seq)).toEqual([3, 4, 5, 6, 7]);
    expect(acme.parsed).toBe(true);
    expect(verifyState(restored)).toEqual({ chains: 2, records: 6, broken: [] });
    restored.apply({ op: "compact", tenant: "acme", through_seq: 6 });
    expect(chainView(restored, "acme")).toMatchObject({ anchor: { seq: 6 }, seqs: [7] });
  });

  test("reads the format-1 snapshot (one JSON document) that earlier binaries wrote", () => {
    const machine = createAuditMachine();
    const acme = records(3, "acme");
    const v1 = JSON.stringify([{ tenant: "acme", anchor: GENESIS, records: acme }]);
    const restored = machine.restore(new TextEncoder().encode(v1));
    expect(chainView(restored, "acme")).toEqual({ anchor: GENESIS, seqs: [1, 2, 3], tip: 3 });
    expect(restored.chainOf("acme").records).toEqual(acme);
  });

  test("a format-2 snapshot whose parts do not add up is refused", () => {
    const machine = createAuditMachine();
    const state = machine.init();
    state.apply({ op: "append", records: records(2, "acme") });
    const bytes = machine.snapshot(state);
    expect(() => machine.restore(bytes.subarray(0, bytes.length - 1))).toThrow(/shorter/);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => machine.restore(longer)).toThrow(/longer/);
  });
});

/** A chain as the tests compare it: anchor, record seqs, tip seq. */
function chainView(state: AuditState, tenant: string) {
  const c = state.chainOf(tenant);
  return { anchor: c.anchor, seqs: c.records.map((r) => r.seq), tip: c.tip.seq };
}
