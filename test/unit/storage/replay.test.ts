import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { KvBody, KvState } from "../../fixtures/storage/kv-machine.ts";
import { openKv, set, tempDir } from "./storage-fixture.ts";

const op = fc.oneof(
  fc.record({
    op: fc.constant("set" as const),
    key: fc.constantFrom("a", "b", "c", "d"),
    value: fc.string({ maxLength: 40 }),
  }),
  fc.record({ op: fc.constant("del" as const), key: fc.constantFrom("a", "b", "c", "d") }),
);
const step = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("append" as const),
      ops: fc.array(op, { minLength: 1, maxLength: 4 }),
      dtMs: fc.nat(5),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "snapshot" as const }) },
);

describe("Storage.replayTo", () => {
  test("replay to N equals the live state after N records (property, fixed seed)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
        async (steps, picks) => {
          const dir = tempDir();
          let now = 1_000;
          const limits = {
            segmentBytes: 65536,
            recordBytesMax: 1024,
            snapshotEveryBytes: 0,
            snapshotsKept: 100,
          };
          const { storage } = await openKv(dir, { limits, nowMs: () => now });
          const live: { state: string; wallMs: number }[] = [
            { state: JSON.stringify(storage.stateOf("kv") as KvState), wallMs: 0 },
          ];
          for (const s of steps) {
            if (s.kind === "snapshot") {
              await storage.takeSnapshot();
              continue;
            }
            now += s.dtMs;
            // One record per append here so every index has a live state to compare with.
            for (const body of s.ops) {
              await storage.append([{ machine: "kv", body: body satisfies KvBody }]);
              live.push({ state: JSON.stringify(storage.stateOf("kv") as KvState), wallMs: now });
            }
          }
          const last = storage.lastIndex;
          expect(last).toBe(live.length - 1);
          for (const pick of [0, last, ...picks.map((p) => p % (last + 1))]) {
            const past = storage.replayTo({ walIndex: pick });
            expect(past.walIndex).toBe(pick);
            expect(JSON.stringify(past.states.get("kv"))).toBe(
              (live[pick] as { state: string }).state,
            );
          }
          // By time: the fold holds every record stamped at or before the time.
          const t = (live[Math.floor(last / 2)] as { wallMs: number }).wallMs;
          const byTime = storage.replayTo({ wallMs: t });
          const expected = live.filter((l, i) => i > 0 && l.wallMs <= t).length;
          expect(byTime.walIndex).toBe(expected);
          expect(JSON.stringify(byTime.states.get("kv"))).toBe(
            (live[expected] as { state: string }).state,
          );
          // Replay has no side effects: the live state and the log are untouched.
          expect(storage.lastIndex).toBe(last);
          expect(JSON.stringify(storage.stateOf("kv") as KvState)).toBe(
            (live[last] as { state: string }).state,
          );
          await storage.close();
        },
      ),
      { seed: 20261125, numRuns: 25 },
    );
  });

  test("returns fresh states: mutating a replayed state does not touch the live one", async () => {
    const { storage } = await openKv(tempDir());
    await storage.append([set("a", "1")]);
    await storage.takeSnapshot();
    const past = storage.replayTo({ walIndex: 1 });
    (past.states.get("kv") as KvState).entries.a = "changed";
    expect((storage.stateOf("kv") as KvState).entries.a).toBe("1");
    await storage.close();
  });

  test("a target past the end is bad_request; history removed with its segments is not_found", async () => {
    const limits = {
      segmentBytes: 65536,
      recordBytesMax: 1024,
      snapshotEveryBytes: 0,
      snapshotsKept: 1,
    };
    const { storage } = await openKv(tempDir(), { limits });
    for (let i = 0; i < 200; i++) await storage.append([set(`k${i}`, "r".repeat(900))]);
    expect(() => storage.replayTo({ walIndex: 201 })).toThrow(
      expect.objectContaining({ code: "bad_request" }),
    );
    const snap = await storage.takeSnapshot();
    expect(snap.segmentsRemoved).toBeGreaterThan(0);
    expect(() => storage.replayTo({ walIndex: 3 })).toThrow(
      expect.objectContaining({ code: "not_found" }),
    );
    expect(storage.replayTo({ walIndex: 200 }).states.get("kv")).toMatchObject({ applied: 200 });
    await storage.close();
  });
});
