/**
 * Limits as one table per subsystem (TigerBeetle's `constants.zig`): each key with its default,
 * bounds, unit and the reason for its ceiling; relations between keys asserted once, when the
 * table is defined (a wrong default is a bug that stops the process at start, not a 4xx). The
 * same table resolves the configured values (one error shape for every subsystem:
 * `config_invalid` naming `<option>.<snake_key>` and the range) and feeds docs/configuration.md
 * (a test checks the rows).
 */
import { assert } from "./assert.ts";
import { VltairError } from "./errors.ts";

/** One limit. */
export interface LimitSpec {
  default: number;
  min: number;
  max: number;
  /** `bytes`, `ms`, `items`, … — shown in messages and docs. */
  unit: string;
  /** Why the ceiling is where it is (one sentence). */
  reason: string;
}

/** A relation between limits that every resolved set must satisfy. */
export interface LimitRelation<K extends string> {
  holds(values: Readonly<Record<K, number>>): boolean;
  /** What must hold, in words, naming the keys in snake_case. */
  message: string;
  /** The key a violation is reported on. */
  key: K;
}

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * A subsystem's limits.
 *
 * @example
 * ```ts
 * const LIMITS = new LimitTable("context_limits", {
 *   kMax: { default: 1000, min: 1, max: 10_000, unit: "results", reason: "bounds one answer" },
 * });
 * LIMITS.resolve({ kMax: 50 }); // { kMax: 50 }
 * ```
 */
export class LimitTable<K extends string> {
  readonly option: string;
  readonly specs: Readonly<Record<K, LimitSpec>>;
  readonly relations: readonly LimitRelation<K>[];

  constructor(option: string, specs: Record<K, LimitSpec>, relations: LimitRelation<K>[] = []) {
    this.option = option;
    this.specs = specs;
    this.relations = relations;
    for (const key of this.keys()) {
      const s = specs[key];
      assert(Number.isSafeInteger(s.min) && Number.isSafeInteger(s.max), `${key}: integer bounds`);
      assert(s.min <= s.default && s.default <= s.max, `${option}.${key}: default within bounds`);
      assert(Number.isSafeInteger(s.default), `${option}.${key}: integer default`);
    }
    const defaults = this.defaults();
    for (const r of relations)
      assert(r.holds(defaults), `${option}: defaults satisfy ${r.message}`);
  }

  /** The keys, in table order. */
  keys(): K[] {
    return Object.keys(this.specs) as K[];
  }

  /** Every default. */
  defaults(): Record<K, number> {
    const out = {} as Record<K, number>;
    for (const key of this.keys()) out[key] = this.specs[key].default;
    return out;
  }

  /** The wire name of `key`: `<option>.<snake_key>`. */
  field(key: K): string {
    return `${this.option}.${snake(key)}`;
  }

  /**
   * Defaults filled in and every value checked against its bounds and the relations; throws
   * `config_invalid` naming `<option>.<snake_key>`, the range and the unit.
   */
  resolve(partial: Partial<Record<K, number>> = {}): Record<K, number> {
    const out = this.defaults();
    for (const key of this.keys()) {
      const value = partial[key];
      if (value === undefined) continue;
      const { min, max, unit } = this.specs[key];
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
        const field = this.field(key);
        throw new VltairError(
          "config_invalid",
          `${field}: must be an integer in [${min}, ${max}] (${unit}), got ${JSON.stringify(value)}`,
          { details: { field, value, min, max, unit } },
        );
      }
      out[key] = value;
    }
    for (const r of this.relations) {
      if (!r.holds(out)) {
        const field = this.field(r.key);
        throw new VltairError("config_invalid", `${field}: ${r.message}`, {
          details: { field, value: out[r.key] },
        });
      }
    }
    return out;
  }

  /** {@link LimitTable.resolve} of a snake_case object (the config's form); unknown keys refused. */
  resolveSnake(values: Readonly<Record<string, unknown>>): Record<K, number> {
    const partial: Partial<Record<K, number>> = {};
    for (const [key, value] of Object.entries(values)) {
      const name = camel(key) as K;
      if (!(name in this.specs)) {
        const field = `${this.option}.${key}`;
        throw new VltairError("config_invalid", `${field}: is not a known limit`, {
          details: { field, reason: "unknown key" },
        });
      }
      partial[name] = value as number;
    }
    return this.resolve(partial);
  }
}
