/**
 * What the context engine asks of the policy layer: the `context` attributes of a read, and the
 * `context.write` requests a `context` record implies (one per document it upserts or deletes),
 * which the policy pre-commit hook checks before the batch is appended.
 */
import { VltairError } from "../core/mod.ts";
import type { ContextAccessContext, PolicyRequest } from "../policy/mod.ts";
import type { ScopeLike } from "./scope.ts";

/** `scope_kind` and `scope_id` of reads over every scope, and `id` of reads of every document. */
export const ANY = "*";

/** The `context` attributes of an access to `id` (or `*`, or `prefix*`) in `scope` (null: any). */
export function accessContext(scope: ScopeLike | null, id: string): ContextAccessContext {
  if (scope === null) return { scope_kind: ANY, scope_id: ANY, id };
  return { scope_kind: scope.kind, scope_id: scope.id ?? "", id };
}

/**
 * The `context.write` requests of one `context` record body: one per item, in the record's
 * tenant. A body of another shape is refused (the hook fails closed).
 *
 * @example
 * ```ts
 * policy.commitHook({ [CONTEXT_MACHINE]: contextWriteRequests });
 * ```
 */
export function contextWriteRequests(body: unknown): PolicyRequest[] {
  const record = body as { tenant?: unknown; items?: unknown };
  if (typeof record?.tenant !== "string" || !Array.isArray(record.items)) {
    throw new VltairError(
      "internal",
      "a context record without tenant and items reached the policy hook",
    );
  }
  const tenant = record.tenant;
  return (record.items as { id: string; scope: ScopeLike }[]).map((item) => ({
    tenant,
    action: "context.write",
    context: accessContext(item.scope, item.id),
  }));
}
