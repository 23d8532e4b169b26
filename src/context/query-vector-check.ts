/**
 * A search's query vector against the tenant's index: a vector the server embedded must come
 * from the tenant's recorded embedder and match its index's dimension (409
 * `embedder_mismatch`); a vector the client sent must match the dimension (400
 * `validation_failed`). Before this check, both cases answered `results: []` and a hybrid
 * search silently dropped its dense half.
 */
import { VltairError } from "../core/mod.ts";
import { checkEmbedder, type Embedder, identityOf } from "./embed/mod.ts";
import type { TenantStore } from "./store/tenant.ts";

/** Throws when `queryVector` cannot be compared with the tenant's vectors. */
export function checkQueryVector(
  store: TenantStore,
  query: { tenant: string; queryVector: Float32Array; embedder: Embedder | null },
): void {
  const { tenant, queryVector, embedder } = query;
  if (embedder !== null) checkEmbedder(store.embedder, identityOf(embedder), tenant);
  const dimensions = store.vectorDimensions;
  if (dimensions === null || dimensions === queryVector.length) return;
  if (embedder !== null) {
    throw new VltairError(
      "embedder_mismatch",
      `tenant ${tenant}'s vectors have ${dimensions} dimensions, but this server's embedder ` +
        `(${embedder.provider}/${embedder.model}) makes ${embedder.dimensions}`,
      {
        details: { tenant, tenant_dimensions: dimensions, configured: identityOf(embedder) },
      },
    );
  }
  throw new VltairError(
    "validation_failed",
    `vector: must have ${dimensions} dimensions (the tenant's vectors)`,
    { details: { field: "vector", expected: dimensions, actual: queryVector.length } },
  );
}
