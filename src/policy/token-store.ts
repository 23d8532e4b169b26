/**
 * API tokens: an append-only JSON-lines file `DATA_DIR/tokens.jsonl` folded into a map, the
 * same log-and-fold shape as the WAL. Only a token's SHA-256 is stored. The CLI and the server
 * may both append (one `write` of one line per change, O_APPEND, fsynced); the server notices
 * new lines by the file's size and inode before resolving a token, so a revocation made with
 * `vltair token revoke` takes effect on the next request.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import * as v from "valibot";
import { assert, VltairError } from "../core/mod.ts";
import { type Principal, type Role, RoleSchema, SubjectSchema, TenantSchema } from "./roles.ts";

const TokenIdSchema = v.pipe(
  v.string(),
  v.regex(/^tok_[0-9a-f]{16}$/, "must look like tok_<16 hex>"),
);

const CreateRecord = v.strictObject({
  op: v.literal("create"),
  id: TokenIdSchema,
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  subject: SubjectSchema,
  tenant: TenantSchema,
  roles: v.pipe(v.array(RoleSchema), v.minLength(1)),
  created_at: v.pipe(v.string(), v.isoTimestamp()),
});
const RevokeRecord = v.strictObject({
  op: v.literal("revoke"),
  id: TokenIdSchema,
  revoked_at: v.pipe(v.string(), v.isoTimestamp()),
});
const TokenRecord = v.variant("op", [CreateRecord, RevokeRecord]);
type TokenRecord = v.InferOutput<typeof TokenRecord>;

/** What `list` shows of a token: never the token or its hash. */
export interface TokenInfo {
  id: string;
  subject: string;
  tenant: string;
  roles: Role[];
  created_at: string;
  revoked_at: string | null;
}

interface Entry extends TokenInfo {
  hash: Buffer;
}

/** Options of {@link TokenStore}. */
export interface TokenStoreOptions {
  /** Injected clock (ms since epoch). */
  nowMs: () => number;
  /** Most active tokens; creating one more is `rate_limited`. */
  tokensMax: number;
}

/** Bytes of the tokens file read at once; the file is re-read from its last known end. */
const LINE_BYTES_MAX = 4096;

/** Prefix of every issued token, so secret scanners and the log redactor recognise it. */
export const TOKEN_PREFIX = "vlt_";

