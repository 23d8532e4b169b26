/**
 * Bootstrap of the admin token of tenant `default` (API.md, "Auth bootstrap"):
 * `VLTAIR_ADMIN_TOKEN` when set; otherwise `DATA_DIR/admin.token`, created once with mode 0600.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { VltairError } from "../core/mod.ts";
import { addSecret } from "../obs/mod.ts";
import { hasPosixFileModes } from "../platform/mod.ts";
import { TOKEN_PREFIX } from "./token-service.ts";

/** Where the admin token came from; `path` is set for the file. */
export interface AdminToken {
  token: string;
  source: "env" | "file";
  path: string | null;
  /** True when the file had looser permissions than 0600 and was tightened. */
  modeFixed: boolean;
  created: boolean;
}

/** File name of the bootstrap token inside the data directory. */
export const ADMIN_TOKEN_FILE = "admin.token";

/**
 * Returns the admin token, creating `DATA_DIR/admin.token` (mode 0600) when neither the
 * environment nor the file has one.
 *
 * @example
 * ```ts
 * const admin = ensureAdminToken({ envToken: config.admin_token, dataDir: config.data_dir });
 * ```
 */
export function ensureAdminToken(options: {
  envToken: string | null;
  dataDir: string;
}): AdminToken {
  if (options.envToken !== null) {
    return { token: options.envToken, source: "env", path: null, modeFixed: false, created: false };
  }
  const file = path.join(options.dataDir, ADMIN_TOKEN_FILE);
  const created = createOnce(file);
  let modeFixed = false;
  if (hasPosixFileModes() && (fs.statSync(file).mode & 0o077) !== 0) {
    fs.chmodSync(file, 0o600);
    modeFixed = true;
  }
  const token = fs.readFileSync(file, "utf8").trim();
  // A file written by hand may hold any shape of token: the redactor masks this very value.
  addSecret(token);
  if (token.length < 16 || /\s/.test(token)) {
    throw new VltairError("config_invalid", `${file}: the admin token must be 16+ characters`, {
      details: { field: "admin_token", source: file },
    });
  }
  return { token, source: "file", path: file, modeFixed, created };
}

function createOnce(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    fs.writeSync(fd, `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}
