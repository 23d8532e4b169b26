/**
 * Embedders: `hash` (offline, lexical), `openai` (any OpenAI-compatible endpoint), `none`.
 *
 * @example
 * ```ts
 * import { createHashEmbedder } from "./embed/mod.ts";
 * ```
 */
export type { Embedder, EmbedderProvider, EmbedOptions } from "./embedder.ts";
export { EMBEDDER_PROVIDERS, normaliseL2 } from "./embedder.ts";
export { fnv1a, HASH_TEXT_CHARS_MAX } from "./feature-hash.ts";
export type { HashModel } from "./hash-embedder.ts";
export {
  createHashEmbedder,
  HASH_MODEL_DEFAULT,
  HASH_MODELS,
  hashEmbed,
} from "./hash-embedder.ts";
export { hashEmbedV1 } from "./hash-embedder-v1.ts";
export type { EmbedderIdentity } from "./identity.ts";
export {
  checkEmbedder,
  describeIdentity,
  EMBEDDER_NORMALIZERS,
  EmbedderIdentitySchema,
  identityOf,
  sameIdentity,
} from "./identity.ts";
export type { OpenAiEmbedderOptions } from "./openai-embedder.ts";
export { createOpenAiEmbedder } from "./openai-embedder.ts";
