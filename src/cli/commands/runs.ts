/**
 * `vltair run FILE`, `vltair runs list|show|events|cancel|signal|fork` and `vltair replay RUN_ID`:
 * the orchestrator from the command line. Runs are driven by a server (`vltair serve`, or
 * `VLTAIR_URL`), which these commands reach as every command does (data-dir-access.ts);
 * `replay` also works on a data directory no server holds, reading the log with no side effect.
 */
import type { Config } from "../../config/mod.ts";
import { VltairError } from "../../core/mod.ts";
import { foldJournal, RUN_STATUSES, sseFrame } from "../../orchestrator/mod.ts";
import { cliConfig, dataDirOptions, parseFlags, UsageError } from "../args.ts";
import { intFlag } from "../context-flags.ts";
import { openDataDirAccess, withCode } from "../data-dir-access.ts";
import type { CliIo } from "../io.ts";
import { EXIT_FAILURE, EXIT_OK } from "../io.ts";
import { type ServerTarget, serverRequest } from "../server-request.ts";

// biome-ignore lint/suspicious/noExplicitAny: answers of the API, printed as they are
type Json = any;

/** Longest `--wait-ms` (the API's `wait_ms` bound). */
const WAIT_MS_MAX = 60_000;
/** Most runs one `runs list` page shows (the API's bound). */
const LIST_LIMIT_MAX = 1000;

function jsonFlag(flag: string, raw: unknown): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(String(raw));
  } catch (error) {
    throw new UsageError(flag, `${flag} is not valid JSON: ${(error as Error).message}`);
  }
}

/** The JSON in `file`, named `field` (a positional or a flag) when it cannot be read or parsed. */
function jsonFile(io: CliIo, field: string, file: string): unknown {
  let text: string;
  try {
    text = io.readFile(file);
  } catch (error) {
    throw new UsageError(field, `cannot read ${file}: ${(error as Error).message}`);
  }
  return jsonFlag(field, text);
}

/** The server holding the data directory; a data directory no server holds is refused. */
export async function serverOf(config: Config, io: CliIo): Promise<ServerTarget> {
  const access = await openDataDirAccess(config, io.env, {
    create: false,
    nowMs: io.clocks.nowMs,
  });
  if (access.kind === "server") return { ...access.server, onWait: io.stderr };
  await access.storage.close();
  throw new VltairError(
    "unavailable",
    `unavailable: runs are driven by a server: start 'vltair serve --data-dir ${config.data_dir}' (or set VLTAIR_URL)`,
  );
}

/** The text of an SSE route (events, replay), checked like a JSON request's answer. */
async function serverText(server: ServerTarget, route: string): Promise<string> {
  const response = await fetch(`${server.url}${route}`, {
    headers: { authorization: `Bearer ${server.token}` },
  }).catch((cause: unknown) => {
    throw new VltairError(
      "unavailable",
      `unavailable: the server at ${server.url} does not answer`,
      {
        cause,
      },
    );
  });
  if (response.ok) return response.text();
  // The envelope of a refusal, as serverRequest reports it.
  return serverRequest(server, "GET", route).then(() => "");
}

const runId = (positionals: readonly string[], index = 0): string => {
  const id = positionals[index];
  if (id === undefined || id === "") throw new UsageError("RUN_ID", "a RUN_ID is required");
  return id;
};

const print = (io: CliIo, value: unknown) => io.stdout(`${JSON.stringify(value)}\n`);

/** One line per event, for people: `seq type step attempt`. */
function eventLines(text: string): string {
  return text
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => {
      const e = JSON.parse(line.slice(6)) as Json;
      const parts = [String(e.seq).padStart(4), e.type, e.step_id ?? "", e.attempt ?? ""];
      if (e.error !== undefined) parts.push(`${e.error.code}: ${e.error.message}`);
      return `${parts.join(" ").trimEnd()}\n`;
    })
    .join("");
}

/** `vltair run FILE [--input JSON] [--idempotency-key K] [--follow] [--wait-ms N]`. */
export async function runCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      ...dataDirOptions(),
      input: { type: "string" },
      "idempotency-key": { type: "string" },
      follow: { type: "boolean" },
      "wait-ms": { type: "string" },
    },
    1,
  );
  const file = positionals[0];
  if (file === undefined) throw new UsageError("FILE", "a workflow FILE (JSON) is required");
  const body: Json = { workflow: jsonFile(io, "FILE", file) };
  const input = jsonFlag("--input", values.input);
  if (input !== undefined) body.input = input;
  if (typeof values["idempotency-key"] === "string")
    body.idempotency_key = values["idempotency-key"];
  const waitMs =
    values["wait-ms"] === undefined
      ? undefined
      : intFlag("--wait-ms", values["wait-ms"], { min: 0, max: WAIT_MS_MAX, fallback: 0 });
  const server = await serverOf(cliConfig(values, io).config, io);
  const query = waitMs === undefined ? "" : `?wait_ms=${waitMs}`;
  const started = (await serverRequest(server, "POST", `/v1/runs${query}`, body)) as Json;
  if (values.follow !== true) {
    if (values.json === true) print(io, started);
    else io.stdout(`${started.run_id} ${started.status}\n`);
    return EXIT_OK;
  }
  // Follow: the event stream to its terminal event, then the run's status decides the exit.
  const events = await serverText(server, `/v1/runs/${started.run_id}/events`);
  io.stdout(values.json === true ? events : eventLines(events));
  const run = (await serverRequest(server, "GET", `/v1/runs/${started.run_id}`)) as Json;
  return run.status === "succeeded" ? EXIT_OK : EXIT_FAILURE;
}

