/**
 * Loads the embedded vector module and prints one JSON line describing a fixed workload:
 * run by runtimes.test.ts under Bun, Deno (`deno run`, no permissions), Node (a
 * `bun build --target=node` bundle alone in a temp dir) and as a `bun build --compile`
 * binary alone in a temp dir. Identical output everywhere proves that each path loads the
 * module with no file beside it and that results and serialized bytes are bit-identical.
 */
import { createHash } from "node:crypto";
import { createVectorIndex, loadVectorIndex } from "../../../src/search/mod.ts";
import { clusteredSpace } from "../../unit/search/clustered.ts";

const DIMENSIONS = 64;
const COUNT = 2000;

function floatBits(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString("hex");
}

const space = clusteredSpace({
  dimensions: DIMENSIONS,
  seed: 99,
  clusters: 20,
  subspaceDimensions: 8,
});
const data = space.sample(COUNT);
const queries = space.sample(5);
const index = createVectorIndex({ dimensions: DIMENSIONS, metric: "cos", quantization: "f16" });
index.addBatch(
  Array.from({ length: COUNT }, (_, i) => i),
  data,
);
for (let key = 0; key < COUNT; key += 97) index.remove(key);
const searches = [];
for (let q = 0; q < 5; q++) {
  const query = queries.subarray(q * DIMENSIONS, (q + 1) * DIMENSIONS);
  const plain = index.search(query, 10);
  const filtered = index.search(query, 10, { filter: { predicate: (key) => key % 5n === 0n } });
  searches.push({
    keys: Array.from(plain.keys, String),
    distances: floatBits(plain.distances),
    filtered: Array.from(filtered.keys, String),
  });
}
const bytes = index.serialize();
const copy = loadVectorIndex(bytes);
const reloaded = copy.search(queries.subarray(0, DIMENSIONS), 10);
const report = {
  size: index.size(),
  serializedSha256: createHash("sha256").update(bytes).digest("hex"),
  serializedBytes: bytes.length,
  searches,
  reloadedKeys: Array.from(reloaded.keys, String),
};
copy.dispose();
index.dispose();
console.log(JSON.stringify(report));
