/**
 * `vltair budget show`: budgets as the server holds them — the tenant's ledgers (`GET
 * /v1/budgets`), one ledger's history (`--name N --history`), or a run's budget (`--run ID`,
 * with `--history` its charges). Through the server holding the data directory (or
 * `VLTAIR_URL`), with the token's tenant and roles, like every run command.
 */
import { cliConfig, dataDirOptions, parseFlags, UsageError } from "../args.ts";
import type { CliIo } from "../io.ts";
import { EXIT_OK } from "../io.ts";
import { serverRequest } from "../server-request.ts";
import { serverOf } from "./runs.ts";

// biome-ignore lint/suspicious/noExplicitAny: answers of the API, printed as they are
type Json = any;

/** The route `budget show` reads for its flags. */
function routeOf(values: {
  run?: unknown;
  name?: unknown;
  history?: unknown;
  tenant?: unknown;
}): string {
  const history = values.history === true;
  if (typeof values.run === "string") {
    if (values.name !== undefined)
      throw new UsageError("--name", "--name and --run exclude each other");
    const id = encodeURIComponent(values.run);
    return history ? `/v1/runs/${id}/budget/history` : `/v1/runs/${id}/budget`;
  }
  const tenant =
    typeof values.tenant === "string" ? `?tenant=${encodeURIComponent(values.tenant)}` : "";
  if (history) {
    if (typeof values.name !== "string")
      throw new UsageError("--history", "--history needs --name NAME (a budget) or --run ID");
    return `/v1/budgets/${encodeURIComponent(values.name)}/history${tenant}`;
  }
  return `/v1/budgets${tenant}`;
}

/** Lines for people: one per budget, per run unit, or per charge. */
function lines(route: string, answer: Json): string {
  if (route.endsWith("/budget/history"))
    return answer.history
      .map(
        (h: Json) =>
          `${h.ts} ${h.step_id}#${h.attempt} ${JSON.stringify(h.usage)} -> ${JSON.stringify(h.used)}\n`,
      )
      .join("");
  if (route.includes("/v1/runs/")) {
    const units = Object.keys({ ...answer.used, ...answer.limits });
    return units
      .map((u) => {
        const used = u === "wall_ms" ? answer.wall_ms : answer.used[u];
        const limit = answer.limits[u];
        return `${u} ${used}${limit === undefined ? "" : ` / ${limit} (${answer.remaining[u]} left)`}\n`;
      })
      .join("");
  }
  if (route.includes("/history"))
    return answer.history.map((h: Json) => `${JSON.stringify(h)}\n`).join("");
  return answer.budgets
    .map(
      (b: Json) =>
        `${b.name} ${b.unit} ${b.used} / ${b.limit} per ${b.period}${b.resets_at === null ? "" : ` (resets ${b.resets_at})`}\n`,
    )
    .join("");
}

/** `vltair budget show [--run ID] [--name NAME] [--history] [--tenant T] [--json]`. */
export async function budgetShow(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(
    argv,
    {
      ...dataDirOptions(),
      run: { type: "string" },
      name: { type: "string" },
      tenant: { type: "string" },
      history: { type: "boolean" },
    },
    0,
  );
  const route = routeOf(values);
  const server = await serverOf(cliConfig(values, io).config, io);
  const answer = (await serverRequest(server, "GET", route)) as Json;
  io.stdout(values.json === true ? `${JSON.stringify(answer)}\n` : lines(route, answer));
  return EXIT_OK;
}
