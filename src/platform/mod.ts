/**
 * The only runtime- and OS-specific code: serving HTTP, signals, runtime facts.
 *
 * @example
 * ```ts
 * import { serve, onShutdownSignal } from "../platform/mod.ts";
 * ```
 */
export { collectGarbage } from "./gc.ts";
export { mapFileForReading } from "./map-file.ts";
export { hasPosixFileModes, hasPosixSignals } from "./os.ts";
export type { DenoGlobal, RuntimeName } from "./runtime.ts";
export { runtimeName, runtimeVersion } from "./runtime.ts";
export type { ScriptWorker } from "./script-worker.ts";
export { SCRIPT_WORKER_PRELUDE, startScriptWorker } from "./script-worker.ts";
export type { FetchHandler, RunningServer, ServeOptions } from "./serve.ts";
export { serve } from "./serve.ts";
export type { Sha256 } from "./sha256.ts";
export { createSha256 } from "./sha256.ts";
export type { ShutdownSignal } from "./signals.ts";
export { onShutdownSignal } from "./signals.ts";
