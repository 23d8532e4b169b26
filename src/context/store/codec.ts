/**
 * Snapshot bytes of the context state. Indexes are stored as their own serialized bytes, so a
 * restart loads them instead of re-indexing:
 *
 * ```
 * "VCTX" u32 format, u32 tenants, then per tenant five length-prefixed (u32 LE) blobs:
 *   header JSON {tenant, next_key, embedder}, documents JSON (each text replaced by its UTF-8 length),
 *   the current texts as one UTF-8 blob, text index bytes, vector index bytes (may be empty)
 * ```
 *
 * Texts are one blob, not JSON strings: parsing each text out of JSON dominated restart time.
 * A restored document keeps its text as bytes of that blob and decodes it when read
 * (`LoadedDoc`): a restart decodes no text, memory stays one byte per ASCII character, and
 * the next snapshot copies those bytes without re-encoding. Texts are well-formed UTF-16 (the
 * upsert schema refuses lone surrogates), so UTF-8 round-trips them exactly.
 * Formats 1 (texts inline in the JSON) and 2 (one blob, UTF-16 lengths) still load.
 */
import { Buffer } from "node:buffer";
import { runSteps, type Steps, VltairError } from "../../core/mod.ts";
import { loadTextIndexSteps, loadVectorIndex } from "../../search/mod.ts";
import { joinParts } from "../../storage/mod.ts";
import type { EmbedderIdentity } from "../embed/mod.ts";
import { type Scope, scopeOfKey } from "../scope.ts";
import type { PastVersion, StoredDoc } from "./doc.ts";
import { LoadedDoc, type LoadedDocFields } from "./loaded-doc.ts";
import { CONTEXT_STATE_DEFAULTS, ContextState, type ContextStateOptions } from "./state.ts";
import { TENANT_VECTOR_LOAD_OPTIONS, TenantStore } from "./tenant.ts";

const MAGIC = 0x58544356; // "VCTX" little-endian
const FORMAT = 3;
/** Format 1: texts inline in the documents JSON, no blob. */
const FORMAT_INLINE_TEXTS = 1;
/** Format 2: one blob decoded as a whole, lengths in UTF-16 units. */
const FORMAT_UTF16_LENGTHS = 2;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A tenant's header blob; `embedder` is absent in snapshots written before it was recorded. */
interface TenantHeader {
  tenant: string;
  next_key: number;
  embedder?: EmbedderIdentity | null;
}

type PastTuple = [number, string, number, number, string];
type DocTuple = [
  key: number,
  id: string,
  scopeKey: string,
  textLength: number,
  metadata: Record<string, unknown> | null,
  hasVector: 0 | 1,
  version: number,
  contentHash: string,
  createdAtMs: number,
  updatedAtMs: number,
  walIndex: number,
  past: PastTuple[] | null,
];

function docTuple(d: StoredDoc, textBytes: number): DocTuple {
  const past = d.past?.map(
    (p): PastTuple => [p.version, p.contentHash, p.walIndex, p.updatedAtMs, p.text],
  );
  return [
    d.key,
    d.id,
    d.scopeKey,
    textBytes,
    d.metadata ?? null,
    d.hasVector ? 1 : 0,
    d.version,
    d.contentHash,
    d.createdAtMs,
    d.updatedAtMs,
    d.walIndex,
    past ?? null,
  ];
}

/**
 * One scope object and key string per distinct scope of a snapshot: JSON.parse gives every
 * document its own copy of the same key (100k copies of "global" for 100k documents).
 */
type ScopeCache = Map<string, { scopeKey: string; scope: Scope }>;

function sharedScope(cache: ScopeCache, key: string): { scopeKey: string; scope: Scope } {
  let entry = cache.get(key);
  if (entry === undefined) {
    entry = { scopeKey: key, scope: scopeOfKey(key) };
    cache.set(key, entry);
  }
  return entry;
}

function fieldsOf(t: DocTuple, scopes: ScopeCache): LoadedDocFields {
  const { scope, scopeKey } = sharedScope(scopes, t[2]);
  const past = t[11]?.map(
    (p): PastVersion => ({
      version: p[0],
      contentHash: p[1],
      walIndex: p[2],
      updatedAtMs: p[3],
      text: p[4],
    }),
  );
  return {
    key: t[0],
    id: t[1],
    scope,
    scopeKey,
    metadata: t[4] ?? undefined,
    hasVector: t[5] === 1,
    version: t[6],
    contentHash: t[7],
    createdAtMs: t[8],
    updatedAtMs: t[9],
    walIndex: t[10],
    past,
  };
}

function textSizeBytes(d: StoredDoc): number {
  return d instanceof LoadedDoc ? d.textBytes().length : Buffer.byteLength(d.text, "utf8");
}

/** The current texts of `docs` as one UTF-8 blob; restored texts are copied, not re-encoded. */
function textsBlob(docs: readonly StoredDoc[], sizesBytes: readonly number[]): Uint8Array {
  let total = 0;
  for (const size of sizesBytes) total += size;
  const out = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < docs.length; i++) {
    const d = docs[i] as StoredDoc;
    if (d instanceof LoadedDoc) out.set(d.textBytes(), at);
    else encoder.encodeInto(d.text, out.subarray(at));
    at += sizesBytes[i] as number;
  }
  return out;
}

