/**
 * `map`: one step template run over every item of a list, at most `concurrency` at once, its
 * output the list of the items' outputs in list order. The template's `with` may reference
 * `${item…}` and `${index}` besides the run's values; it is resolved per item and checked by the
 * template kind's schema. Each item's output is journaled as it ends (its context writes commit
 * with it), so a retried or restarted attempt runs only the items that had not ended. The first
 * item that fails stops new items from starting and fails the step with that item's error
 * (`details.index` added); the step's own `retry` applies to the whole map.
 */
import * as v from "valibot";
import { StepFailure, stepErrorOf } from "../step-error.ts";
import { type InputRefusal, parseStepInput } from "../step-input.ts";
import { resolveReferences } from "../template.ts";
import { SINGLE_SHOT_KINDS } from "../workflow-schema.ts";
import type { StepContext, StepKindSpec } from "./executor.ts";

/** Most items of one map (each is a journal entry of the run). */
export const MAP_ITEMS_MAX = 10_000;
/** Most items of one map running at once. */
export const MAP_CONCURRENCY_MAX = 64;
/** Items running at once when `concurrency` is absent. */
export const MAP_CONCURRENCY_DEFAULT = 4;
/** Kinds a map's template may have: not a map (no nesting), a wait or an agent loop. */
export const MAP_TEMPLATE_KINDS = SINGLE_SHOT_KINDS;

const TemplateSchema = v.strictObject({
  kind: v.picklist(MAP_TEMPLATE_KINDS, `must be one of ${MAP_TEMPLATE_KINDS.join(", ")}`),
  with: v.optional(v.record(v.string(), v.unknown())),
});

const MapWith = v.strictObject({
  items: v.pipe(
    v.array(v.unknown(), "must be a list (or a reference to one)"),
    v.maxLength(MAP_ITEMS_MAX),
  ),
  /** The step template; its `with` is resolved per item (`${item…}`, `${index}`). */
  step: TemplateSchema,
  concurrency: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAP_CONCURRENCY_MAX)),
  ),
});
type MapInput = v.InferOutput<typeof MapWith>;

/** A map item whose input does not fit its kind: not retried. */
const itemInvalid: InputRefusal = (field, message) =>
  new StepFailure("map_item_invalid", `${field}: ${message}`, {
    retryable: false,
    details: { field },
  });

/** The item's error with its index, keeping its code and retryability. */
function itemFailure(error: unknown, index: number): StepFailure | unknown {
  if (error instanceof DOMException || (error as { name?: string })?.name === "AbortError")
    return error;
  const { error: recorded, retryable } = stepErrorOf(error);
  return new StepFailure(
    recorded.code as StepFailure["code"],
    `item ${index}: ${recorded.message}`,
    { retryable, details: { ...recorded.details, index } },
  );
}

/** The map kind over the table of kinds (given lazily: the table holds this kind too). */
export function mapKind(
  kinds: () => Readonly<Record<string, StepKindSpec<unknown>>>,
): StepKindSpec<MapInput> {
  return {
    kind: "map",
    withSchema: MapWith,
    withKeys: Object.keys(MapWith.entries),
    deferredKeys: ["step"],
    holdsSlot: true,
    async run(step, ctx) {
      const { items, step: template } = step.with;
      const spec = kinds()[template.kind] as StepKindSpec<unknown>;
      const outputs: unknown[] = new Array(items.length);
      let next = 0;
      let failure: { error: unknown } | null = null;
      const runItem = async (index: number): Promise<unknown> => {
        const scope = { ...ctx.scope, item: items[index], index };
        const itemCtx: StepContext = {
          ...ctx,
          scope,
          idempotencyKey: `${ctx.idempotencyKey}:${index}`,
          journal: (key, work) => ctx.journal(`item:${index}/${key}`, work),
        };
        return ctx.journal(`item:${index}`, async () => {
          const input = resolveReferences(template.with ?? {}, scope);
          const checked = parseStepInput(spec.withSchema, input, "with.step.with", itemInvalid);
          const result = await spec.run({ ...step, kind: template.kind, with: checked }, itemCtx);
          return result.prepared === undefined
            ? { output: result.output }
            : { output: result.output, prepared: result.prepared };
        });
      };
      const worker = async () => {
        while (failure === null && next < items.length) {
          const index = next++;
          try {
            outputs[index] = await runItem(index);
          } catch (error) {
            failure ??= { error: itemFailure(error, index) };
          }
        }
      };
      const width = Math.min(step.with.concurrency ?? MAP_CONCURRENCY_DEFAULT, items.length);
      await Promise.all(Array.from({ length: width }, worker));
      if (failure !== null) throw (failure as { error: unknown }).error;
      return { output: outputs };
    },
  };
}
