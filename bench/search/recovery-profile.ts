/**
 * Where a restart's time goes: the newest snapshot of a closed data directory decoded step by
 * step as recovery does it (read, checksum and header, then the context blob's documents JSON,
 * text index load, vector index load) next to the whole `decodeContextState`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeContextState } from "../../src/context/store/codec.ts";
import { loadTextIndex, loadVectorIndex } from "../../src/search/mod.ts";
import { decodeSnapshot } from "../../src/storage/snapshot.ts";

const decoder = new TextDecoder();

function lapMs(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

/** Step timings (ms) and blob sizes (bytes) of decoding the newest snapshot in `dir`. */
export function profileRecovery(dir: string): Record<string, number> {
  const snapshotDir = join(dir, "snapshots");
  const newest = readdirSync(snapshotDir)
    .filter((n) => n.endsWith(".snap"))
    .sort()
    .at(-1);
  if (newest === undefined) return {};
  const out: Record<string, number> = {};
  let t = performance.now();
  const bytes = readFileSync(join(snapshotDir, newest));
  out.readFileMs = lapMs(t);
  t = performance.now();
  const decoded = decodeSnapshot(bytes);
  out.checksumAndHeaderMs = lapMs(t);
  if (!decoded.ok) return out;
  const blob = decoded.data.machines.get("context")?.state;
  if (blob === undefined || blob === null) return out;
  t = performance.now();
  const state = decodeContextState(blob);
  out.decodeContextStateMs = lapMs(t);
  state.dispose();
  // The same blob in pieces: "VCTX", format, tenants, then per tenant u32-prefixed blobs —
  // format 1: header, documents JSON, text index, vector index; formats 2 and 3 add the texts
  // (one UTF-8 blob) after the documents; format 3 decodes each text on its own.
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const format = view.getUint32(4, true);
  out.contextFormat = format;
  if (format !== 1 && format !== 2 && format !== 3) return out;
  let at = 12;
  const next = (): Uint8Array => {
    const length = view.getUint32(at, true);
    const piece = blob.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return piece;
  };
  next();
  const docs = next();
  const texts = format === 1 ? null : next();
  const text = next();
  const vectors = next();
  out.docsJsonBytes = docs.length;
  out.textIndexBytes = text.length;
  out.vectorIndexBytes = vectors.length;
  t = performance.now();
  const parsed = JSON.parse(decoder.decode(docs)) as unknown[];
  out.docsJsonParseMs = lapMs(t);
  out.docs = parsed.length;
  if (texts !== null) {
    out.textsBytes = texts.length;
    t = performance.now();
    if (format === 2) decoder.decode(texts);
    else {
      let textAt = 0;
      for (const tuple of parsed as [number, string, string, number][]) {
        decoder.decode(texts.subarray(textAt, textAt + tuple[3]));
        textAt += tuple[3];
      }
    }
    out.textsDecodeMs = lapMs(t);
  }
  t = performance.now();
  loadTextIndex(text);
  out.textIndexLoadMs = lapMs(t);
  t = performance.now();
  const vectorIndex = vectors.length > 0 ? loadVectorIndex(vectors) : null;
  out.vectorIndexLoadMs = lapMs(t);
  vectorIndex?.dispose();
  return out;
}
