/**
 * The identity of an embedder's vectors: provider, model, dimension and normaliser. A tenant
 * records the identity that made its vectors when it first stores one the server embedded
 * (the `embedder` field of its upsert record); a later write or search that would embed with a
 * different identity is refused (409 `embedder_mismatch`), because vectors of two models never
 * meet meaningfully in one index.
 */
import * as v from "valibot";
import { VltairError } from "../../core/mod.ts";
import { EMBEDDER_PROVIDERS, type Embedder } from "./embedder.ts";

/** What the server's embedders apply to every vector (all of them return unit vectors). */
export const EMBEDDER_NORMALIZERS = ["l2"] as const;

/** Schema of a recorded identity (WAL records and snapshots). */
export const EmbedderIdentitySchema = v.object({
  provider: v.picklist(EMBEDDER_PROVIDERS),
  model: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  dimensions: v.pipe(v.number(), v.integer(), v.minValue(1)),
  normalizer: v.picklist(EMBEDDER_NORMALIZERS),
});

/** The identity of the vectors an embedder makes. */
export type EmbedderIdentity = v.InferOutput<typeof EmbedderIdentitySchema>;

/** The identity of `embedder`'s vectors. */
export function identityOf(embedder: Embedder): EmbedderIdentity {
  return {
    provider: embedder.provider,
    model: embedder.model,
    dimensions: embedder.dimensions,
    normalizer: "l2",
  };
}

/** Whether two identities make interchangeable vectors. */
export function sameIdentity(a: EmbedderIdentity, b: EmbedderIdentity): boolean {
  return (
    a.provider === b.provider &&
    a.model === b.model &&
    a.dimensions === b.dimensions &&
    a.normalizer === b.normalizer
  );
}

/** `hash/hash-v2 (384-d, l2)`: an identity for messages. */
export function describeIdentity(identity: EmbedderIdentity): string {
  return `${identity.provider}/${identity.model} (${identity.dimensions}-d, ${identity.normalizer})`;
}

/**
 * Throws 409 `embedder_mismatch` naming both identities when the tenant's recorded one is not
 * the embedder's; nothing when the tenant has recorded none.
 *
 * @example
 * ```ts
 * checkEmbedder(store.embedder, identityOf(embedder), "acme");
 * ```
 */
export function checkEmbedder(
  recorded: EmbedderIdentity | null,
  configured: EmbedderIdentity,
  tenant: string,
): void {
  if (recorded === null || sameIdentity(recorded, configured)) return;
  throw new VltairError(
    "embedder_mismatch",
    `tenant ${tenant}'s vectors were made by ${describeIdentity(recorded)}, but this server ` +
      `embeds with ${describeIdentity(configured)}; configure the recorded embedder (see ` +
      "GET /v1/context/stats) or use a new data directory",
    { details: { tenant, recorded, configured } },
  );
}
