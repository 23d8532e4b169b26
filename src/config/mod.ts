/**
 * Configuration: one table of options, one valibot schema, layered loading.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config/mod.ts";
 * const { config } = loadConfig({ flags: {}, env: process.env, readFile });
 * ```
 */
export type { ConfigKey, FieldKind } from "./fields.ts";
export { CONFIG_FIELDS, CONFIG_FILE_ENV, CONFIG_FILE_FLAG, CONFIG_KEYS } from "./fields.ts";
export type { ConfigOrigin, ConfigSources, LoadedConfig } from "./load.ts";
export { isLoopbackHost, loadConfig } from "./load.ts";
export type { Config } from "./schema.ts";
export { ConfigFileSchema, ConfigSchema } from "./schema.ts";
