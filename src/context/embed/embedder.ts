/**
 * The embedder interface (CE-13, ARCHITECTURE.md decision 8): texts in, L2-normalised float32
 * vectors out, all of one dimension. A failing embedder throws `embedding_unavailable`.
 */

/** Which embedder a config selects. */
export const EMBEDDER_PROVIDERS = ["none", "hash", "openai"] as const;
export type EmbedderProvider = (typeof EMBEDDER_PROVIDERS)[number];

/** Options of one `embed` call. */
export interface EmbedOptions {
  /** Aborts the call (request deadline, shutdown). */
  signal?: AbortSignal;
}

/** Turns texts into vectors. */
export interface Embedder {
  readonly provider: EmbedderProvider;
  /**
   * Which model made the vectors (`hash-v2`, or the configured remote model): vectors of two
   * models never mix, so a tenant records it with the dimension.
   */
  readonly model: string;
  /** Dimension of every vector this embedder returns. */
  readonly dimensions: number;
  /** One vector per text, in order. */
  embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]>;
}

/** Scales `vector` in place to unit length; a zero vector stays zero. Returns it. */
export function normaliseL2(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const x of vector) sum += x * x;
  if (sum === 0) return vector;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) * scale;
  return vector;
}
