/** The one valibot schema of the whole configuration, derived from `CONFIG_FIELDS`. */
import * as v from "valibot";
import { CONFIG_FIELDS, type ConfigKey } from "./fields.ts";

type Schemas = { [K in ConfigKey]: (typeof CONFIG_FIELDS)[K]["schema"] };

const entries = Object.fromEntries(
  Object.entries(CONFIG_FIELDS).map(([key, spec]) => [key, spec.schema]),
) as Schemas;

/** The complete, validated configuration. */
export const ConfigSchema = v.strictObject(entries, (issue) =>
  issue.expected === "Object" ? "must be a JSON object" : "is not a known option",
);

/** The JSON config file: any subset of the options, nothing else. */
export const ConfigFileSchema = v.partial(ConfigSchema);

export type Config = v.InferOutput<typeof ConfigSchema>;
