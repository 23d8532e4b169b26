/**
 * Property (fast-check): after random upserts and deletes, search with a random filter returns
 * exactly the documents a brute-force reference selects, and every document reads back as the
 * reference holds it. Dense runs with k = all documents, so its answer is a set.
 */

import { expect, test } from "bun:test";
import fc from "fast-check";
import {
  ContextService,
  createContextMachine,
  resolveContextLimits,
} from "../../../src/context/mod.ts";
import { createStorage, openDataDir } from "../../../src/storage/mod.ts";
import { callAs } from "../../support/call.ts";
import { tempDir } from "../../support/tmp.ts";

const WORDS = ["alpha", "beta", "gamma", "delta", "omega"];
const IDS = ["a", "b", "c", "d", "e", "f", "g", "h"];
const TAGS = ["red", "green", "grey"];
const GLOBAL = { kind: "global" as const };
const SESSION = { kind: "session" as const, id: "s1" };
const SCOPES = [GLOBAL, SESSION];
const DIMS = 4;

interface RefDoc {
  id: string;
  scope: { kind: "global" } | { kind: "session"; id: string };
  text: string;
  vector: number[];
  metadata: { n: number; tag?: string };
  version: number;
}

type Cond =
  | { field: "metadata.n"; op: "eq" | "lt" | "gte"; value: number }
  | { field: "metadata.n"; op: "in"; value: number[] }
  | { field: "metadata.tag"; op: "eq" | "prefix"; value: string }
  | { field: "metadata.tag"; op: "exists"; value: boolean }
  | { field: "scope.kind"; op: "eq"; value: string };
type Filter = Cond | { and: Filter[] } | { or: Filter[] } | { not: Filter };

function evaluate(f: Filter, d: RefDoc): boolean {
  if ("and" in f) return f.and.every((x) => evaluate(x, d));
  if ("or" in f) return f.or.some((x) => evaluate(x, d));
  if ("not" in f) return !evaluate(f.not, d);
  if (f.field === "scope.kind") return d.scope.kind === f.value;
  if (f.field === "metadata.n") {
    const n = d.metadata.n;
    if (f.op === "in") return f.value.includes(n);
    if (f.op === "eq") return n === f.value;
    return f.op === "lt" ? n < f.value : n >= f.value;
  }
  const tag = d.metadata.tag;
  if (f.op === "exists") return (tag !== undefined) === f.value;
  if (tag === undefined) return false;
  return f.op === "eq" ? tag === f.value : tag.startsWith(f.value);
}

const cond: fc.Arbitrary<Filter> = fc.oneof(
  fc.record({
    field: fc.constant("metadata.n" as const),
    op: fc.constantFrom("eq" as const, "lt" as const, "gte" as const),
    value: fc.integer({ min: 0, max: 5 }),
  }),
  fc.record({
    field: fc.constant("metadata.n" as const),
    op: fc.constant("in" as const),
    value: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    field: fc.constant("metadata.tag" as const),
    op: fc.constantFrom("eq" as const, "prefix" as const),
    value: fc.constantFrom("red", "gr", "green"),
  }),
  fc.record({
    field: fc.constant("metadata.tag" as const),
    op: fc.constant("exists" as const),
    value: fc.boolean(),
  }),
  fc.record({
    field: fc.constant("scope.kind" as const),
    op: fc.constant("eq" as const),
    value: fc.constantFrom("global", "session"),
  }),
);
const filter: fc.Arbitrary<Filter> = fc.oneof(
  { weight: 3, arbitrary: cond },
  fc.record({ and: fc.array(cond, { minLength: 1, maxLength: 3 }) }),
  fc.record({ or: fc.array(cond, { minLength: 1, maxLength: 3 }) }),
  fc.record({ not: cond }),
);

const op = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("upsert" as const),
      id: fc.constantFrom(...IDS),
      scope: fc.constantFrom(...SCOPES),
      words: fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 4 }),
      vector: fc.array(fc.integer({ min: -9, max: 9 }), { minLength: DIMS, maxLength: DIMS }),
      n: fc.integer({ min: 0, max: 5 }),
      tag: fc.option(fc.constantFrom(...TAGS), { nil: undefined }),
    }),
  },
  fc.record({
    kind: fc.constant("delete" as const),
    id: fc.constantFrom(...IDS),
    scope: fc.constantFrom(...SCOPES),
  }),
);

