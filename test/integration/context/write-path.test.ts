/**
 * The one write path (issue 15): prepared writes of services and records of other machines
 * commit as one batch through `storage.commit`; pre-commit hooks run in order and fail closed;
 * every service method is authorized through the one authorizer.
 */
import { describe, expect, test } from "bun:test";
import {
  ContextService,
  createContextMachine,
  createHashEmbedder,
  resolveContextLimits,
} from "../../../src/context/mod.ts";
import type { Call } from "../../../src/core/mod.ts";
import {
  type AppendInput,
  commitPrepared,
  createStorage,
  openDataDir,
  type Storage,
} from "../../../src/storage/mod.ts";
import { type KvState, kvMachine } from "../../fixtures/storage/kv-machine.ts";
import { callAs } from "../../support/call.ts";
import { tempDir } from "../../support/tmp.ts";

async function open(dir = tempDir()) {
  const storage = createStorage(openDataDir(dir, {}), { fsync: "none" });
  const machine = storage.register(createContextMachine());
  const kv = storage.register(kvMachine());
  await storage.recover();
  const context = new ContextService({
    storage,
    machine,
    embedder: createHashEmbedder({ dimensions: 64 }),
    limits: resolveContextLimits(),
    tokenizer: "code",
  });
  return { dir, storage, context, kv };
}

const ITEM = (id: string, text: string) => ({ id, scope: { kind: "global" as const }, text });
const ADMIN = callAs("acme");

/** Everything a refused commit must leave as it was. */
async function snapshotOf(storage: Storage, context: ContextService) {
  const { took_ms: _took, ...search } = await context.search(ADMIN, {
    query: "lock queue",
    k: 5,
    strategy: "hybrid",
  });
  return {
    lastIndex: storage.lastIndex,
    kv: structuredClone(storage.stateOf("kv") as KvState),
    stats: context.stats(ADMIN),
    search,
  };
}

describe("storage.commit", () => {
  test("a context upsert and another machine's record commit as one batch", async () => {
    const { storage, context, kv } = await open();
    const prepared = await context.prepareUpsert(ADMIN, { items: [ITEM("a", "lock queue")] });
    const [answer] = await commitPrepared(
      storage,
      ADMIN,
      [prepared],
      [kv.record({ op: "set", key: "step", value: "done" })],
    );
    // Two records, one batch: the answer stands at the batch's last index.
    expect(answer.wal_index).toBe(2);
    expect(storage.lastIndex).toBe(2);
    expect(kv.state().entries).toEqual({ step: "done" });
    expect(context.get(ADMIN, { kind: "global" }, "a").wal_index).toBe(1);
    const records = storage.wal.read(1, { limit: 10 });
    expect(records.map((r) => [r.walIndex, r.machine])).toEqual([
      [1, "context"],
      [2, "kv"],
    ]);
    await storage.close();
  });

  test("hooks run in order, see the batch and the call, and may add records to it", async () => {
    const { storage, context, kv } = await open();
    const seen: string[] = [];
    storage.addHook("first", (batch, call) => {
      seen.push(`first:${batch.map((r) => r.machine).join(",")}:${call.principal.tenant}`);
      return [kv.record({ op: "set", key: "audit", value: call.principal.subject })];
    });
    storage.addHook("second", (batch) => {
      seen.push(`second:${batch.map((r) => r.machine).join(",")}`);
      return undefined;
    });
    const answer = await context.upsert(ADMIN, { items: [ITEM("a", "lock queue")] });
    expect(seen).toEqual(["first:context:acme", "second:context,kv"]);
    expect(answer.wal_index).toBe(2);
    expect(kv.state().entries).toEqual({ audit: "acme-admin" });
    await storage.close();
  });

  test("a hook that throws aborts the whole batch: WAL, states and indexes exactly as before", async () => {
    const { dir, storage, context, kv } = await open();
    await context.upsert(ADMIN, { items: [ITEM("a", "lock queue"), ITEM("b", "parse config")] });
    await storage.commit([kv.record({ op: "set", key: "k", value: "1" })], ADMIN);
    const before = await snapshotOf(storage, context);
    storage.addHook("deny", (batch) => {
      if (batch.some((r) => r.machine === "context")) {
        throw Object.assign(new Error("denied by hook"), { code: "policy_denied" });
      }
      return undefined;
    });
    const prepared = await context.prepareUpsert(ADMIN, {
      items: [ITEM("a", "lock queue rewritten"), ITEM("c", "lock queue again")],
    });
    const extra: AppendInput[] = [kv.record({ op: "set", key: "k", value: "2" })];
    await expect(commitPrepared(storage, ADMIN, [prepared], extra)).rejects.toThrow(
      "denied by hook",
    );
    await expect(
      context.deleteBatch(ADMIN, { items: [{ id: "a", scope: { kind: "global" } }] }),
    ).rejects.toThrow("denied by hook");
    expect(await snapshotOf(storage, context)).toEqual(before);
    // The lease was released: a write that passes the hook goes through at once.
    await storage.commit([kv.record({ op: "set", key: "k", value: "3" })], ADMIN);
    expect(kv.state().entries).toEqual({ k: "3" });
    await storage.close();
    // And the refused records are not in the log after a restart either.
    const again = await open(dir);
    expect(again.storage.lastIndex).toBe(before.lastIndex + 1);
    expect(again.kv.state().entries).toEqual({ k: "3" });
    expect(again.context.stats(ADMIN).documents).toBe(2);
    await again.storage.close();
  });
});

