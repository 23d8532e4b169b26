/**
 * The composition root (ARCHITECTURE.md, "Layers"): configuration in, storage with its
 * machines and hooks, services and their settings out. Used by `serve`, the CLI's in-process
 * path and the offline tools; nothing below it imports it.
 *
 * @example
 * ```ts
 * import { createApp, systemClocks } from "../app/mod.ts";
 * const app = createApp(config, { log, clocks: systemClocks });
 * await app.start();
 * ```
 */
export type { App, Clocks, MachineHandles, RegisteredMachines } from "./app.ts";
export {
  createApp,
  importLegacyTokens,
  registerMachines,
  systemClocks,
  TOKENS_FILE,
} from "./app.ts";
export { contextSettings, createContextService, embedderOfIdentity } from "./context.ts";
export { readServerInfo, removeServerInfo, writeServerInfo } from "./discovery.ts";
export { createSandboxService, sandboxLimits } from "./sandbox.ts";
export { openStorage, storageLog, storageSettings } from "./storage.ts";