test("search and get agree with a brute-force reference", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
      filter,
      fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 2 }),
      async (batches, f, queryWords) => {
        const storage = createStorage(openDataDir(tempDir()), { fsync: "none" });
        const machine = storage.register(createContextMachine());
        await storage.recover();
        const context = new ContextService({
          machine,
          storage,
          embedder: null,
          limits: resolveContextLimits(),
          tokenizer: "code",
        });
        const ref = new Map<string, RefDoc>();
        const key = (scope: RefDoc["scope"], id: string) => `${scope.kind}:${id}`;
        try {
          for (const batch of batches) {
            const upserts = batch.filter((o) => o.kind === "upsert");
            if (upserts.length > 0) {
              await context.upsert(callAs("t"), {
                items: upserts.map((o) => ({
                  id: o.id,
                  scope: o.scope,
                  text: o.words.join(" "),
                  vector: o.vector.map((x) => (x === 0 ? 0.5 : x)),
                  metadata: o.tag === undefined ? { n: o.n } : { n: o.n, tag: o.tag },
                })),
              });
              for (const o of upserts) {
                const k = key(o.scope, o.id);
                const old = ref.get(k);
                const next: RefDoc = {
                  id: o.id,
                  scope: o.scope,
                  text: o.words.join(" "),
                  vector: o.vector.map((x) => (x === 0 ? 0.5 : x)),
                  metadata: o.tag === undefined ? { n: o.n } : { n: o.n, tag: o.tag },
                  version: (old?.version ?? 0) + 1,
                };
                const same =
                  old !== undefined &&
                  old.text === next.text &&
                  JSON.stringify(old.metadata) === JSON.stringify(next.metadata) &&
                  JSON.stringify(old.vector) === JSON.stringify(next.vector);
                if (!same) ref.set(k, next);
              }
            }
            for (const o of batch.filter((x) => x.kind === "delete")) {
              const k = key(o.scope, o.id);
              if (!ref.has(k)) continue;
              await context.delete(callAs("t"), o.scope, o.id);
              ref.delete(k);
            }
          }
          const docs = [...ref.values()];
          const label = (d: { id: string; scope: { kind: string } }) => `${d.scope.kind}:${d.id}`;
          const admitted = docs.filter((d) => evaluate(f, d));
          const sparseRef = admitted
            .filter((d) => d.text.split(" ").some((w) => queryWords.includes(w)))
            .map(label)
            .sort();
          const sparse = await context.search(callAs("t"), {
            query: queryWords.join(" "),
            k: 100,
            strategy: "sparse",
            filters: f,
          });
          expect(sparse.results.map(label).sort()).toEqual(sparseRef);
          const dense = await context.search(callAs("t"), {
            vector: [1, 2, 3, 4],
            k: 100,
            strategy: "dense",
            filters: f,
          });
          expect(dense.results.map(label).sort()).toEqual(admitted.map(label).sort());
          for (const [scope, prefix] of [
            [null, ""],
            [GLOBAL, ""],
            [SESSION, "c"],
            [null, "b"],
          ] as const) {
            const listed: string[] = [];
            let cursor: string | null = null;
            do {
              const page = context.list(callAs("t"), { scope, prefix, limit: 3, cursor });
              listed.push(...page.documents.map(label));
              cursor = page.next_cursor;
            } while (cursor !== null);
            const scopeText = (s: RefDoc["scope"]) =>
              s.kind === "global" ? "global" : `${s.kind}:${s.id}`;
            const expected = docs
              .filter(
                (d) => (scope === null || d.scope.kind === scope.kind) && d.id.startsWith(prefix),
              )
              .sort((a, b) =>
                `${scopeText(a.scope)}\u0000${a.id}` < `${scopeText(b.scope)}\u0000${b.id}`
                  ? -1
                  : 1,
              )
              .map(label);
            expect(listed).toEqual(expected);
          }
          for (const d of docs) {
            const got = context.get(callAs("t"), d.scope, d.id);
            expect({ text: got.text, metadata: got.metadata, version: got.version }).toEqual({
              text: d.text,
              metadata: d.metadata,
              version: d.version,
            });
          }
        } finally {
          await storage.close();
        }
      },
    ),
    { numRuns: process.env.VLTAIR_SLOW === "1" ? 500 : 60, seed: 20261125 },
  );
}, 60_000);
