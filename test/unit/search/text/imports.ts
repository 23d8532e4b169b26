/** The symbols under test, from the folder's public surface. */
export { VltairError } from "../../../../src/core/mod.ts";
export {
  createTextIndex,
  loadTextIndex,
  parseQuery,
  TEXT_LIMITS,
  tokenizeCode,
  tokenizeUnicode61,
} from "../../../../src/search/text/mod.ts";
