/**
 * Policy decision cost (issue 17 items 2–3), in one run, interleaved round by round so machine
 * noise falls on every variant alike.
 *
 * In-process, one `exec` request per decision, against the shipped default (1 policy) and a set
 * of 100 policies (99 `forbid`s with conditions on the request, then the default `permit`):
 *   - `cedar_stateless`: the raw `isAuthorized` of @cedar-policy/cedar-wasm, sending the set and
 *     the schema with every request (the module parses them each time) — the naive peer;
 *   - `cedar_preparsed`: the raw `statefulIsAuthorized` over the set and schema parsed once —
 *     the baseline vltair's engine adds to;
 *   - `engine`: vltair's `CedarEngine.authorize` (the same call plus request building and the
 *     answer's mapping);
 *   - `service_uncached`: `PolicyService.check` with a context never seen before (both levels,
 *     pinning, the decision cache missed);
 *   - `service_cached`: `PolicyService.check` repeating one context (a cache hit).
 * Over HTTP (the app in-process, `app.http.app.request`, no sockets): `GET /v1/context/docs/{id}`
 * of one id (its decision cached), of ids never read before (each decision a cache miss; 404),
 * and `POST /v1/context/search` (sparse, 500 documents), with the read check on (the shipped
 * default, and 100 policies) and off (`PolicyService.prototype.check` replaced by a no-op for the
 * round), on the same app and data.
 *
 * Prints one JSON object: p50/p99 in microseconds per variant, and ratios.
 *
 *   npx bun bench/policy.ts [--decisions 20000] [--requests 2000] [--rounds 6]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import {
  isAuthorized,
  preparsePolicySet,
  preparseSchema,
  statefulIsAuthorized,
} from "@cedar-policy/cedar-wasm/web";
import { createApp } from "../src/app/app.ts";
import { loadConfig } from "../src/config/mod.ts";
import type { Call } from "../src/core/mod.ts";
import { createLogger } from "../src/obs/mod.ts";
import {
  ADMIN_PRINCIPAL,
  CEDAR_SCHEMA,
  type CedarEngine,
  type CompiledPolicySet,
  DEFAULT_POLICY,
  type ExecContext,
  loadCedarEngine,
  PolicyService,
} from "../src/policy/mod.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`--${name} must be a positive integer`);
  }
  return value;
}

const DECISIONS = arg("decisions", 20_000);
const REQUESTS = arg("requests", 2000);
const ROUNDS = arg("rounds", 6);
const TOKEN = "bench-policy-admin-token-0123456789";
const DOCS = 500;
const WORDS = ["alpha", "build", "cache", "delta", "error", "fetch", "graph", "index", "jsonl"];

/** 99 forbids on programs and argv that the benchmark's request never matches, then permit. */
const HUNDRED = [
  ...Array.from(
    { length: 99 },
    (_, n) =>
      `@id("rule-${n}") forbid(principal, action == vltair::Action::"exec", resource) when { context.program == "tool-${n}" || context.argv.contains("--flag-${n}") };`,
  ),
  DEFAULT_POLICY,
].join("\n");

const EXEC: ExecContext = {
  program: "pytest",
  argv: ["pytest", "-q", "tests/"],
  cwd: ".",
  network: "deny",
  domains: [],
  wall_ms: 30_000,
  mem_bytes: 536_870_912,
  workspace: "default",
};

/** Microsecond samples of `run`, `count` times. */
function sample(count: number, run: (i: number) => unknown, into: number[]): void {
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    run(i);
    into.push((performance.now() - start) * 1000);
  }
}

async function sampleAsync(
  count: number,
  run: (i: number) => Promise<unknown>,
  into: number[],
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await run(i);
    into.push((performance.now() - start) * 1000);
  }
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length));
  return Math.round((sorted[at] as number) * 100) / 100;
}

function summary(values: number[]) {
  return { p50_us: pct(values, 50), p99_us: pct(values, 99), n: values.length };
}

function compiled(engine: CedarEngine, text: string): CompiledPolicySet {
  const set = engine.compile(text);
  if ("problems" in set) throw new Error(`bench set invalid: ${set.problems[0]?.message}`);
  return set;
}

