/** A vltair server for benchmarks: a child process on loopback, awaited until it has recovered. */
import { spawn } from "node:child_process";
import * as path from "node:path";
import process from "node:process";

const ROOT = path.resolve(import.meta.dirname, "..");

/** A running server: its URL and pid, and how to stop it (SIGTERM, awaited). */
export interface BenchServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `vltair serve --port 0 --data-dir DIR` with `token` as the admin token and resolves once
 * it logged `server.ready` (recovery done, not only the bind); its later output is drained.
 */
export async function startVltair(dataDir: string, token: string): Promise<BenchServer> {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, "src/main.ts"), "serve", "--port", "0", "--data-dir", dataDir],
    {
      cwd: ROOT,
      env: { ...process.env, VLTAIR_ADMIN_TOKEN: token },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  let url = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("vltair did not get ready"));
    }, 60_000);
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const listening = out.split("\n").find((l) => l.includes('"server.listening"'));
      if (listening !== undefined && url === "")
        url = (JSON.parse(listening) as { url: string }).url;
      if (out.includes('"server.ready"')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  // Drop what it logs from now on (one access line per request), without blocking it.
  child.stdout.removeAllListeners("data");
  child.stdout.resume();
  return {
    url,
    pid: child.pid as number,
    stop: () =>
      new Promise((done) => {
        child.once("close", () => done());
        child.kill("SIGTERM");
      }),
  };
}