/** `vltair runs list [--status S] [--limit N] [--cursor C]`. */
export async function runsList(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(
    argv,
    {
      ...dataDirOptions(),
      status: { type: "string" },
      limit: { type: "string" },
      cursor: { type: "string" },
    },
    0,
  );
  const params = new URLSearchParams();
  if (values.status !== undefined) {
    if (!(RUN_STATUSES as readonly unknown[]).includes(values.status))
      throw new UsageError("--status", `--status must be one of ${RUN_STATUSES.join(", ")}`);
    params.set("status", String(values.status));
  }
  if (values.limit !== undefined) {
    const limit = intFlag("--limit", values.limit, { min: 1, max: LIST_LIMIT_MAX, fallback: 100 });
    params.set("limit", String(limit));
  }
  if (typeof values.cursor === "string") params.set("cursor", values.cursor);
  const server = await serverOf(cliConfig(values, io).config, io);
  const page = (await serverRequest(server, "GET", `/v1/runs?${params}`)) as Json;
  if (values.json === true) print(io, page);
  else
    for (const run of page.runs)
      io.stdout(`${run.run_id} ${run.status} ${run.workflow ?? "-"} ${run.created_at}\n`);
  return EXIT_OK;
}

/** `vltair runs show RUN_ID`: the run's body (JSON). */
export async function runsShow(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, dataDirOptions(), 1);
  const id = runId(positionals);
  const server = await serverOf(cliConfig(values, io).config, io);
  print(io, await serverRequest(server, "GET", `/v1/runs/${encodeURIComponent(id)}`));
  return EXIT_OK;
}

/** `vltair runs events RUN_ID`: the event stream until the run ends (`--json`: the SSE text). */
export async function runsEvents(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, dataDirOptions(), 1);
  const id = runId(positionals);
  const server = await serverOf(cliConfig(values, io).config, io);
  const text = await serverText(server, `/v1/runs/${encodeURIComponent(id)}/events`);
  io.stdout(values.json === true ? text : eventLines(text));
  return EXIT_OK;
}

/** `vltair runs cancel RUN_ID`. */
export async function runsCancel(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, dataDirOptions(), 1);
  const id = runId(positionals);
  const server = await serverOf(cliConfig(values, io).config, io);
  print(io, await serverRequest(server, "POST", `/v1/runs/${encodeURIComponent(id)}:cancel`));
  return EXIT_OK;
}

/** `vltair runs signal RUN_ID NAME [--payload JSON]`. */
export async function runsSignal(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { ...dataDirOptions(), payload: { type: "string" } },
    2,
  );
  const id = runId(positionals);
  const name = positionals[1];
  if (name === undefined || name === "") throw new UsageError("NAME", "a signal NAME is required");
  const body: Json = { name };
  const payload = jsonFlag("--payload", values.payload);
  if (payload !== undefined) body.payload = payload;
  const server = await serverOf(cliConfig(values, io).config, io);
  print(io, await serverRequest(server, "POST", `/v1/runs/${encodeURIComponent(id)}:signal`, body));
  return EXIT_OK;
}

/**
 * `vltair runs fork RUN_ID --from-step ID [--input JSON] [--workflow FILE] [--idempotency-key K]`:
 * a new run reusing the source's completed steps upstream of the step; prints "RUN_ID STATUS".
 */
export async function runsFork(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      ...dataDirOptions(),
      "from-step": { type: "string" },
      input: { type: "string" },
      workflow: { type: "string" },
      "idempotency-key": { type: "string" },
    },
    1,
  );
  const id = runId(positionals);
  const fromStep = values["from-step"];
  if (typeof fromStep !== "string" || fromStep === "")
    throw new UsageError("--from-step", "--from-step ID is required (the step to run again)");
  const body: Json = { from_step: fromStep };
  const input = jsonFlag("--input", values.input);
  if (input !== undefined) body.input = input;
  if (typeof values.workflow === "string")
    body.workflow = jsonFile(io, "--workflow", values.workflow);
  if (typeof values["idempotency-key"] === "string")
    body.idempotency_key = values["idempotency-key"];
  const server = await serverOf(cliConfig(values, io).config, io);
  const route = `/v1/runs/${encodeURIComponent(id)}:fork`;
  const forked = (await serverRequest(server, "POST", route, body)) as Json;
  if (values.json === true) print(io, forked);
  else io.stdout(`${forked.run_id} ${forked.status}\n`);
  return EXIT_OK;
}

/**
 * `vltair replay RUN_ID [--at WAL_INDEX]`: the run's events rebuilt from the log, the same SSE
 * text as `/v1/runs/{id}/replay` — through the server holding the directory, or from the
 * directory itself when none does (the operator's view: any tenant's run).
 */
export async function replayCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { ...dataDirOptions(), at: { type: "string" } },
    1,
  );
  const id = runId(positionals);
  const at =
    values.at === undefined
      ? undefined
      : intFlag("--at", values.at, { min: 0, max: 999_999_999, fallback: 0 });
  const { config } = cliConfig(values, io);
  const access = await openDataDirAccess(config, io.env, { create: false, nowMs: io.clocks.nowMs });
  if (access.kind === "server") {
    const query = at === undefined ? "" : `?at_wal_index=${at}`;
    const route = `/v1/runs/${encodeURIComponent(id)}/replay${query}`;
    io.stdout(await serverText({ ...access.server, onWait: io.stderr }, route));
    return EXIT_OK;
  }
  try {
    const entry = access.machines.runs.state().runs.get(id);
    const folded = entry === undefined ? undefined : foldJournal(entry.journal, at ?? null);
    if (entry === undefined)
      throw withCode(new VltairError("not_found", "no such run", { details: { run_id: id } }));
    io.stdout((folded?.events ?? []).map((e) => sseFrame(id, e)).join(""));
    return EXIT_OK;
  } finally {
    await access.storage.close();
  }
}
