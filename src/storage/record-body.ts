/**
 * How a record's body is written: JSON text, or — for a machine that opts in with
 * `StateMachine.bodyEncoding: "blobs"` — JSON whose long strings and `Float32Array`s are moved
 * out of the text as raw bytes. Long texts then cost a UTF-8 copy instead of JSON quoting
 * (which ran at ~100 MB/s on code, with its quotes, backslashes and newlines) and vectors cost
 * their 4 bytes per dimension instead of base64 (ADR 0019).
 *
 * ```
 * blob body = magic "\0vb1" | u32 LE header bytes H | header (UTF-8 JSON, H bytes) | blobs
 * header    = {"v": value with each blob replaced by 0, "b": [[kind, bytes, ...path], ...]}
 * kind      = 0: a UTF-8 string · 1: a Float32Array, little-endian
 * ```
 *
 * Blobs follow the header in the order of `b`. A JSON body never starts with a NUL byte, so
 * {@link decodeBody} tells the two apart by the first byte and reads both, whatever the machine
 * says today.
 */
import { assert } from "../core/mod.ts";

/** How a machine's bodies are encoded on append. */
export type BodyEncoding = "json" | "blobs";

const MAGIC = [0x00, 0x76, 0x62, 0x31] as const;
const PREFIX_BYTES = 8;
/** Strings this long or longer become blobs; shorter ones stay in the JSON. */
export const BLOB_STRING_CHARS_MIN = 128;
const KIND_UTF8 = 0;
const KIND_F32 = 1;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });
const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type PathStep = string | number;
type Place = [kind: number, bytes: number, ...path: PathStep[]];

/** Scratch for the blobs of one body, grown as needed (the result is a copy). */
let scratch = new Uint8Array(1 << 20);
/**
 * Where a float32 blob is copied on its way into `scratch`, and the same bytes as a `Uint8Array`.
 * Reading `.buffer` of a small typed array makes JSC move it out of the GC heap (an allocation
 * and a copy, ~4–5 µs for 384 floats against ~0.4 µs for these two copies), so a blob is never
 * viewed through its own buffer.
 */
let floatScratch = new Float32Array(1024);
let floatScratchBytes = new Uint8Array(floatScratch.buffer);

/*
 * Blob bodies of this size come from a few buffers that are given back once the log wrote and
 * applied them ({@link releaseBody}): a batch of 500 code chunks is a ~1.4 MB body, and a fresh
 * buffer per batch is fresh pages, which cost ~10 µs each to fault in on this VM (ADR 0024).
 * A body never released (refused, failed, or handed to a log subscriber) is collected as usual.
 */
const POOLED_BODY_BYTES_MIN = 64 * 1024;
const POOLED_BODY_BYTES_MAX = 16 * 1024 * 1024;
/** Free buffers kept; more in flight at once are allocated and collected as usual. */
const POOLED_BUFFERS_FREE_MAX = 4;
/** Each pooled buffer and the body it holds now: only that body may give it back. */
const lentBuffers = new WeakMap<ArrayBuffer, Uint8Array>();
const freeBuffers: ArrayBuffer[] = [];

/** `sizeBytes` for a body: a free pooled buffer that fits (the smallest), else a new one. */
function bodyBuffer(sizeBytes: number): Uint8Array {
  if (sizeBytes < POOLED_BODY_BYTES_MIN || sizeBytes > POOLED_BODY_BYTES_MAX) {
    return new Uint8Array(sizeBytes);
  }
  let best = -1;
  for (let i = 0; i < freeBuffers.length; i++) {
    const length = (freeBuffers[i] as ArrayBuffer).byteLength;
    if (length >= sizeBytes && (best < 0 || length < (freeBuffers[best] as ArrayBuffer).byteLength))
      best = i;
  }
  // Sizes round up to a power of two, so the next batch of about the same size fits.
  const buffer =
    best >= 0
      ? (freeBuffers.splice(best, 1)[0] as ArrayBuffer)
      : new ArrayBuffer(2 ** Math.ceil(Math.log2(sizeBytes)));
  const body = new Uint8Array(buffer, 0, sizeBytes);
  lentBuffers.set(buffer, body);
  return body;
}

