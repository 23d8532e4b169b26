/** Which JavaScript runtime runs this process. Only `src/platform/` may ask. */

export type RuntimeName = "bun" | "deno" | "node";

/** Minimal shape of the Deno global used here, so no Deno type package is needed. */
export interface DenoGlobal {
  version: { deno: string };
  serve(options: {
    hostname: string;
    port: number;
    signal?: AbortSignal;
    onListen?: (addr: { hostname: string; port: number }) => void;
    handler: (request: Request) => Response | Promise<Response>;
  }): {
    addr: { hostname: string; port: number };
    shutdown(): Promise<void>;
    finished: Promise<void>;
  };
  addSignalListener(signal: string, handler: () => void): void;
  build: { os: string };
}

/** The Deno global when running on Deno. */
export function denoGlobal(): DenoGlobal | null {
  return ((globalThis as { Deno?: DenoGlobal }).Deno ?? null) as DenoGlobal | null;
}

/** The runtime of this process. */
export function runtimeName(): RuntimeName {
  if (typeof (globalThis as { Bun?: unknown }).Bun !== "undefined") return "bun";
  if (denoGlobal() !== null) return "deno";
  return "node";
}

/** `name version` of the runtime, for `vltair version` and the health log line. */
export function runtimeVersion(): string {
  const name = runtimeName();
  if (name === "bun")
    return `bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`;
  if (name === "deno") return `deno ${denoGlobal()?.version.deno ?? "unknown"}`;
  return `node ${process.versions.node}`;
}
