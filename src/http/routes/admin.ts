/**
 * Operator routes. They act on the whole data directory, so they need the admin role in the
 * operator tenant (`default`); an admin of any other tenant gets 403.
 */
import * as v from "valibot";
import { VltairError } from "../../core/mod.ts";
import { DEFAULT_TENANT } from "../../policy/mod.ts";
import type { AppContext } from "../env.ts";
import { type AnyRoute, defineRoute } from "../route.ts";

/** What a snapshot wrote, as the operator route reports it. */
export interface SnapshotSummary {
  wal_index: number;
  path: string;
  size_bytes: number;
  snapshots_kept: number;
  segments_removed: number;
}

const SnapshotSummarySchema = v.object({
  wal_index: v.number(),
  path: v.string(),
  size_bytes: v.number(),
  snapshots_kept: v.number(),
  segments_removed: v.number(),
});

function requireOperator(c: AppContext): void {
  if (c.var.principal.tenant !== DEFAULT_TENANT) {
    throw new VltairError("forbidden", "operator routes need an admin of the default tenant", {
      details: { role_needed: "admin", tenant_needed: DEFAULT_TENANT },
    });
  }
}

/** The operator routes. */
export function adminRoutes(deps: { takeSnapshot: () => Promise<SnapshotSummary> }): AnyRoute[] {
  return [
    defineRoute({
      method: "POST",
      path: "/v1/admin/snapshot",
      summary: "Take a snapshot now (what `vltair snapshot` asks a running server to do).",
      tag: "admin",
      access: "admin",
      responses: { 200: { description: "Snapshot written", schema: SnapshotSummarySchema } },
      handler: async (c) => {
        requireOperator(c);
        const summary = await deps.takeSnapshot();
        c.var.log.info("storage.snapshot_taken", {
          wal_index: summary.wal_index,
          size_bytes: summary.size_bytes,
        });
        return c.json(summary);
      },
    }),
  ];
}
