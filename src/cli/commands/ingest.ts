/**
 * `vltair ingest PATH…`: walks each PATH (`.gitignore`, globs, no binaries), chunks every file
 * by lines (src/context/ingest) and upserts the chunks in batches, through the running server
 * or into the data directory itself. Unchanged chunks come back `skipped` (the content hash), so
 * re-ingesting an unchanged tree writes nothing. A changed file that now has fewer chunks has
 * its surplus chunk ids deleted (batch deletes); with `--prune`, documents under each PATH that
 * this run did not produce (files deleted, renamed, ignored) are deleted too (docs/cli-ingest.md).
 */
import { Buffer } from "node:buffer";
import process from "node:process";
import {
  chunkDocId,
  fileItems,
  type IngestItem,
  type Scope,
  WALK_OPTIONS_DEFAULT,
} from "../../context/mod.ts";
import { VltairError } from "../../core/mod.ts";
import { cliConfig, parseFlags, UsageError } from "../args.ts";
import { type ContextClient, openContextClient } from "../context-client.ts";
import { contextCommandOptions, intFlag, scopeFlag } from "../context-flags.ts";
import { deleteIds } from "../ingest-deletes.ts";
import { staleIds } from "../ingest-prune.ts";
import {
  listSources,
  readSource,
  type SkipReason,
  type SourceFile,
  type SourceRoot,
} from "../ingest-sources.ts";
import { type CliIo, EXIT_OK } from "../io.ts";
import { ProgressBar } from "../progress.ts";

/** Items per upsert unless `--batch` says otherwise. */
export const BATCH_ITEMS_DEFAULT = 256;
/** Most items `--batch` accepts (a server's own `batch_items_max` may be lower: batches then split). */
export const BATCH_ITEMS_MAX = 10_000;
/** Most bytes of items (as JSON) in one upsert: under the 4 MiB WAL record and 16 MiB body defaults with room for vectors. */
export const BATCH_BYTES_MAX = 2 * 1024 * 1024;
/** Most PATH arguments. */
const PATHS_MAX = 4096;
/** Surplus chunk ids probed per changed file in the first delete round; each further round doubles it. */
export const SURPLUS_PROBE_FIRST = 8;
/** Most surplus ids probed per file in one round. */
const SURPLUS_PROBE_MAX = 1024;

/** The summary `--json` prints. */
export interface IngestSummary {
  files: number;
  chunks: number;
  inserted: number;
  updated: number;
  skipped: number;
  /** Surplus chunks of files that shrank. */
  deleted: number;
  /** Documents `--prune` deleted; null without `--prune`. */
  pruned: number | null;
  skipped_files: number;
  skipped_by_reason: Record<SkipReason, number>;
  duration_ms: number;
  chunks_per_s: number;
  /** WAL index of the last upsert; null when nothing was sent. */
  wal_index: number | null;
  via: "server" | "data_dir";
}

interface FileState {
  docPath: string;
  chunks: number;
  acked: number;
  changed: boolean;
}

interface Batch {
  items: IngestItem[];
  owners: FileState[];
  bytes: number;
}

/** Sends batches, tracks each file's outcome and deletes surplus chunks of changed files. */
class Ingester {
  readonly summary: IngestSummary;
  readonly #client: ContextClient;
  readonly #scope: Scope;
  readonly #batchItems: number;
  readonly #batchBytes: number;
  #batch: Batch = { items: [], owners: [], bytes: 0 };
  #done: FileState[] = [];
  /** Ids of every chunk this run wrote or found unchanged (what `--prune` keeps). */
  readonly produced = new Set<string>();

  constructor(client: ContextClient, scope: Scope, batchItems: number, batchBytes: number) {
    this.#client = client;
    this.#scope = scope;
    this.#batchItems = Math.min(batchItems, client.batchItemsMax ?? batchItems);
    this.#batchBytes = batchBytes;
    this.summary = {
      files: 0,
      chunks: 0,
      inserted: 0,
      updated: 0,
      skipped: 0,
      deleted: 0,
      pruned: null,
      skipped_files: 0,
      skipped_by_reason: { binary: 0, too_large: 0, unreadable: 0 },
      duration_ms: 0,
      chunks_per_s: 0,
      wal_index: null,
      via: client.via,
    };
  }