/**
 * Gives the buffer of a body from {@link encodeBody} back for the next one, once nothing reads
 * the body any more. Anything else (a JSON body, a small one, a body given back before) is
 * ignored.
 */
export function releaseBody(body: Uint8Array): void {
  const buffer = body.buffer;
  if (!(buffer instanceof ArrayBuffer) || lentBuffers.get(buffer) !== body) return;
  lentBuffers.delete(buffer);
  if (freeBuffers.length < POOLED_BUFFERS_FREE_MAX) freeBuffers.push(buffer);
}

/** Encodes `value` as its machine asks: JSON text, or the blob body. */
export function encodeBody(value: unknown, encoding: BodyEncoding): Uint8Array {
  if (encoding === "json") {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError("record body is not JSON");
    return utf8.encode(text);
  }
  return encodeBlobBody(value);
}

/** True when `bytes` is a blob body (by its first bytes). */
export function isBlobBody(bytes: Uint8Array): boolean {
  return bytes.length >= PREFIX_BYTES && MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * The value of a body written by {@link encodeBody} (either encoding). Throws `SyntaxError` or
 * `RangeError` on bytes that are neither.
 */
export function decodeBody(bytes: Uint8Array): unknown {
  if (bytes[0] !== 0) return JSON.parse(utf8Strict.decode(bytes));
  if (!isBlobBody(bytes)) throw new SyntaxError("body starts with NUL but is not a blob body");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getUint32(4, true);
  const blobsAt = PREFIX_BYTES + headerBytes;
  if (blobsAt > bytes.length) throw new RangeError("blob body header runs past the body");
  const header = JSON.parse(utf8Strict.decode(bytes.subarray(PREFIX_BYTES, blobsAt))) as unknown;
  if (!isHeader(header)) throw new SyntaxError("blob body header is malformed");
  const root = { v: header.v };
  let at = blobsAt;
  for (const place of header.b) {
    const [kind, size, ...path] = place;
    if (at + size > bytes.length) throw new RangeError("blob runs past the body");
    const piece = bytes.subarray(at, at + size);
    at += size;
    setAt(root, path, kind === KIND_UTF8 ? utf8Strict.decode(piece) : float32Of(piece));
  }
  if (at !== bytes.length) throw new RangeError("blob body has trailing bytes");
  return root.v;
}

function encodeBlobBody(value: unknown): Uint8Array {
  const blobs: (string | Float32Array)[] = [];
  const places: Place[] = [];
  const skeleton = strip(value, [], blobs, places);
  if (skeleton === undefined) throw new TypeError("record body is not JSON");
  let capacity = 0;
  for (const blob of blobs)
    capacity += typeof blob === "string" ? blob.length * 3 : blob.byteLength;
  if (scratch.length < capacity) scratch = new Uint8Array(Math.max(capacity, scratch.length * 2));
  let used = 0;
  blobs.forEach((blob, i) => {
    const place = places[i] as Place;
    if (typeof blob === "string") {
      place[1] = utf8.encodeInto(blob, scratch.subarray(used)).written;
    } else {
      assert(IS_LITTLE_ENDIAN, "float32 blobs are written on little-endian platforms");
      if (floatScratch.length < blob.length) {
        floatScratch = new Float32Array(Math.max(blob.length, floatScratch.length * 2));
        floatScratchBytes = new Uint8Array(floatScratch.buffer);
      }
      floatScratch.set(blob);
      scratch.set(floatScratchBytes.subarray(0, blob.byteLength), used);
      place[1] = blob.byteLength;
    }
    used += place[1];
  });
  const header = utf8.encode(JSON.stringify({ v: skeleton, b: places }));
  // Every byte is written below: a reused buffer needs no zeroing.
  const out = bodyBuffer(PREFIX_BYTES + header.length + used);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, header.length, true);
  out.set(header, PREFIX_BYTES);
  out.set(scratch.subarray(0, used), PREFIX_BYTES + header.length);
  return out;
}