describe("one authorizer for every context method", () => {
  const readerOf = (tenant: string): Call => callAs(tenant, "reader");

  test("a reader's writes are refused (403 forbidden), nothing applied; reads work", async () => {
    const { storage, context } = await open();
    await context.upsert(ADMIN, { items: [ITEM("a", "lock queue")] });
    const before = await snapshotOf(storage, context);
    const reader = readerOf("acme");
    const scope = { kind: "global" as const };
    const writes: [string, () => Promise<unknown>][] = [
      ["upsert", () => context.upsert(reader, { items: [ITEM("b", "x")] })],
      ["prepareUpsert", () => context.prepareUpsert(reader, { items: [ITEM("b", "x")] })],
      ["delete", () => context.delete(reader, scope, "a")],
      ["prepareDelete", () => context.prepareDelete(reader, scope, "a")],
      ["deleteBatch", () => context.deleteBatch(reader, { items: [{ id: "a", scope }] })],
      [
        "prepareDeleteBatch",
        () => context.prepareDeleteBatch(reader, { items: [{ id: "a", scope }] }),
      ],
    ];
    for (const [name, write] of writes) {
      const refused = await write().then(
        () => null,
        (error: { code?: string; details?: Record<string, unknown> }) => error,
      );
      expect({ name, code: refused?.code }).toEqual({ name, code: "forbidden" });
      expect(refused?.details?.role_needed).toBe("writer");
    }
    expect(await snapshotOf(storage, context)).toEqual(before);
    // Every read method answers a reader.
    expect(context.get(reader, scope, "a").id).toBe("a");
    expect(
      context.list(reader, { scope: null, prefix: "", limit: 10, cursor: null }).documents,
    ).toHaveLength(1);
    expect(context.versions(reader, scope, "a").versions).toHaveLength(1);
    expect(context.version(reader, scope, "a", 1).text).toBe("lock queue");
    expect(context.merge(reader, { base: "a", ours: "a", theirs: "b" }).merged).toBe("b");
    expect(context.stats(reader).documents).toBe(1);
    expect(
      (await context.search(reader, { query: "lock", k: 3, strategy: "auto" })).results,
    ).toHaveLength(1);
    // A principal without any role is refused reads too.
    const nobody: Call = { ...reader, principal: { ...reader.principal, roles: [] } };
    expect(() => context.get(nobody, scope, "a")).toThrow(
      expect.objectContaining({ code: "forbidden" }),
    );
    await storage.close();
  });
});
