/** A stored document and its past versions, as the fold keeps them. */
import type { Scope } from "../scope.ts";

/** A past version (the current one lives on the document). */
export interface PastVersion {
  version: number;
  contentHash: string;
  walIndex: number;
  updatedAtMs: number;
  text: string;
}

/**
 * The current version of a document. Never copy one with a spread: a document restored from a
 * snapshot (`LoadedDoc`) reads its text through an accessor, which a spread leaves out.
 */
export interface StoredDoc {
  /** Index key of this version in the tenant's text and vector indexes (new per version). */
  key: number;
  id: string;
  scope: Scope;
  scopeKey: string;
  text: string;
  metadata: Record<string, unknown> | undefined;
  hasVector: boolean;
  version: number;
  contentHash: string;
  createdAtMs: number;
  updatedAtMs: number;
  /** WAL index of the record that wrote this version. */
  walIndex: number;
  /** Older versions, oldest first (absent when there are none). */
  past: PastVersion[] | undefined;
}

/** The key of a document within its tenant: scope and id. */
export function docRef(scopeKeyText: string, id: string): string {
  return `${scopeKeyText}\u0000${id}`;
}

/** A document's current version as a version entry (what `past` holds for older ones). */
export function currentVersion(doc: StoredDoc): PastVersion {
  return {
    version: doc.version,
    contentHash: doc.contentHash,
    walIndex: doc.walIndex,
    updatedAtMs: doc.updatedAtMs,
    text: doc.text,
  };
}