/**
 * The state's snapshot bytes as consecutive pieces, not copied into one buffer: the storage
 * checksums and writes them in order (a copy of a 100k-chunk state is a few hundred MB of
 * fresh memory at the moment memory peaks). Synchronous: the storage calls it between commits.
 */
export function encodeContextStateParts(state: ContextState): Uint8Array[] {
  const head = new Uint8Array(12);
  const headView = new DataView(head.buffer);
  headView.setUint32(0, MAGIC, true);
  headView.setUint32(4, FORMAT, true);
  headView.setUint32(8, state.tenants.size, true);
  const parts: Uint8Array[] = [head];
  const push = (blob: Uint8Array): void => {
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, blob.length, true);
    parts.push(length, blob);
  };
  for (const t of state.tenants.values()) {
    const stored = [...t.docs.values()];
    const sizesBytes = stored.map(textSizeBytes);
    const docs = stored.map((d, i) => docTuple(d, sizesBytes[i] as number));
    const header: TenantHeader = { tenant: t.tenant, next_key: t.nextKey, embedder: t.embedder };
    push(encoder.encode(JSON.stringify(header)));
    push(encoder.encode(JSON.stringify(docs)));
    push(textsBlob(stored, sizesBytes));
    push(t.text.serialize());
    push(t.vectorIndex()?.serialize() ?? new Uint8Array(0));
  }
  return parts;
}

/** {@link encodeContextStateParts} joined into one buffer. */
export function encodeContextState(state: ContextState): Uint8Array {
  return joinParts(encodeContextStateParts(state));
}

function corrupt(why: string): VltairError {
  return new VltairError("unavailable", `context snapshot is invalid: ${why}`, {
    details: { reason: "snapshot_invalid" },
  });
}

/** Rebuilds a state from {@link encodeContextState}'s bytes. */
export function decodeContextState(
  bytes: Uint8Array,
  options: ContextStateOptions = CONTEXT_STATE_DEFAULTS,
): ContextState {
  return runSteps(decodeContextStateSteps(bytes, options));
}

/** Documents restored between two pause points of {@link decodeContextStateSteps}. */
const DOCS_PER_STEP = 2048;

/**
 * {@link decodeContextState} as steps: it may pause between a tenant's parts, inside the text
 * index's postings and every few thousand documents (recovery keeps answering health checks).
 */
export function* decodeContextStateSteps(
  bytes: Uint8Array,
  options: ContextStateOptions = CONTEXT_STATE_DEFAULTS,
): Steps<ContextState> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || view.getUint32(0, true) !== MAGIC) throw corrupt("bad magic");
  const format = view.getUint32(4, true);
  if (format !== FORMAT && format !== FORMAT_INLINE_TEXTS && format !== FORMAT_UTF16_LENGTHS) {
    throw corrupt("unknown format");
  }
  const tenants = view.getUint32(8, true);
  let at = 12;
  const next = (): Uint8Array => {
    if (at + 4 > bytes.length) throw corrupt("truncated");
    const length = view.getUint32(at, true);
    if (at + 4 + length > bytes.length) throw corrupt("truncated");
    const blob = bytes.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return blob;
  };
  const state = new ContextState(options);
  const scopes: ScopeCache = new Map();
  for (let i = 0; i < tenants; i++) {
    const header = JSON.parse(decoder.decode(next())) as TenantHeader;
    const docs = JSON.parse(decoder.decode(next())) as DocTuple[];
    yield;
    const textBytes = format === FORMAT_INLINE_TEXTS ? null : next();
    const texts = format === FORMAT_UTF16_LENGTHS ? decoder.decode(textBytes ?? undefined) : null;
    const text = yield* loadTextIndexSteps(next());
    yield;
    const vectorBytes = next();
    const store = new TenantStore(header.tenant, text.options.tokenizer, {
      helperThread: options.helperThread,
      text,
    });
    store.nextKey = header.next_key;
    store.embedder = header.embedder ?? null;
    if (vectorBytes.length > 0) {
      store.attachVectorIndex(
        loadVectorIndex(vectorBytes, {
          ...TENANT_VECTOR_LOAD_OPTIONS,
          helperThread: options.helperThread,
        }),
      );
    }
    // Format 3 texts stay bytes (see LoadedDoc): one copy, so the snapshot's buffer is freed.
    const ownTexts = format === FORMAT && textBytes !== null ? textBytes.slice() : null;
    yield;
    let textAt = 0;
    let docsInStep = 0;
    for (const tuple of docs) {
      if (++docsInStep === DOCS_PER_STEP) {
        docsInStep = 0;
        yield;
      }
      const length = tuple[3];
      let doc: StoredDoc;
      if (ownTexts !== null) {
        if (textAt + length > ownTexts.length)
          throw corrupt("texts are shorter than their lengths");
        doc = new LoadedDoc(fieldsOf(tuple, scopes), ownTexts, textAt, length);
        textAt += length;
      } else if (format === FORMAT_INLINE_TEXTS) {
        doc = { ...fieldsOf(tuple, scopes), text: length as unknown as string };
      } else {
        if (textAt + length > (texts as string).length) {
          throw corrupt("texts are shorter than their lengths");
        }
        doc = {
          ...fieldsOf(tuple, scopes),
          text: (texts as string).slice(textAt, textAt + length),
        };
        textAt += length;
      }
      store.docs.set(doc);
      store.byKey.set(doc.key, doc);
    }
    state.tenants.set(header.tenant, store);
  }
  return state;
}
