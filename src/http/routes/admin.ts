/**
 * Operator routes. They act on the whole data directory, so they need the global `operator`
 * role; an admin of any tenant gets 403.
 */
import * as v from "valibot";
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

/** The operator routes. */
export function adminRoutes(deps: { takeSnapshot: () => Promise<SnapshotSummary> }): AnyRoute[] {
  return [
    defineRoute({
      method: "POST",
      path: "/v1/admin/snapshot",
      summary: "Take a snapshot now (what `vltair snapshot` asks a running server to do).",
      tag: "admin",
      access: "operator",
      responses: { 200: { description: "Snapshot written", schema: SnapshotSummarySchema } },
      handler: async (c) => {
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
