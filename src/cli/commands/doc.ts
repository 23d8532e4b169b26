/**
 * `vltair get ID` and `vltair rm ID`: one document of the data directory (or of the server
 * holding it), by id and `--scope`. Ids made by `vltair ingest` (`src/a.ts#0`) hold `/` and `#`;
 * these commands take them as they are and encode them for the URL themselves.
 */
import type { Scope } from "../../context/mod.ts";
import { cliConfig, parseFlags, UsageError } from "../args.ts";
import { type ContextClient, openContextClient } from "../context-client.ts";
import { contextCommandOptions, scopeFlag } from "../context-flags.ts";
import { type CliIo, EXIT_OK } from "../io.ts";

async function withDocument<T>(
  argv: readonly string[],
  io: CliIo,
  work: (client: ContextClient, scope: Scope, id: string) => Promise<T>,
): Promise<{ result: T; json: boolean }> {
  const { values, positionals } = parseFlags(argv, contextCommandOptions(), 1);
  const id = positionals[0];
  if (id === undefined || id === "") throw new UsageError("ID", "a document ID is required");
  const scope = scopeFlag(values.scope) ?? { kind: "global" };
  const { config, origins } = cliConfig(values, io);
  const client = await openContextClient(config, io.env, {
    create: false,
    embedderFromDataDir: origins.embedder === "default",
    monotonicMs: io.clocks.monotonicMs,
    nowMs: io.clocks.nowMs,
    onWait: io.stderr,
  });
  try {
    return { result: await work(client, scope, id), json: values.json === true };
  } finally {
    await client.close();
  }
}

/** `vltair get ID [--scope S] [--json]`: prints the document's text (`--json`: the whole document). */
export async function getCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { result, json } = await withDocument(argv, io, (client, scope, id) =>
    client.get(scope, id),
  );
  io.stdout(
    json
      ? `${JSON.stringify(result)}\n`
      : result.text.endsWith("\n")
        ? result.text
        : `${result.text}\n`,
  );
  return EXIT_OK;
}

/** `vltair rm ID [--scope S] [--json]`: deletes the document (exit 1 with `not_found` when there is none). */
export async function rmCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { result, json } = await withDocument(argv, io, (client, scope, id) =>
    client.delete(scope, id),
  );
  io.stdout(json ? `${JSON.stringify(result)}\n` : `deleted (wal_index ${result.wal_index})\n`);
  return EXIT_OK;
}
