/** Help texts. The serve options are generated from the config table so they never drift. */
import { CONFIG_FIELDS, CONFIG_KEYS } from "../config/mod.ts";

function optionLines(): string {
  return CONFIG_KEYS.filter((k) => CONFIG_FIELDS[k].flag !== null)
    .map((k) => {
      const spec = CONFIG_FIELDS[k];
      const flag = spec.kind === "bool" ? `--${spec.flag}` : `--${spec.flag} VALUE`;
      const shown =
        typeof spec.default === "object" && spec.default !== null
          ? JSON.stringify(spec.default)
          : String(spec.default);
      return `  ${flag.padEnd(26)} ${spec.doc} [env ${spec.env}; default ${shown}]`;
    })
    .join("\n");
}

/** Flags of `ingest` and `search` beyond their own. */
const CONTEXT_FLAGS = `  --scope S                  global (default), session:ID or task:ID
  --data-dir DIR             Data directory (default ./.vltair; env VLTAIR_DATA_DIR)
  --config FILE              JSON config file
  --embedder JSON            Embedder when opening the data directory itself (a server uses its own)
  --text-tokenizer NAME      code or unicode61, when opening the data directory itself
  --context-limits JSON      Context limits, when opening the data directory itself
  --wal-fsync POLICY         WAL fsync policy, when opening the data directory itself
  --storage-limits JSON      Storage limits, when opening the data directory itself`;