  skip(reason: SkipReason): void {
    this.summary.skipped_files += 1;
    this.summary.skipped_by_reason[reason] += 1;
  }

  /** Queues one file's chunks, sending full batches. */
  async add(docPath: string, text: string): Promise<void> {
    const items = fileItems(docPath, text, this.#scope);
    const state: FileState = { docPath, chunks: items.length, acked: 0, changed: false };
    this.summary.files += 1;
    this.summary.chunks += items.length;
    // An empty file may have had chunks before: always look for them.
    if (items.length === 0) this.#done.push({ ...state, changed: true });
    for (const item of items) {
      this.produced.add(item.id);
      const bytes = Buffer.byteLength(JSON.stringify(item));
      if (this.#batch.items.length > 0 && this.#batch.bytes + bytes > this.#batchBytes)
        await this.flush();
      this.#batch.items.push(item);
      this.#batch.owners.push(state);
      this.#batch.bytes += bytes;
      if (this.#batch.items.length >= this.#batchItems) await this.flush();
    }
  }

  /** Sends the queued items, then deletes surplus chunks of the files that completed. */
  async flush(): Promise<void> {
    const batch = this.#batch;
    this.#batch = { items: [], owners: [], bytes: 0 };
    if (batch.items.length > 0) await this.#send(batch.items, batch.owners);
    const done = this.#done;
    this.#done = [];
    await this.#deleteSurplus(done.filter((file) => file.changed));
  }

  async #send(items: IngestItem[], owners: FileState[]): Promise<void> {
    let response: Awaited<ReturnType<ContextClient["upsert"]>>;
    try {
      response = await this.#client.upsert({ items });
    } catch (error) {
      // A server with a lower batch or body limit: halve until it fits.
      if (!(error instanceof VltairError) || error.code !== "payload_too_large" || items.length < 2)
        throw error;
      const half = Math.ceil(items.length / 2);
      await this.#send(items.slice(0, half), owners.slice(0, half));
      await this.#send(items.slice(half), owners.slice(half));
      return;
    }
    this.summary.inserted += response.inserted;
    this.summary.updated += response.updated;
    this.summary.skipped += response.skipped;
    this.summary.wal_index = Math.max(this.summary.wal_index ?? 0, response.wal_index);
    response.items.forEach((result, i) => {
      const owner = owners[i] as FileState;
      owner.acked += 1;
      if (result.status !== "skipped") owner.changed = true;
      if (owner.acked === owner.chunks) this.#done.push(owner);
    });
  }

  /**
   * Deletes `<path>#<chunks+1>`, `#<chunks+2>`, … of each file: a round sends a window of ids
   * per file (8, then 16, …) in batch deletes; a file whose window was all deleted goes on to
   * the next window, the others are done. So the usual case (a file lost a few chunks, or none)
   * costs one delete request per flush, not one per file.
   */
  async #deleteSurplus(files: readonly FileState[]): Promise<void> {
    let pending = files.map((file) => ({ docPath: file.docPath, next: file.chunks + 1 }));
    for (let window = SURPLUS_PROBE_FIRST; pending.length > 0; ) {
      const ids = pending.map((p) =>
        Array.from({ length: window }, (_, i) => chunkDocId(p.docPath, p.next + i)),
      );
      const outcome = await deleteIds(this.#client, this.#scope, ids.flat());
      this.#noteDeletes(outcome.walIndex);
      this.summary.deleted += outcome.deleted;
      pending = pending.filter((p, i) => {
        p.next += window;
        return !(ids[i] as string[]).some((id) => outcome.missing.has(id));
      });
      window = Math.min(window * 2, SURPLUS_PROBE_MAX);
    }
  }

  /** Deletes the documents under `roots` that this run did not produce; returns how many. */
  async prune(roots: readonly SourceRoot[], include: readonly string[]): Promise<number> {
    const stale = await staleIds(this.#client, this.#scope, roots, include, this.produced);
    const outcome = await deleteIds(this.#client, this.#scope, stale);
    this.#noteDeletes(outcome.walIndex);
    this.summary.pruned = outcome.deleted;
    return outcome.deleted;
  }

  #noteDeletes(walIndex: number | null): void {
    if (walIndex !== null) this.summary.wal_index = Math.max(this.summary.wal_index ?? 0, walIndex);
  }
}

function summaryText(s: IngestSummary): string {
  const reasons = Object.entries(s.skipped_by_reason)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${n} ${reason.replace("_", " ")}`);
  const skippedFiles =
    s.skipped_files === 0 ? "" : ` (${s.skipped_files} skipped: ${reasons.join(", ")})`;
  const wal = s.wal_index === null ? "" : `, wal index ${s.wal_index}`;
  const pruned = s.pruned === null ? "" : `, ${s.pruned} pruned`;
  return `ingested ${s.files} files${skippedFiles}: ${s.chunks} chunks, ${s.inserted} inserted, ${s.updated} updated, ${s.skipped} unchanged, ${s.deleted} stale deleted${pruned} in ${(s.duration_ms / 1000).toFixed(1)} s (${s.chunks_per_s} chunks/s${wal}, via ${s.via})\n`;
}

export async function ingestCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      ...contextCommandOptions(),
      include: { type: "string", multiple: true },
      exclude: { type: "string", multiple: true },
      batch: { type: "string" },
      prune: { type: "boolean" },
    },
    PATHS_MAX,
  );
  if (positionals.length === 0) throw new UsageError("PATH", "at least one PATH is required");
  const scope = scopeFlag(values.scope) ?? { kind: "global" };
  const batchItems = intFlag("--batch", values.batch, {
    min: 1,
    max: BATCH_ITEMS_MAX,
    fallback: BATCH_ITEMS_DEFAULT,
  });
  const { config, origins } = cliConfig(values, io);
  const startedMs = io.clocks.monotonicMs();
  const include = (values.include as string[] | undefined) ?? [];
  const walk = {
    ...WALK_OPTIONS_DEFAULT,
    include,
    exclude: (values.exclude as string[] | undefined) ?? [],
  };
  const sources = listSources(positionals, { cwd: process.cwd(), walk, dataDir: config.data_dir });
  const client = await openContextClient(config, io.env, {
    create: true,
    embedderFromDataDir: origins.embedder === "default",
    onWait: io.stderr,
    monotonicMs: io.clocks.monotonicMs,
    nowMs: io.clocks.nowMs,
  });
  const bar =
    (io.stderrIsTty ?? process.stderr.isTTY === true)
      ? new ProgressBar(io.stderr, io.clocks.monotonicMs)
      : null;
  let summary: IngestSummary;
  try {
    const batchBytes = Math.min(BATCH_BYTES_MAX, Math.floor(config.body_bytes_max / 2));
    const ingester = new Ingester(client, scope, batchItems, batchBytes);
    for (const skipped of sources.skipped) ingester.skip(skipped.reason);
    await ingestFiles(ingester, sources.files, (files, bytes, force) =>
      bar?.update(
        {
          files,
          filesTotal: sources.files.length,
          chunks: ingester.summary.chunks,
          bytes,
          bytesTotal: sources.bytesTotal,
          elapsedMs: io.clocks.monotonicMs() - startedMs,
        },
        force,
      ),
    );
    if (values.prune === true) await ingester.prune(sources.roots, include);
    summary = ingester.summary;
  } finally {
    bar?.finish();
    await client.close();
  }
  summary.duration_ms = Math.round(io.clocks.monotonicMs() - startedMs);
  summary.chunks_per_s =
    summary.duration_ms === 0 ? 0 : Math.round((summary.chunks * 1000) / summary.duration_ms);
  io.stdout(values.json === true ? `${JSON.stringify(summary)}\n` : summaryText(summary));
  return EXIT_OK;
}

async function ingestFiles(
  ingester: Ingester,
  files: readonly SourceFile[],
  onProgress: (files: number, bytes: number, force: boolean) => void,
): Promise<void> {
  let bytes = 0;
  let done = 0;
  for (const file of files) {
    const read = readSource(file.absolute, WALK_OPTIONS_DEFAULT.fileBytesMax);
    if ("reason" in read) ingester.skip(read.reason);
    else await ingester.add(file.docPath, read.text);
    bytes += file.sizeBytes;
    done += 1;
    onProgress(done, bytes, false);
  }
  await ingester.flush();
  onProgress(done, bytes, true);
}
