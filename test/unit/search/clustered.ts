/**
 * Seeded clustered unit vectors for vector-index tests and bench/vector.ts.
 *
 * Each point is a cluster centre, plus a Gaussian step inside that cluster's own random
 * `subspaceDimensions`-wide subspace, plus a little isotropic noise, normalized to unit
 * length: data with a low intrinsic dimension, as sentence embeddings have. Data and queries
 * drawn from one `ClusteredSpace` share its centres. mulberry32 makes every run, on every
 * runtime, produce the same bytes for the same seed.
 */

import { seededRandom } from "../../support/random.ts";

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function normalize(vectors: Float32Array, offset: number, dimensions: number): void {
  let norm = 0;
  for (let i = 0; i < dimensions; i++) norm += (vectors[offset + i] as number) ** 2;
  const scale = 1 / Math.sqrt(norm || 1);
  for (let i = 0; i < dimensions; i++) {
    vectors[offset + i] = (vectors[offset + i] as number) * scale;
  }
}

/** Options of {@link clusteredSpace}. */
export interface ClusteredSpaceOptions {
  dimensions: number;
  seed: number;
  /** Default 100. */
  clusters?: number;
  /** Width of each cluster's subspace, default 32. */
  subspaceDimensions?: number;
  /** Norm of the step inside the subspace (relative to the unit centre), default 0.6. */
  spread?: number;
  /** Norm of the isotropic noise, default 0.2. */
  noise?: number;
}

/** A seeded space; `sample(count)` draws `count` × `dimensions` floats, row-major. */
export interface ClusteredSpace {
  dimensions: number;
  sample(count: number): Float32Array;
}

/** Builds the centres and subspaces of a seeded clustered space. */
export function clusteredSpace(options: ClusteredSpaceOptions): ClusteredSpace {
  const dims = options.dimensions;
  const clusters = options.clusters ?? 100;
  const sub = options.subspaceDimensions ?? 32;
  const spread = options.spread ?? 0.6;
  const noise = options.noise ?? 0.2;
  const random = seededRandom(options.seed);
  const centres = new Float32Array(clusters * dims);
  for (let i = 0; i < centres.length; i++) centres[i] = gaussian(random);
  for (let c = 0; c < clusters; c++) normalize(centres, c * dims, dims);
  const basis = new Float32Array(clusters * sub * dims);
  for (let i = 0; i < basis.length; i++) basis[i] = gaussian(random);
  for (let b = 0; b < clusters * sub; b++) normalize(basis, b * dims, dims);

  const sample = (count: number): Float32Array => {
    const out = new Float32Array(count * dims);
    for (let p = 0; p < count; p++) {
      const c = Math.floor(random() * clusters);
      const base = p * dims;
      for (let i = 0; i < dims; i++) {
        out[base + i] =
          (centres[c * dims + i] as number) + (gaussian(random) * noise) / Math.sqrt(dims);
      }
      for (let j = 0; j < sub; j++) {
        const step = (gaussian(random) * spread) / Math.sqrt(sub);
        const row = (c * sub + j) * dims;
        for (let i = 0; i < dims; i++) {
          out[base + i] = (out[base + i] as number) + step * (basis[row + i] as number);
        }
      }
      normalize(out, base, dims);
    }
    return out;
  };
  return { dimensions: dims, sample };
}
