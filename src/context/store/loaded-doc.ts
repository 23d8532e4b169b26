/**
 * A document restored from a snapshot whose text stays UTF-8 bytes until it is read.
 *
 * A restart used to decode every current text into a string (~0.4 s for 100k chunks) although
 * a search reads only the texts of the hits it renders. The texts blob of the snapshot is copied
 * out once (so the rest of the snapshot's bytes can be collected) and each document keeps its
 * offset and length in it; `text` decodes on every read (a few µs for a chunk) and caches
 * nothing, so memory stays one byte per ASCII character, as an 8-bit string would be.
 */
import type { Scope } from "../scope.ts";
import type { PastVersion, StoredDoc } from "./doc.ts";

const decoder = new TextDecoder();

/** The fields of a restored document other than its text. */
export type LoadedDocFields = Omit<StoredDoc, "text">;

export class LoadedDoc implements StoredDoc {
  key: number;
  id: string;
  scope: Scope;
  scopeKey: string;
  metadata: Record<string, unknown> | undefined;
  hasVector: boolean;
  version: number;
  contentHash: string;
  createdAtMs: number;
  updatedAtMs: number;
  walIndex: number;
  past: PastVersion[] | undefined;
  readonly #texts: Uint8Array;
  readonly #at: number;
  readonly #sizeBytes: number;

  constructor(fields: LoadedDocFields, texts: Uint8Array, at: number, sizeBytes: number) {
    this.key = fields.key;
    this.id = fields.id;
    this.scope = fields.scope;
    this.scopeKey = fields.scopeKey;
    this.metadata = fields.metadata;
    this.hasVector = fields.hasVector;
    this.version = fields.version;
    this.contentHash = fields.contentHash;
    this.createdAtMs = fields.createdAtMs;
    this.updatedAtMs = fields.updatedAtMs;
    this.walIndex = fields.walIndex;
    this.past = fields.past;
    this.#texts = texts;
    this.#at = at;
    this.#sizeBytes = sizeBytes;
  }

  get text(): string {
    return decoder.decode(this.textBytes());
  }

  /** The text's UTF-8 bytes (a view: the snapshot encoder copies them without decoding). */
  textBytes(): Uint8Array {
    return this.#texts.subarray(this.#at, this.#at + this.#sizeBytes);
  }
}
