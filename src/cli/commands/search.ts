/**
 * `vltair search "QUERY"`: one search through the running server or over the data directory,
 * printed as `path:line_start-line_end  score` lines (the document id when a result has no
 * `path` metadata), or with `--json` the API response as it is.
 */
import {
  type SearchHit,
  type SearchRequest,
  STRATEGIES,
  type Strategy,
} from "../../context/mod.ts";
import { cliConfig, parseFlags, UsageError } from "../args.ts";
import { openContextClient } from "../context-client.ts";
import { contextCommandOptions, intFlag, scopeFlag } from "../context-flags.ts";
import { type CliIo, EXIT_OK } from "../io.ts";

/** Results unless `-k` says otherwise. */
export const K_DEFAULT = 10;
/** Most results `-k` accepts (the engine's `k_max` may be lower: then it answers 400). */
export const K_MAX = 10_000;

/** The line of one result. */
export function hitLine(hit: SearchHit): string {
  const meta = hit.metadata ?? {};
  const { path, line_start: start, line_end: end } = meta;
  let where = hit.id;
  if (typeof path === "string") {
    where = typeof start === "number" && typeof end === "number" ? `${path}:${start}-${end}` : path;
  }
  return `${where}  ${hit.score.toFixed(4)}`;
}

function filterFlag(raw: unknown): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(String(raw));
  } catch (error) {
    throw new UsageError("--filter", `--filter is not valid JSON: ${(error as Error).message}`);
  }
}

function strategyFlag(raw: unknown): Strategy {
  if (raw === undefined) return "auto";
  if (!(STRATEGIES as readonly unknown[]).includes(raw))
    throw new UsageError("--strategy", `--strategy must be one of ${STRATEGIES.join(", ")}`);
  return raw as Strategy;
}

export async function searchCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      ...contextCommandOptions(),
      k: { type: "string", short: "k" },
      filter: { type: "string" },
      strategy: { type: "string" },
    },
    1,
  );
  const query = positionals[0];
  if (query === undefined || query.trim() === "")
    throw new UsageError("QUERY", "a QUERY is required");
  const request: SearchRequest = {
    query,
    k: intFlag("-k", values.k, { min: 1, max: K_MAX, fallback: K_DEFAULT }),
    strategy: strategyFlag(values.strategy),
    include: ["metadata", "scores"],
  };
  const filters = filterFlag(values.filter);
  if (filters !== undefined) request.filters = filters;
  const scope = scopeFlag(values.scope);
  if (scope !== undefined) request.scope = scope;
  const { config, origins } = cliConfig(values, io);
  const client = await openContextClient(config, io.env, {
    create: false,
    embedderFromDataDir: origins.embedder === "default",
    onWait: io.stderr,
    monotonicMs: io.clocks.monotonicMs,
    nowMs: io.clocks.nowMs,
  });
  let response: Awaited<ReturnType<typeof client.search>>;
  try {
    response = await client.search(request);
  } finally {
    await client.close();
  }
  if (values.json === true) {
    io.stdout(`${JSON.stringify(response)}\n`);
    return EXIT_OK;
  }
  for (const warning of response.warnings ?? [])
    io.stderr(`warning: ${warning.code}: ${warning.message}\n`);
  io.stdout(response.results.map((hit) => `${hitLine(hit)}\n`).join(""));
  if (response.results.length === 0) io.stderr("no results\n");
  return EXIT_OK;
}