/** SHA-256 of a presented token, as stored. */
export function hashToken(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * The token store of one data directory.
 *
 * @example
 * ```ts
 * const store = new TokenStore(`${dir}/tokens.jsonl`, { nowMs: Date.now, tokensMax: 10_000 });
 * const { token } = store.create({ subject: "ci", tenant: "acme", roles: ["reader"] });
 * store.resolve(token); // { subject: "ci", tenant: "acme", roles: ["reader"], tokenId: "tok_…" }
 * ```
 */
export class TokenStore {
  readonly #path: string;
  readonly #options: TokenStoreOptions;
  readonly #byId = new Map<string, Entry>();
  readonly #byHash = new Map<string, Entry>();
  #offsetBytes = 0;
  #inode = -1;
  #corrupt: string | null = null;

  constructor(path: string, options: TokenStoreOptions) {
    this.#path = path;
    this.#options = options;
    this.refresh();
  }

  /** Folds lines appended since the last call (by anyone) into the map. */
  refresh(): void {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.#path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    if (stat.ino !== this.#inode || stat.size < this.#offsetBytes) this.#reset(stat.ino);
    if (stat.size === this.#offsetBytes) return;
    const bytes = readRange(this.#path, this.#offsetBytes, stat.size);
    const end = bytes.lastIndexOf(0x0a);
    if (end < 0) return;
    for (const line of bytes.subarray(0, end).toString("utf8").split("\n")) this.#fold(line);
    this.#offsetBytes += end + 1;
  }

  /** Resolves a presented token to its principal, or null when it is unknown or revoked. */
  resolve(token: string): Principal | null {
    this.refresh();
    if (this.#corrupt !== null) return null;
    const hash = hashToken(token);
    const entry = this.#byHash.get(hash.toString("hex"));
    // The map is keyed by a SHA-256 digest, so lookup timing reveals nothing usable about the
    // token; the final comparison is constant-time regardless.
    if (entry === undefined || !timingSafeEqual(entry.hash, hash)) return null;
    if (entry.revoked_at !== null) return null;
    return { subject: entry.subject, tenant: entry.tenant, roles: entry.roles, tokenId: entry.id };
  }

  /** Creates a token; the plaintext is returned once and never stored. */
  create(input: { subject: string; tenant: string; roles: Role[] }): {
    token: string;
    info: TokenInfo;
  } {
    this.refresh();
    this.#assertUsable();
    if (this.list().filter((t) => t.revoked_at === null).length >= this.#options.tokensMax) {
      throw new VltairError("rate_limited", `at most ${this.#options.tokensMax} active tokens`, {
        details: { tokens_max: this.#options.tokensMax },
      });
    }
    const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
    const record: TokenRecord = {
      op: "create",
      id: `tok_${randomBytes(8).toString("hex")}`,
      sha256: hashToken(token).toString("hex"),
      subject: input.subject,
      tenant: input.tenant,
      roles: [...new Set(input.roles)],
      created_at: new Date(this.#options.nowMs()).toISOString(),
    };
    this.#append(record);
    const entry = this.#byId.get(record.id);
    assert(entry !== undefined, "a created token is in the map after its append");
    return { token, info: publicInfo(entry) };
  }

  /** Revokes a token of `tenant` (null: any tenant); false when there is none to revoke. */
  revoke(id: string, tenant: string | null): boolean {
    this.refresh();
    this.#assertUsable();
    const entry = this.#byId.get(id);
    if (entry === undefined || entry.revoked_at !== null) return false;
    if (tenant !== null && entry.tenant !== tenant) return false;
    this.#append({ op: "revoke", id, revoked_at: new Date(this.#options.nowMs()).toISOString() });
    return true;
  }

  /** Every token (active and revoked), oldest first. */
  list(): TokenInfo[] {
    return [...this.#byId.values()].map(publicInfo);
  }

  #append(record: TokenRecord): void {
    const line = Buffer.from(`${JSON.stringify(record)}\n`, "utf8");
    assert(line.length <= LINE_BYTES_MAX, "a token record fits in one atomic append");
    const fd = fs.openSync(this.#path, "a", 0o600);
    try {
      // Bytes past the last newline are a line torn by a crash (each append is one write of a
      // whole line), never acknowledged: drop them so the new line does not fuse with them.
      if (fs.fstatSync(fd).size > this.#offsetBytes) fs.ftruncateSync(fd, this.#offsetBytes);
      fs.writeSync(fd, line);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    this.refresh();
  }

  #fold(line: string): void {
    if (line.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      json = undefined;
    }
    const parsed = v.safeParse(TokenRecord, json);
    if (!parsed.success) {
      // A damaged line might be a revocation: refuse every stored token rather than fail open.
      this.#corrupt = `${this.#path}: unreadable record after byte ${this.#offsetBytes}`;
      return;
    }
    const record = parsed.output;
    if (record.op === "create") {
      const entry: Entry = { ...record, revoked_at: null, hash: Buffer.from(record.sha256, "hex") };
      this.#byId.set(record.id, entry);
      this.#byHash.set(record.sha256, entry);
    } else {
      const entry = this.#byId.get(record.id);
      if (entry !== undefined) entry.revoked_at = record.revoked_at;
    }
  }

  #reset(inode: number): void {
    this.#byId.clear();
    this.#byHash.clear();
    this.#offsetBytes = 0;
    this.#inode = inode;
    this.#corrupt = null;
  }

  #assertUsable(): void {
    if (this.#corrupt !== null) {
      throw new VltairError("unavailable", `token store is damaged: ${this.#corrupt}`);
    }
  }

  /** Null when every line parsed; else what is wrong (stored tokens are then refused). */
  get corruption(): string | null {
    return this.#corrupt;
  }
}

function publicInfo(entry: Entry): TokenInfo {
  const { id, subject, tenant, roles, created_at, revoked_at } = entry;
  return { id, subject, tenant, roles: [...roles], created_at, revoked_at };
}

function readRange(path: string, fromBytes: number, toBytes: number): Buffer {
  const fd = fs.openSync(path, "r");
  try {
    const buffer = Buffer.alloc(toBytes - fromBytes);
    let done = 0;
    while (done < buffer.length) {
      const n = fs.readSync(fd, buffer, done, buffer.length - done, fromBytes + done);
      if (n === 0) break;
      done += n;
    }
    return buffer.subarray(0, done);
  } finally {
    fs.closeSync(fd);
  }
}
