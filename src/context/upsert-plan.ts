/**
 * Planning an upsert batch: limits per item, then versions and statuses against the state the
 * record will be applied to (the fold repeats the same decisions, so they cannot drift).
 */
import { Buffer } from "node:buffer";
import { VltairError } from "../core/mod.ts";
import type { Embedder } from "./embed/mod.ts";
import type { ContextLimits } from "./limits.ts";
import type { UpsertRequest, UpsertResponse } from "./schemas.ts";
import { scopeKey } from "./scope.ts";
import { docRef } from "./store/doc.ts";
import type { TenantStore } from "./store/tenant.ts";

type Item = UpsertRequest["items"][number];

function itemError(
  index: number,
  field: string,
  message: string,
  extra: Record<string, unknown> = {},
) {
  return new VltairError("validation_failed", `items.${index}.${field}: ${message}`, {
    details: { index, field: `items.${index}.${field}`, ...extra },
  });
}

/** Batch size (413), text length, metadata size and vector dimension (400, `details.index`). */
export function checkUpsertLimits(
  items: readonly Item[],
  limits: ContextLimits,
  embedder: Embedder | null,
): void {
  if (items.length > limits.batchItemsMax) {
    throw new VltairError(
      "payload_too_large",
      `a batch holds at most ${limits.batchItemsMax} items`,
      {
        details: { field: "items", limit: limits.batchItemsMax, actual: items.length },
      },
    );
  }
  items.forEach((item, index) => {
    if (item.text.length > limits.textCharsMax) {
      throw itemError(index, "text", `must be at most ${limits.textCharsMax} characters`, {
        limit: limits.textCharsMax,
        actual: item.text.length,
      });
    }
    if (item.metadata !== undefined) {
      const bytes = Buffer.byteLength(JSON.stringify(item.metadata));
      if (bytes > limits.metadataBytesMax) {
        throw itemError(
          index,
          "metadata",
          `must be at most ${limits.metadataBytesMax} bytes as JSON`,
          {
            limit: limits.metadataBytesMax,
            actual: bytes,
          },
        );
      }
    }
    const dims = item.vector?.length;
    if (dims === undefined) return;
    if (dims > limits.vectorDimensionsMax) {
      throw itemError(
        index,
        "vector",
        `must have at most ${limits.vectorDimensionsMax} dimensions`,
        {
          limit: limits.vectorDimensionsMax,
          actual: dims,
        },
      );
    }
    if (embedder !== null && dims !== embedder.dimensions) {
      throw itemError(
        index,
        "vector",
        `must have ${embedder.dimensions} dimensions (the embedder's)`,
        {
          expected: embedder.dimensions,
          actual: dims,
        },
      );
    }
  });
}

/** Indexes of the items that will be written, and the response's counts and items. */
export interface UpsertPlan {
  written: number[];
  summary: Omit<UpsertResponse, "wal_index">;
}

/**
 * Decides each item's status and version in batch order: an item equal (by content hash) to the
 * document as it stands, including an earlier item of the same batch, is `skipped`.
 * With `checkVersions`, an `expected_version` that differs from the current version (0 for
 * none) rejects the batch with 409 `version_conflict`.
 */
export function planUpsert(
  store: TenantStore | undefined,
  items: readonly Item[],
  hashes: readonly string[],
  options: { checkVersions: boolean },
): UpsertPlan {
  const pending = new Map<string, { version: number; hash: string }>();
  const summary: UpsertPlan["summary"] = { inserted: 0, updated: 0, skipped: 0, items: [] };
  const written: number[] = [];
  items.forEach((item, index) => {
    const sk = scopeKey(item.scope);
    const ref = docRef(sk, item.id);
    const stored = store?.docs.get(sk, item.id);
    const current =
      pending.get(ref) ?? (stored && { version: stored.version, hash: stored.contentHash });
    const currentVersion = current?.version ?? 0;
    if (
      options.checkVersions &&
      item.expected_version !== undefined &&
      item.expected_version !== currentVersion
    ) {
      throw new VltairError(
        "version_conflict",
        `items.${index}: expected version ${item.expected_version}, found ${currentVersion}`,
        {
          details: {
            index,
            id: item.id,
            scope: sk,
            expected_version: item.expected_version,
            current_version: currentVersion,
          },
        },
      );
    }
    const hash = hashes[index] as string;
    if (current !== undefined && current.hash === hash) {
      summary.skipped += 1;
      summary.items.push({
        id: item.id,
        scope: item.scope,
        version: current.version,
        status: "skipped",
      });
      return;
    }
    const version = currentVersion + 1;
    pending.set(ref, { version, hash });
    written.push(index);
    const status = current === undefined ? "inserted" : "updated";
    summary[status] += 1;
    summary.items.push({ id: item.id, scope: item.scope, version, status });
  });
  return { written, summary };
}
