/**
 * Writes the relevance test's fixture (test/integration/context/relevance-fixture.json): the
 * first `QUERIES` queries of bench/relevance.ts's set (same roots and seed) with their targets
 * and, as distractors, the documents either half of the full-set engine ranks in its top
 * `DEPTH` for them, so the fixture holds the competition each query meets.
 *
 *   npx bun bench/relevance/fixture.ts
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHashEmbedder, hashEmbed } from "../../src/context/mod.ts";
import { buildCodeSearchSet, RELEVANCE_SET } from "./corpus.ts";
import { openRelevanceEngine } from "./vltair.ts";

const QUERIES = 60;
const DEPTH = 6;
const { dimensions: DIMENSIONS, seed: SEED } = RELEVANCE_SET;
const OUT = join(import.meta.dir, "../../test/integration/context/relevance-fixture.json");

const set = buildCodeSearchSet();
const engine = await openRelevanceEngine(set.docs, createHashEmbedder({ dimensions: DIMENSIONS }));
const queries = set.queries.slice(0, QUERIES);
const keep = new Set<string>();
for (const q of queries) {
  keep.add(q.target);
  const { sparse, dense } = engine.halves(q.text, hashEmbed(q.text, DIMENSIONS), DEPTH);
  for (const hit of [...sparse, ...dense]) keep.add(hit.id);
}
await engine.close();
const docs = set.docs
  .filter((d) => keep.has(d.id))
  .map((d) => ({ id: d.id, path: d.path, text: d.text }));
const fixture = {
  source: `bench/relevance.ts set (seed ${SEED}), first ${QUERIES} queries, top ${DEPTH} of each half`,
  queries: queries.map((q) => ({ text: q.text, target: q.target })),
  docs,
};
writeFileSync(OUT, `${JSON.stringify(fixture, null, 2)}\n`);
process.stderr.write(`${docs.length} documents, ${queries.length} queries -> ${OUT}\n`);
