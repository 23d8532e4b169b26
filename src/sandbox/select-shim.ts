/** Picks the shim of the running OS (the one place, with the shims, that branches on the OS). */
import { darwinShim } from "./darwin.ts";
import { linuxShim } from "./linux/mod.ts";
import { portableShim } from "./portable.ts";
import type { SandboxShim } from "./shim.ts";
import { windowsShim } from "./windows.ts";

/** The shim for `platform` (a `process.platform` value). */
export function selectShim(platform: string): SandboxShim {
  if (platform === "linux") return linuxShim;
  if (platform === "darwin") return darwinShim;
  if (platform === "win32") return windowsShim;
  return portableShim;
}
