/** Bounds of a filter, each with its reason. Configurable within the ceilings. */

export interface FilterLimits {
  /** Nesting of and/or/not. 8 covers any hand-written filter; deeper ones are generated abuse. */
  depthMax: number;
  /** Conditions in one filter; each is evaluated per candidate document. */
  conditionsMax: number;
  /** Values of one `in`/`nin` list. */
  inValuesMax: number;
  /** A filter sent as a JSON string, in characters. */
  textCharsMax: number;
}

export const FILTER_LIMITS_DEFAULT: FilterLimits = {
  depthMax: 8,
  conditionsMax: 64,
  inValuesMax: 1024,
  textCharsMax: 64 * 1024,
};

/** Ceilings of the configurable limits (the config schema enforces them). */
export const FILTER_LIMITS_CEILING: FilterLimits = {
  depthMax: 32,
  conditionsMax: 1024,
  inValuesMax: 65_536,
  textCharsMax: 1024 * 1024,
};

/** Segments of a `metadata.a.b.c` path. */
export const METADATA_PATH_SEGMENTS_MAX = 16;
