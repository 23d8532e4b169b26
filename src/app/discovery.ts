/**
 * `DATA_DIR/server.json`: how CLI commands find the server that holds a data directory's lock
 * (its URL), so `vltair snapshot` can ask it instead of opening the directory. Written when the
 * server listens, removed when it stops; a stale file (crash) is harmless: its URL refuses.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as v from "valibot";

export const SERVER_INFO_FILE = "server.json";

const ServerInfoSchema = v.object({
  url: v.pipe(v.string(), v.url()),
  pid: v.number(),
  version: v.string(),
});
export type ServerInfo = v.InferOutput<typeof ServerInfoSchema>;

/** Writes the file atomically (temp + rename), mode 0600. */
export function writeServerInfo(dataDir: string, info: ServerInfo): void {
  const file = path.join(dataDir, SERVER_INFO_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(info)}\n`, { mode: 0o600 });
  fs.renameSync(temp, file);
}

/** The server of a data directory, or null when there is no (valid) file. */
export function readServerInfo(dataDir: string): ServerInfo | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dataDir, SERVER_INFO_FILE), "utf8");
  } catch {
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = v.safeParse(ServerInfoSchema, json);
  return parsed.success ? parsed.output : null;
}

/** Removes the file if it is this process's. */
export function removeServerInfo(dataDir: string): void {
  if (readServerInfo(dataDir)?.pid === process.pid)
    fs.rmSync(path.join(dataDir, SERVER_INFO_FILE), { force: true });
}
