/**
 * The bottom layer: typed errors and the assertion every other folder uses.
 *
 * @example
 * ```ts
 * import { VltairError, assert } from "../core/mod.ts";
 * ```
 */
export { AssertionError, assert } from "./assert.ts";
export type { Call, Principal, Role } from "./call.ts";
export { authorize, hasRole, localCall, ROLES } from "./call.ts";
export type { ErrorCode, ErrorDetails, VltairErrorOptions } from "./errors.ts";
export { ERROR_CODES, ERROR_STATUS, isErrorCode, statusOf, VltairError } from "./errors.ts";
export type { LimitRelation, LimitSpec } from "./limits.ts";
export { LimitTable } from "./limits.ts";
export type { Steps, YieldingOptions } from "./steps.ts";
export { runSteps, runStepsYielding, yieldToEventLoop } from "./steps.ts";
export { hasLoneSurrogate } from "./unicode.ts";