/**
 * A copy of `node` as `JSON.stringify` would see it, with each blob replaced by 0 and recorded
 * (value, then its place) in `blobs` and `places`. Returns undefined where JSON has no value.
 */
function strip(node: unknown, path: PathStep[], blobs: unknown[], places: Place[]): unknown {
  if (typeof node === "string") {
    if (node.length < BLOB_STRING_CHARS_MIN) return node;
    blobs.push(node);
    places.push([KIND_UTF8, 0, ...path]);
    return 0;
  }
  if (node instanceof Float32Array) {
    blobs.push(node);
    places.push([KIND_F32, 0, ...path]);
    return 0;
  }
  if (node === null || typeof node !== "object") {
    return typeof node === "function" || typeof node === "symbol" ? undefined : node;
  }
  const json = (node as { toJSON?: unknown }).toJSON;
  if (typeof json === "function") return strip(json.call(node), path, blobs, places);
  if (Array.isArray(node)) {
    const copy = new Array<unknown>(node.length);
    for (let i = 0; i < node.length; i++) {
      path.push(i);
      copy[i] = strip(node[i], path, blobs, places) ?? null;
      path.pop();
    }
    return copy;
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(node)) {
    path.push(key);
    const value = strip((node as Record<string, unknown>)[key], path, blobs, places);
    path.pop();
    if (value !== undefined) defineOwn(copy, key, value);
  }
  return copy;
}

/** Sets an own data property (`__proto__` included, as `JSON.parse` makes it). */
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else target[key] = value;
}

function setAt(root: { v: unknown }, path: PathStep[], value: unknown): void {
  let parent: unknown = root;
  let key: PathStep = "v";
  for (const step of path) {
    parent = childOf(parent, key);
    key = step;
  }
  if (Array.isArray(parent) && typeof key === "number" && key < parent.length) {
    parent[key] = value;
    return;
  }
  if (!isPlainObject(parent) || typeof key !== "string" || !Object.hasOwn(parent, key)) {
    throw new SyntaxError("blob place names no value of the header");
  }
  defineOwn(parent, key, value);
}

function childOf(parent: unknown, key: PathStep): unknown {
  const isOwn = Array.isArray(parent)
    ? typeof key === "number" && key < parent.length
    : isPlainObject(parent) && typeof key === "string" && Object.hasOwn(parent, key);
  if (!isOwn) throw new SyntaxError("blob place names no value of the header");
  return (parent as Record<PathStep, unknown>)[key];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * An aligned copy of little-endian float32 bytes, in an `ArrayBuffer` of its own (made first, so
 * that no small typed array is asked for its `.buffer`; see `floatScratch`).
 */
function float32Of(bytes: Uint8Array): Float32Array {
  if (bytes.length % 4 !== 0) throw new RangeError("float32 blob length is not a multiple of 4");
  const buffer = new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  return new Float32Array(buffer);
}

function isHeader(value: unknown): value is { v: unknown; b: Place[] } {
  if (!isPlainObject(value) || !Object.hasOwn(value, "v") || !Array.isArray(value.b)) return false;
  return value.b.every(
    (place: unknown) =>
      Array.isArray(place) &&
      place.length >= 2 &&
      (place[0] === KIND_UTF8 || place[0] === KIND_F32) &&
      Number.isSafeInteger(place[1]) &&
      place[1] >= 0 &&
      place
        .slice(2)
        .every(
          (step: unknown) =>
            typeof step === "string" || (Number.isSafeInteger(step) && (step as number) >= 0),
        ),
  );
}
