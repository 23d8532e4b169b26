/** Shutdown signals (SIGTERM, SIGINT) on every runtime and OS. */
import process from "node:process";
import { denoGlobal, runtimeName } from "./runtime.ts";

/** The signals that ask the server to stop. */
export type ShutdownSignal = "SIGTERM" | "SIGINT";

/**
 * Calls `handler` once per SIGTERM or SIGINT. On Windows only SIGINT exists (Ctrl+C).
 *
 * @example
 * ```ts
 * onShutdownSignal((signal) => shutdown(signal));
 * ```
 */
export function onShutdownSignal(handler: (signal: ShutdownSignal) => void): void {
  const deno = denoGlobal();
  const signals: ShutdownSignal[] =
    process.platform === "win32" ? ["SIGINT"] : ["SIGTERM", "SIGINT"];
  for (const signal of signals) {
    if (runtimeName() === "deno" && deno !== null) {
      deno.addSignalListener(signal, () => handler(signal));
    } else {
      process.on(signal, () => handler(signal));
    }
  }
}
