/**
 * Limit objects in the config (`sandbox_limits`, `storage_limits`): snake_case keys on the wire,
 * camelCase in the service that resolves them. Unknown keys and the service's own range errors
 * become `config_invalid` naming `<option>.<snake_key>`.
 */
import { VltairError } from "../core/mod.ts";

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Resolves a snake_case limit object with the service's resolver.
 *
 * @example
 * ```ts
 * resolveLimitObject("sandbox_limits", config.sandbox_limits, resolveLimitConfig);
 * ```
 */
export function resolveLimitObject<T extends object>(
  option: string,
  values: Record<string, number>,
  resolve: (partial: Partial<T>) => T,
): T {
  const known = new Set(Object.keys(resolve({})));
  const partial: Record<string, number> = {};
  for (const [key, value] of Object.entries(values)) {
    if (!known.has(camel(key))) {
      throw new VltairError("config_invalid", `${option}.${key}: is not a known limit`, {
        details: { field: `${option}.${key}`, source: "config", reason: "unknown key" },
      });
    }
    partial[camel(key)] = value;
  }
  try {
    return resolve(partial as Partial<T>);
  } catch (error) {
    if (!(error instanceof VltairError)) throw error;
    const raw = String(error.details.field ?? "");
    const key = raw.slice(raw.lastIndexOf(".") + 1);
    const field = key === "" ? option : `${option}.${snake(key)}`;
    throw new VltairError("config_invalid", `${field}: ${error.message}`, {
      details: { ...error.details, field, source: "config" },
      cause: error,
    });
  }
}