/** The raw module's request for EXEC (what vltair's engine builds too). */
function rawRequest(context: ExecContext) {
  return {
    principal: { type: "vltair::Principal", id: "agent" },
    action: { type: "vltair::Action", id: "exec" },
    resource: { type: "vltair::Tenant", id: "acme" },
    context: context as unknown as Record<string, never>,
    validateRequest: true,
    entities: [
      {
        uid: { type: "vltair::Principal", id: "agent" },
        attrs: {},
        parents: [{ type: "vltair::Tenant", id: "acme" }],
      },
    ],
  };
}

/** A full collection where the runtime offers one (Bun); elsewhere nothing. */
function collectGarbage(): void {
  (globalThis as { Bun?: { gc(force: boolean): void } }).Bun?.gc(true);
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench: ${what}`);
}

/** In-process decisions: the raw module and vltair's layers over it, for one set. */
async function decisions(engine: CedarEngine, label: string, text: string) {
  const set = compiled(engine, text);
  const slot = `bench-${label}`;
  engine.install(set, slot);
  check(
    preparsePolicySet(`raw-${label}`, { staticPolicies: set.policies }).type === "success",
    "preparse",
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vltair-bench-policy-"));
  const { app } = openApp(dir);
  await app.start();
  const operator: Call = { principal: ADMIN_PRINCIPAL, traceId: "0".repeat(32) };
  if (text !== DEFAULT_POLICY) await app.policy.put(operator, text, "acme");
  const samples: Record<string, number[]> = {
    cedar_stateless: [],
    cedar_preparsed: [],
    engine: [],
    service_uncached: [],
    service_cached: [],
  };
  const request = rawRequest(EXEC);
  const call = (n: number): Call => ({
    principal: { subject: "agent", tenant: "acme", roles: ["writer"], tokenId: null },
    traceId: n.toString(16).padStart(32, "0"),
  });
  const perRound = Math.ceil(DECISIONS / ROUNDS);
  let unique = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const stateless = Math.max(1, Math.floor(perRound / 10));
    sample(
      stateless,
      () => isAuthorized({ ...request, schema: CEDAR_SCHEMA, policies: set.cedarPolicies }),
      samples.cedar_stateless as number[],
    );
    sample(
      perRound,
      () =>
        statefulIsAuthorized({
          ...request,
          preparsedPolicySetId: `raw-${label}`,
          preparsedSchemaName: "bench",
        }),
      samples.cedar_preparsed as number[],
    );
    sample(
      perRound,
      () =>
        engine.authorize(set, { subject: "agent", tenant: "acme", action: "exec", context: EXEC }),
      samples.engine as number[],
    );
    sample(
      perRound,
      (i) => app.policy.check(call(i), "exec", { ...EXEC, cwd: `dir-${unique++}` }),
      samples.service_uncached as number[],
    );
    sample(
      perRound,
      (i) => app.policy.check(call(i), "exec", EXEC),
      samples.service_cached as number[],
    );
  }
  const answer = engine.authorize(set, {
    subject: "agent",
    tenant: "acme",
    action: "exec",
    context: EXEC,
  });
  check(
    answer.decision === "allow" && answer.reasons.join() === "default",
    "the bench request is allowed by default",
  );
  await app.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const out = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summary(v)]));
  const p50 = (k: string) => (out[k] as { p50_us: number }).p50_us;
  return {
    policies: set.ids.length,
    ...out,
    engine_over_preparsed_p50: Math.round((p50("engine") / p50("cedar_preparsed")) * 100) / 100,
    stateless_over_engine_p50: Math.round((p50("cedar_stateless") / p50("engine")) * 100) / 100,
  };
}

function openApp(dataDir: string) {
  const { config } = loadConfig({
    flags: { data_dir: dataDir, wal_fsync: "none", log_level: "error" },
    env: { VLTAIR_ADMIN_TOKEN: TOKEN },
    readFile: () => "",
  });
  const app = createApp(config, {
    log: createLogger({ level: "error", write: () => {} }),
    clocks: { nowMs: Date.now, monotonicMs: () => performance.now() },
  });
  return { app };
}

/** Per-request cost over HTTP (in-process app): read check on vs off, same app and data. */
async function http(label: string, text: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vltair-bench-policy-"));
  const { app } = openApp(dir);
  await app.start();
  const operator: Call = { principal: ADMIN_PRINCIPAL, traceId: "0".repeat(32) };
  if (text !== DEFAULT_POLICY) await app.policy.put(operator, text);
  const send = (p: string, init: RequestInit = {}) =>
    app.http.app.request(`http://localhost${p}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    });
  const items = Array.from({ length: DOCS }, (_, n) => ({
    id: `doc-${n}`,
    text: `${WORDS[n % WORDS.length]} ${WORDS[(n * 7) % WORDS.length]} document ${n}`,
  }));
  for (let i = 0; i < items.length; i += 100) {
    const response = await send("/v1/context/docs:upsert", {
      method: "POST",
      body: JSON.stringify({ items: items.slice(i, i + 100) }),
    });
    check(response.status === 200, `upsert ${response.status}`);
  }
  let fresh = 0;
  // [status expected, request]. get_doc repeats one id (its decision is cached after the first);
  // get_new_id reads an id never asked before (every decision a cache miss; 404 after it).
  const routes: Record<string, [number, () => Response | Promise<Response>]> = {
    get_doc: [200, () => send("/v1/context/docs/doc-7")],
    get_new_id: [404, () => send(`/v1/context/docs/missing-${fresh++}`)],
    search: [
      200,
      () =>
        send("/v1/context/search", {
          method: "POST",
          body: JSON.stringify({ query: "cache graph", strategy: "sparse", k: 10 }),
        }),
    ],
  };
  const original = PolicyService.prototype.check;
  const noop = (() => undefined) as unknown as typeof original;
  const samples: Record<string, { on: number[]; off: number[] }> = Object.fromEntries(
    Object.keys(routes).map((name) => [name, { on: [], off: [] }]),
  );
  const perRound = Math.ceil(REQUESTS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, [status, run]] of Object.entries(routes)) {
      const into = samples[name] as { on: number[]; off: number[] };
      for (const mode of round % 2 === 0 ? ["on", "off"] : ["off", "on"]) {
        PolicyService.prototype.check = mode === "on" ? original : noop;
        // Garbage one variant made is not collected during the next one's samples.
        collectGarbage();
        await sampleAsync(
          perRound,
          async () => {
            const response = await run();
            await response.arrayBuffer();
            check(response.status === status, `${name} ${response.status}`);
          },
          mode === "on" ? into.on : into.off,
        );
      }
    }
  }
  PolicyService.prototype.check = original;
  await app.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return Object.fromEntries(
    Object.entries(samples).map(([name, { on, off }]) => {
      const a = summary(on);
      const b = summary(off);
      return [
        name,
        {
          policies: label,
          on: a,
          off: b,
          added_p50_us: Math.round((a.p50_us - b.p50_us) * 100) / 100,
          on_over_off_p50: Math.round((a.p50_us / b.p50_us) * 1000) / 1000,
        },
      ];
    }),
  );
}

async function main() {
  const engine = await loadCedarEngine();
  // The raw peer calls the same module instance (wasm-bindgen's glue holds one), with slots
  // of its own for the schema and the sets.
  check(preparseSchema("bench", CEDAR_SCHEMA).type === "success", "schema");
  const result = {
    bench: "policy",
    cedar_version: engine.cedarVersion,
    decisions: DECISIONS,
    requests: REQUESTS,
    rounds: ROUNDS,
    machine: `${os.cpus()[0]?.model ?? "unknown"} ×${os.cpus().length}, ${process.versions.bun === undefined ? `node ${process.version}` : `bun ${process.versions.bun}`}, ${os.platform()} ${os.release()}`,
    in_process: {
      default_policy: await decisions(engine, "default", DEFAULT_POLICY),
      hundred_policies: await decisions(engine, "hundred", HUNDRED),
    },
    http: {
      default_policy: await http("1", DEFAULT_POLICY),
      hundred_policies: await http("100", HUNDRED),
    },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
