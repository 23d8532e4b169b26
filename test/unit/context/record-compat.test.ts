/**
 * The `context` machine's records: written as blob bodies (texts and vectors as raw bytes), and
 * records of older data directories (JSON, vectors in base64) still fold to the same state.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Buffer } from "node:buffer";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  ContextService,
  createContextMachine,
  resolveContextLimits,
} from "../../../src/context/mod.ts";
import { encodeVector } from "../../../src/context/store/record.ts";
import type { ContextState } from "../../../src/context/store/state.ts";
import { createStorage, dumpWal, openDataDir, type Storage } from "../../../src/storage/mod.ts";
import { callAs } from "../../support/call.ts";
import { tempDir } from "../../support/tmp.ts";

const open: Storage[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

const TEXT = `export function parseConfig(path: string) {\n  return JSON.parse("${"x".repeat(200)}");\n}`;
const VECTOR = Float32Array.from([0.25, -1, 3.5, 0]);

async function openContext(dir: string, encoding: "json" | "blobs") {
  const storage = createStorage(openDataDir(dir), { fsync: "none", nowMs: () => 1_000 });
  open.push(storage);
  const handle = storage.register({ ...createContextMachine(), bodyEncoding: encoding });
  await storage.recover();
  const context = new ContextService({
    machine: handle,
    storage,
    embedder: null,
    limits: resolveContextLimits(),
    tokenizer: "code",
  });
  return { storage, context, state: () => storage.stateOf("context") as ContextState };
}

function view(state: ContextState) {
  const t = state.tenant("t");
  return {
    docs: [...(t?.docs.values() ?? [])].map(({ past: _p, ...d }) => d),
    text: t?.text.search("parseconfig", 5),
    dense: Array.from(t?.vectorIndex()?.search(VECTOR, 1).keys ?? []),
  };
}

describe("context records", () => {
  test("an upsert is one blob body; the fold from disk equals the live state", async () => {
    const dir = tempDir("vltair-ctx-records-");
    const live = await openContext(dir, "blobs");
    await live.context.upsert(callAs("t"), {
      items: [{ id: "a", scope: { kind: "global" }, text: TEXT, vector: Array.from(VECTOR) }],
    });
    const before = view(live.state());
    await live.storage.close();
    const [record] = dumpWal(dir).records.filter((r) => r.machine === "context");
    expect(record?.body).toMatchObject({
      op: "upsert",
      items: [{ text: TEXT, vector: Array.from(VECTOR) }],
    });
    const again = await openContext(dir, "blobs");
    expect(view(again.state())).toEqual(before);
    expect(before.dense).toHaveLength(1);
  });

  test("JSON records with base64 vectors (before format 2) fold to the same state", async () => {
    const oldDir = tempDir("vltair-ctx-records-old-");
    const old = await openContext(oldDir, "json");
    const body = {
      op: "upsert",
      tenant: "t",
      tokenizer: "code",
      items: [
        { id: "a", scope: { kind: "global" }, text: TEXT, vector: encodeVector(VECTOR), hash: "h" },
      ],
    };
    await old.storage.append([{ machine: "context", body }]);
    await old.storage.close();
    const newDir = tempDir("vltair-ctx-records-new-");
    const fresh = await openContext(newDir, "blobs");
    await fresh.storage.append([
      { machine: "context", body: { ...body, items: [{ ...body.items[0], vector: VECTOR }] } },
    ]);
    await fresh.storage.close();
    const walBodies = (dir: string) => dumpWal(dir).records.filter((r) => r.machine === "context");
    expect(walBodies(oldDir)[0]?.body).toMatchObject({ items: [{ vector: encodeVector(VECTOR) }] });
    const reopenedOld = await openContext(oldDir, "blobs");
    const reopenedNew = await openContext(newDir, "blobs");
    expect(view(reopenedOld.state())).toEqual(view(reopenedNew.state()));
    expect(view(reopenedOld.state()).dense).toHaveLength(1);
  });

  test("the machine writes blob bodies: the text is in the log verbatim, not JSON-quoted", async () => {
    expect(createContextMachine().bodyEncoding).toBe("blobs");
    const dir = tempDir("vltair-ctx-records-raw-");
    const live = await openContext(dir, "blobs");
    await live.context.upsert(callAs("t"), {
      items: [{ id: "a", scope: { kind: "global" }, text: TEXT }],
    });
    await live.storage.close();
    const walDir = path.join(dir, "wal");
    const log = Buffer.concat(
      fs.readdirSync(walDir).map((f) => fs.readFileSync(path.join(walDir, f))),
    );
    expect(log.includes(Buffer.from(TEXT))).toBe(true);
    expect(log.includes(Buffer.from(JSON.stringify(TEXT)))).toBe(false);
  });
});
