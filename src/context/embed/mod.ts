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
export { createHashEmbedder, fnv1a, HASH_TEXT_CHARS_MAX, hashEmbed } from "./hash-embedder.ts";
export type { OpenAiEmbedderOptions } from "./openai-embedder.ts";
export { createOpenAiEmbedder } from "./openai-embedder.ts";