/** Help of each command path. */
export const HELP: Record<string, () => string> = {
  "": () => `vltair — a context engine and a sandbox for AI coding agents, with an HTTP API, in one
binary, with an MCP server for coding agents, a durable orchestrator and Cedar policies.

Usage: vltair <command> [flags]

Commands:
  serve            Recover the data directory, then serve the HTTP API
  exec             Run a command in the sandbox on this machine
  ingest PATH…     Chunk a source tree and upsert it into the context engine
  search QUERY     Search the context engine; prints path:lines and scores
  mcp              The MCP server over stdio (tools and resources for coding agents)
  get ID           Print one document's text (ids as ingest makes them: path#n)
  rm ID            Delete one document
  token create     Create an API token (printed once)
  token list       List API tokens
  token revoke     Revoke an API token
  policy validate  Check a Cedar policy file against vltair's schema
  policy test      Run policy test cases (expected decisions) from a directory
  wal verify       Check every record's checksum; print counts and the index range
  wal dump         Print records of the log
  wal repair       Cut a damaged log back to its last valid record (moves the rest aside)
  run FILE         Start a run of a workflow (JSON file) on the server; --follow streams its events
  runs list        List runs (runs show|events|cancel|signal|fork RUN_ID …)
  replay RUN_ID    Print a run's events rebuilt from the log (no side effect)
  snapshot         Take a snapshot now (through the running server when one holds the dir)
  audit verify     Check the audit trail's hash chains; name the first broken record
  budget show      The tenant's budgets, one budget's history, or a run's budget (--run ID)
  version          Print the version

Run 'vltair <command> --help' for a command's flags. 'vltair --version' prints the version.
Exit codes: 0 success, 1 failure, 2 usage error. Boolean flags also take --flag=false and --no-flag.`,
  serve: () => `Usage: vltair serve [flags]

Binds the port, prints one JSON line with "event":"server.listening" and "url", recovers the
data directory (health and ready answer meanwhile; other routes answer 503 "recovering"), then
prints "server.ready". SIGTERM/SIGINT stop it gracefully (exit 0). A busy port exits 1 before
anything is created.

Flags (precedence: defaults < --config file < VLTAIR_* environment < flags):
  --config FILE              JSON config file with any of the options below (snake_case keys)
${optionLines()}
  -h, --help                 Show this help`,
  exec: () => `Usage: vltair exec [flags] -- CMD [ARGS…]

Runs CMD under hard limits with the current directory (or --workspace) as its writable
workspace, no network unless asked, and a minimal environment. Prints
"[sandbox] traceId=… duration_ms=… status=… rc=…", then stdout and [stderr].
Exit 0 when the status is OK, 1 otherwise (the rc is in the output), 2 on usage errors.
  --wall-ms N                Wall-clock limit (TIMEOUT, rc 124)
  --mem-bytes N              Memory limit (MEM_LIMIT)
  --output-bytes N           Cap per output stream (cut with [TRUNCATED at N bytes])
  --pids N                   Most processes at once
  --cpu-ms N                 CPU time per process
  --network deny|allow       Network access (default deny)
  --cwd DIR                  Working directory inside the workspace
  --env NAME=VALUE           Environment variable for the run (repeatable)
  --workspace DIR            Workspace root (default: the current directory)
  --strict                   allow_partial:false: refuse to run when a limit cannot be applied
  --sandbox-disable LIST     Mechanisms to switch off (bubblewrap, unshare, cgroup_v2, cgroup_v1, prlimit = all rlimits)
  --sandbox-limits JSON      Limit defaults and ceilings (see docs/configuration.md)
  --sandbox-require LIST     Limits a run must get, else it is refused (default filesystem,pids,timeout,process_tree)
  --sandbox-allow-partial    Let --strict-less runs go ahead without a required limit (operator's choice)
  --data-dir DIR             Data directory hidden from the command (default ./.vltair)
  --json                     Print the whole result as JSON
  -h, --help                 Show this help`,
  ingest:
    () => `Usage: vltair ingest PATH… [--scope S] [--include GLOB]… [--exclude GLOB]… [--prune] [flags]

Walks each PATH (a directory or a file), honouring .gitignore files and skipping .git/, binaries
and files over 1 MiB; chunks each file by lines (up to 60 lines or 4000 characters, 8 lines of
overlap, ending at a blank line or a top-level line when one is near) and upserts the chunks in
batches. Document ids are "<path>#<n>" (n-th chunk of the file; path relative to the current
directory); metadata is {path, language, line_start, line_end, chunk, chunks}. Unchanged chunks
are skipped, so re-ingesting an unchanged tree writes nothing; a file that now has fewer chunks
has its surplus chunks deleted. Chunks of files that were deleted, renamed or are now ignored
stay unless --prune is given (see docs/cli-ingest.md).
Talks to the server at VLTAIR_URL when set, else to the server that holds the data directory
(URL from DATA_DIR/server.json), else opens the data directory itself (tenant default). A server
gets the token from VLTAIR_TOKEN, else VLTAIR_ADMIN_TOKEN, else DATA_DIR/admin.token. A progress bar is drawn on stderr when it is a terminal.
  --include GLOB             Only files matching GLOB (relative to PATH; repeatable)
  --exclude GLOB             Leave out files and directories matching GLOB (repeatable)
  --batch N                  Chunks per upsert (default 256; split further on 413)
  --prune                    Then delete the scope's chunks under each PATH that this run did not
                             ingest (files deleted, renamed, ignored, excluded, skipped); with
                             --include, only chunks of paths matching it (docs/cli-ingest.md)
${CONTEXT_FLAGS}
  --json                     Print {"files","chunks","inserted","updated","skipped","deleted","pruned",…}
  -h, --help                 Show this help`,
  search:
    () => `Usage: vltair search QUERY [-k N] [--filter JSON] [--strategy S] [--scope S] [flags]

Searches the context engine and prints one "path:line_start-line_end  score" line per result
(the document id when it has no path metadata), best first. Reaches the engine as 'vltair ingest'
does: the running server, else the data directory itself.
  -k N                       Number of results (default 10)
  --filter JSON              Metadata filter, e.g. '{"field":"metadata.language","op":"eq","value":"typescript"}'
  --strategy S               auto (default), dense, sparse or hybrid
${CONTEXT_FLAGS}
  --json                     Print the API response {"results","strategy_used","took_ms","wal_index"}
  -h, --help                 Show this help`,
  run: () => `Usage: vltair run FILE [--input JSON] [--idempotency-key K] [--follow] [--wait-ms N] [flags]

Starts a run of the workflow in FILE (JSON, docs/orchestrator.md) on the server holding the data
directory (or VLTAIR_URL) and prints "RUN_ID STATUS". Runs are driven by the server: a data
directory no server holds is refused (exit 1).
  --input JSON               The run's input (\${input.…}); default {}
  --idempotency-key K        The same key and workflow answer the same run
  --follow                   Print the run's events until it ends; exit 0 if it succeeded, else 1
  --wait-ms N                Wait up to N ms (0..60000) for the run to end before answering
  --data-dir DIR             Data directory (default ./.vltair; env VLTAIR_DATA_DIR)
  --config FILE              JSON config file
  --json                     Print the API's answer (with --follow: the SSE text)
  -h, --help                 Show this help`,
  runs: () => `Usage: vltair runs <list|show|events|cancel|signal|fork> [flags]

  runs list [--status S] [--limit N] [--cursor C]   The caller's runs, newest first
  runs show RUN_ID                                   The run's body (JSON)
  runs events RUN_ID                                 Its events until it ends (--json: SSE text)
  runs cancel RUN_ID                                 Cancel it
  runs signal RUN_ID NAME [--payload JSON]           Send a signal a wait step takes
  runs fork RUN_ID --from-step ID [--input JSON] [--workflow FILE] [--idempotency-key K]
                                                     A new run reusing the completed steps
                                                     not downstream of ID; prints "RUN_ID STATUS"
Each talks to the server holding --data-dir (or VLTAIR_URL); --json prints the API's answer.`,
  replay: () => `Usage: vltair replay RUN_ID [--at WAL_INDEX] [flags]

Prints the run's events rebuilt from the log (no sandbox, network or model call; the recorded
clock): the same SSE text, byte for byte, as GET /v1/runs/{id}/replay. Through the server holding
the data directory, or from the directory itself when none does.
  --at WAL_INDEX             Only the events of records at or before WAL_INDEX
  --data-dir DIR             Data directory (default ./.vltair; env VLTAIR_DATA_DIR)
  --config FILE              JSON config file
  -h, --help                 Show this help`,
  wal: () => `Usage: vltair wal <verify|dump|repair> [flags]

Operator tools over the data directory's write-ahead log (docs/durability.md).
Run 'vltair wal <subcommand> --help' for its flags.`,
  audit: () => `Usage: vltair audit <subcommand>

The audit trail: SHA-256-chained records of every write, side effect and auth failure
(docs/audit.md). Run 'vltair audit verify --help' for its flags.`,
  budget: () => `Usage: vltair budget show [flags]

Run 'vltair budget show --help' for its flags.`,
  "budget show":
    () => `Usage: vltair budget show [--run ID] [--name NAME] [--history] [--tenant T] [--json]

Budgets as the server holding --data-dir (or VLTAIR_URL) has them, with the token's tenant:
  (no flag)                  Every budget of the tenant: unit, used / limit per period, reset time
  --name NAME --history      That budget's last 32 snapshots (closed periods, limit changes)
  --run ID                   A run's budget: used / limit per unit, what is left, wall time
  --run ID --history         The run's last charges (step, attempt, usage, totals after)
  --tenant T                 Another tenant's budgets (the operator)
  --json                     Print the API's answer
  --data-dir DIR             Data directory (default ./.vltair; env VLTAIR_DATA_DIR)
  -h, --help                 Show this help`,
  "audit verify": () => `Usage: vltair audit verify [--data-dir DIR] [--json]

Reads the data directory (no lock: safe beside a running server, or on a copy), checks every
record's checksum and every tenant's audit chain, and names the first broken record. Exit 1 if
anything is broken.
  --data-dir DIR             Data directory (default ./.vltair; env VLTAIR_DATA_DIR)
  --config FILE              JSON config file
  --json                     Print {"ok","chains","records","first_broken","wal_corruption"}
  -h, --help                 Show this help`,
  "wal verify": () => `Usage: vltair wal verify [--data-dir DIR] [--json]

Reads every segment and snapshot (no lock: safe beside a running server), checks each CRC, and
prints counts, the index range and, if damaged, what 'vltair wal repair' would do. Exit 1 if damaged.
  --data-dir DIR             Data directory (default ./.vltair; env VLTAIR_DATA_DIR)
  --config FILE              JSON config file
  --json                     Print the whole report
  -h, --help                 Show this help`,
  "wal dump": () => `Usage: vltair wal dump [--from N] [--limit M] [--data-dir DIR] [--json]

Prints records from index N (default 1), at most M (default 100, at most 10000):
index, time, state machine, size and body, one per line; --json prints {"records":[…]}.
  --from N                   First WAL index
  --limit M                  Most records
  --data-dir DIR             Data directory (default ./.vltair; env VLTAIR_DATA_DIR)
  --json                     Print JSON
  -h, --help                 Show this help`,
  "wal repair": () => `Usage: vltair wal repair [--dry-run] [--data-dir DIR] [--json]

Cuts the log back to its last valid record and moves everything after it (and snapshots ahead
of it) into wal/quarantine/<ms>/, so a server that refused to start can start. Needs the lock:
stop the server first. --dry-run only says what it would do.
  --dry-run                  Change nothing
  --data-dir DIR             Data directory (default ./.vltair; env VLTAIR_DATA_DIR)
  --json                     Print the whole report
  -h, --help                 Show this help`,
  snapshot: () => `Usage: vltair snapshot [--data-dir DIR] [--json]

Takes a snapshot now. When a server holds the data directory, asks it (POST /v1/admin/snapshot
with VLTAIR_ADMIN_TOKEN or DATA_DIR/admin.token); otherwise opens the directory itself.
  --data-dir DIR             Data directory (default ./.vltair; env VLTAIR_DATA_DIR)
  --json                     Print {"wal_index","path","size_bytes",…,"via"}
  -h, --help                 Show this help`,
  mcp: () => `Usage: vltair mcp [--data-dir DIR] | [--server URL [--token-env NAME]]

The MCP server over stdio (JSON-RPC on stdin/stdout; log lines on stderr), ending when stdin
closes. Its tools are the HTTP API's routes (context_search, context_get, context_upsert,
sandbox_exec, …); documents are resources vltair://docs/{scope}/{id}. See docs/mcp.md.
  --data-dir DIR             Serve this data directory: through the server that holds it (its
                             admin token), or in process as the directory's operator
  --server URL               Proxy every call to the running server at URL instead
  --token-env NAME           Environment variable holding the bearer token for --server
                             (default VLTAIR_TOKEN); the tools act as that token
  --embedder JSON            Embedder when serving the data directory in process
  --config FILE              JSON config file
  -h, --help                 Show this help`,
  get: () => `Usage: vltair get ID [--scope S] [--json] [flags]

Prints the current text of one document (--json: the whole document with metadata and
version). Ids are taken as they are (ingest's "src/a.ts#0" included; no encoding needed).
Talks to the server holding the data directory, else opens it (as ingest and search do).
Exit 1 with not_found when there is no such document.
${CONTEXT_FLAGS}
  --json                     Print the document as JSON
  -h, --help                 Show this help`,
  rm: () => `Usage: vltair rm ID [--scope S] [--json] [flags]

Deletes one document (its versions stay visible to time travel). Exit 1 with not_found when
there is no such document.
${CONTEXT_FLAGS}
  --json                     Print {"deleted":true,"wal_index":N}
  -h, --help                 Show this help`,
  version: () => `Usage: vltair version [--json]

Prints the version, runtime and platform.
  --json                     Print {"version","runtime","os","arch"}
  -h, --help                 Show this help`,
  token: () => `Usage: vltair token <create|list|revoke> [flags]

Manages API tokens of a data directory (works while a server runs on it).
Run 'vltair token <subcommand> --help' for its flags.`,
  "token create":
    () => `Usage: vltair token create --tenant T --role R [--role R2] [--subject S] [flags]

Creates a token and prints it once; only its SHA-256 is stored.
  --tenant T                 Tenant of the token (^[a-z0-9][a-z0-9_-]{0,62}$)
  --role R                   reader, writer, admin or operator (only the operator creates
                             operator tokens); repeat or comma-separate for several
  --subject S                Who holds it (default: token-<roles>)
  --data-dir DIR             Data directory (default ./.vltair; env VLTAIR_DATA_DIR)
  --config FILE              JSON config file
  --json                     Print {"token","id","subject","tenant","roles"}
  -h, --help                 Show this help`,
  "token list": () => `Usage: vltair token list [--tenant T] [--json] [--data-dir DIR]

Lists tokens (never the tokens themselves), optionally of one tenant.
  --tenant T                 Only this tenant's tokens
  --data-dir DIR             Data directory (default ./.vltair; env VLTAIR_DATA_DIR)
  --config FILE              JSON config file
  --json                     Print {"tokens":[…]}
  -h, --help                 Show this help`,
  "token revoke": () => `Usage: vltair token revoke ID [--json] [--data-dir DIR]

Revokes a token by id (tok_…); a server on the same data directory refuses it from its next request.
  --data-dir DIR             Data directory (default ./.vltair; env VLTAIR_DATA_DIR)
  --config FILE              JSON config file
  --json                     Print {"revoked":true,"id"}
  -h, --help                 Show this help`,
  policy: () => `Usage: vltair policy <validate|test> [flags]

Works on Cedar policy files on this machine (no server, no data directory); docs/policy.md.
Run 'vltair policy <subcommand> --help' for its flags.`,
  "policy validate": () => `Usage: vltair policy validate FILE [--json]

Parses FILE as a Cedar policy set and validates it against vltair's schema (what
PUT /v1/policy does). Exit 0 when valid, 2 when not (each problem on stderr as FILE:LINE:COL or
FILE: policy ID) and on usage errors (no FILE, unreadable).
  --json                     Print {"valid","policies":[ids]} or {"valid":false,"errors":[…]}
  -h, --help                 Show this help`,
  "policy test": () => `Usage: vltair policy test DIR [--json]

Runs policy tests: DIR/global.cedar and DIR/tenant.cedar are the two levels (each the shipped
default when absent), every DIR/*.json is an array of cases
{"name","action","context","principal"?:{"tenant","subject"},"expect":"allow|deny","reasons"?}.
Prints ok/FAIL per case; exit 0 when every case passes, 1 on a miss, 2 on an invalid set
(FILE:LINE:COL) and on usage errors (DIR missing, no case files, a malformed case naming
FILE:field).
  --json                     Print {"ok","cases","failed","results":[…]}
  -h, --help                 Show this help`,
};

// The runs subcommands share the group's help (one table of their flags).
for (const sub of ["list", "show", "events", "cancel", "signal", "fork"]) {
  HELP[`runs ${sub}`] = () => (HELP.runs as () => string)();
}
