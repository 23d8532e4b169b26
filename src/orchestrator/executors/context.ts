/**
 * The context engine's steps, each the body of its HTTP route and called with the run's `Call`
 * (the run's tenant and roles): `context.search` and `context.merge` output the route's answer;
 * `context.upsert` is prepared here and committed by the scheduler in the same WAL batch as the
 * step's completion, so its documents are written exactly once whatever crashes.
 */
import type * as v from "valibot";
import { MergeRequestSchema, SearchRequestSchema, UpsertRequestSchema } from "../../context/mod.ts";
import type { StepKindSpec } from "./executor.ts";

/** The keys of an object schema, or of every option of a union of object schemas. */
function keysOf(schema: v.GenericSchema): string[] {
  const s = schema as v.GenericSchema & { entries?: object; options?: v.GenericSchema[] };
  if (s.entries !== undefined) return Object.keys(s.entries);
  return [...new Set((s.options ?? []).flatMap(keysOf))];
}

/** A kind whose `with` is the body of a context route, checked by that route's schema. */
function contextKind<S extends v.GenericSchema>(
  kind: StepKindSpec["kind"],
  schema: S,
  run: StepKindSpec<v.InferOutput<S>>["run"],
): StepKindSpec<v.InferOutput<S>> {
  return { kind, withSchema: schema, withKeys: keysOf(schema), holdsSlot: true, run };
}

export const contextSearchKind = contextKind(
  "context.search",
  SearchRequestSchema,
  async (step, ctx) => ({
    output: await ctx.services.context.search(ctx.call, step.with),
  }),
);

export const contextMergeKind = contextKind(
  "context.merge",
  MergeRequestSchema,
  async (step, ctx) => ({
    output: ctx.services.context.merge(ctx.call, step.with),
  }),
);

export const contextUpsertKind = contextKind(
  "context.upsert",
  UpsertRequestSchema,
  async (step, ctx) => {
    const prepared = await ctx.services.context.prepareUpsert(ctx.call, step.with);
    // The summary (inserted, updated, skipped, items) is decided by the plan; the index the
    // write stands at is the completion record's, which the step's attempts show.
    const { wal_index: _walIndex, ...summary } = prepared.result(0);
    return { output: summary, prepared: [prepared] };
  },
);
