/**
 * `vltair wal verify|dump|repair` and `vltair snapshot`: the operator's tools over a data
 * directory's log. `verify` and `dump` read without the lock (safe beside a running server);
 * `repair` takes the lock; `snapshot` asks the running server when one holds the lock.
 */
import * as fs from "node:fs";
import { readServerInfo, registerMachines, storageLog, storageSettings } from "../../app/mod.ts";
import type { Config } from "../../config/mod.ts";
import { VltairError } from "../../core/mod.ts";
import { createLogger, silentLogger } from "../../obs/mod.ts";
import { DUMP_LIMIT_MAX, dumpWal, repairWal, takeSnapshot, verifyWal } from "../../storage/mod.ts";
import { VERSION } from "../../version.ts";
import {
  cliConfig,
  configOptions,
  dataDirOptions,
  type Parsed,
  parseFlags,
  UsageError,
} from "../args.ts";
import { serverToken } from "../data-dir-access.ts";
import { type CliIo, EXIT_FAILURE, EXIT_OK } from "../io.ts";
import { serverRequest } from "../server-request.ts";
import { snakeKeys } from "../snake.ts";

const DIR_OPTIONS = dataDirOptions();

function config(values: Parsed["values"], io: CliIo): Config {
  return cliConfig(values, io).config;
}

function requireDataDir(dir: string): void {
  if (!fs.existsSync(dir))
    throw new VltairError("not_found", `data directory ${dir} does not exist`, {
      details: { field: "data_dir" },
    });
}

function print(io: CliIo, json: boolean, value: unknown, text: string): void {
  io.stdout(json ? `${JSON.stringify(snakeKeys(value))}\n` : text);
}

export function walVerify(argv: readonly string[], io: CliIo): number {
  const { values } = parseFlags(argv, DIR_OPTIONS, 0);
  const cfg = config(values, io);
  requireDataDir(cfg.data_dir);
  const report = verifyWal(cfg.data_dir, { limits: storageSettings(cfg).limits });
  const range = report.recordCount === 0 ? "empty" : `${report.firstIndex}..${report.lastIndex}`;
  const text = `${report.ok ? "ok" : "DAMAGED"}: ${report.recordCount} records (${range}) in ${report.segmentCount} segments, ${report.sizeBytes} bytes, ${report.snapshots.length} snapshots${report.repair === null ? "" : `\nrepair would: ${report.repair}`}\n`;
  print(io, values.json === true, report, text);
  return report.ok ? EXIT_OK : EXIT_FAILURE;
}

function nonNegative(flag: string, raw: unknown, fallback: number): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== "string" || !/^\d{1,15}$/.test(raw))
    throw new UsageError(flag, `${flag} must be a non-negative integer`);
  return Number(raw);
}

export function walDump(argv: readonly string[], io: CliIo): number {
  const { values } = parseFlags(
    argv,
    { ...DIR_OPTIONS, from: { type: "string" }, limit: { type: "string" } },
    0,
  );
  const fromIndex = nonNegative("--from", values.from, 1);
  const limit = nonNegative("--limit", values.limit, 100);
  if (limit < 1 || limit > DUMP_LIMIT_MAX)
    throw new UsageError("--limit", `--limit must be between 1 and ${DUMP_LIMIT_MAX}`);
  const cfg = config(values, io);
  requireDataDir(cfg.data_dir);
  const dump = dumpWal(cfg.data_dir, { fromIndex, limit });
  const lines = dump.records.map(
    (r) =>
      `${r.walIndex}\t${new Date(r.wallMs).toISOString()}\t${r.machine}\t${r.sizeBytes}\t${JSON.stringify(r.body)}\n`,
  );
  print(io, values.json === true, dump, lines.join(""));
  return EXIT_OK;
}

export function walRepair(argv: readonly string[], io: CliIo): number {
  const { values } = parseFlags(argv, { ...DIR_OPTIONS, "dry-run": { type: "boolean" } }, 0);
  const cfg = config(values, io);
  requireDataDir(cfg.data_dir);
  const log = createLogger({
    level: "info",
    write: (line) => io.stderr(`${line}\n`),
    nowMs: io.clocks.nowMs,
  });
  const report = repairWal(cfg.data_dir, {
    dryRun: values["dry-run"] === true,
    log: storageLog(log),
    nowMs: io.clocks.nowMs,
  });
  const verb = report.dryRun ? "would keep" : "kept";
  const text = report.clean
    ? "clean: nothing to repair\n"
    : `${verb} records up to ${report.lastIndexAfter}; ${report.quarantineDir === null ? "" : `moved cut data to ${report.quarantineDir}`}\n`;
  print(io, values.json === true, report, text);
  return EXIT_OK;
}

/** `vltair snapshot` through the server that holds the directory (its admin token), waiting out a recovery. */
async function snapshotThroughServer(cfg: Config, io: CliIo): Promise<unknown> {
  const server = readServerInfo(cfg.data_dir);
  if (server === null) {
    throw new VltairError(
      "unavailable",
      `${cfg.data_dir} is locked by another process and no server.json names its server`,
    );
  }
  const target = {
    url: server.url,
    token: serverToken(cfg, io.env, server.url),
    onWait: io.stderr,
  };
  const body = (await serverRequest(target, "POST", "/v1/admin/snapshot")) as Record<
    string,
    unknown
  >;
  return { via: "server", url: server.url, ...body };
}

export async function snapshotCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(
    argv,
    { ...DIR_OPTIONS, ...configOptions(["wal_fsync", "storage_limits"]) },
    0,
  );
  const cfg = config(values, io);
  requireDataDir(cfg.data_dir);
  const settings = storageSettings(cfg);
  let result: unknown;
  try {
    const { snapshot } = await takeSnapshot(cfg.data_dir, {
      register: (storage) =>
        registerMachines(storage, {
          vectorThread: cfg.vector_thread,
          nowMs: io.clocks.nowMs,
          policy: { failOpen: cfg.policy_fail_open, log: silentLogger },
        }),
      fsync: settings.fsync,
      limits: settings.limits,
      binaryVersion: VERSION,
    });
    result = { via: "data_dir", ...(snakeKeys(snapshot) as Record<string, unknown>) };
  } catch (error) {
    if (!(error instanceof VltairError) || error.details.reason !== "locked") throw error;
    result = await snapshotThroughServer(cfg, io);
  }
  const summary = result as { wal_index: number; path: string; via: string };
  print(
    io,
    values.json === true,
    result,
    `snapshot at wal index ${summary.wal_index}: ${summary.path} (${summary.via})\n`,
  );
  return EXIT_OK;
}
