/**
 * `vltair policy validate FILE` and `vltair policy test DIR`: Cedar sets checked against vltair's
 * schema, and policy tests, on this machine (no server, no data directory).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as v from "valibot";
import {
  type CompiledPolicySet,
  DEFAULT_POLICY,
  loadCedarEngine,
  type PolicyCaseResult,
  PolicyCasesSchema,
  type PolicyProblem,
  runPolicyCases,
} from "../../policy/mod.ts";
import { COMMON_OPTIONS, parseFlags, UsageError } from "../args.ts";
import { type CliIo, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../io.ts";

const OPTIONS = { ...COMMON_OPTIONS, json: { type: "boolean" as const } };

/** The one positional argument, or a usage error naming it. */
function positional(argv: readonly string[], name: string) {
  const { values, positionals } = parseFlags(argv, OPTIONS, 1);
  const value = positionals[0];
  if (value === undefined) throw new UsageError(name, `${name} is required`);
  return { value, json: values.json === true };
}

function readText(file: string, name: string, io: CliIo): string {
  try {
    return io.readFile(file);
  } catch (error) {
    throw new UsageError(name, `${name} ${file} cannot be read: ${(error as Error).message}`);
  }
}

/** `FILE:line:col: message`, or `FILE: policy ID: message`. */
function problemLine(file: string, p: PolicyProblem): string {
  if (p.line !== undefined) return `${file}:${p.line}:${p.column ?? 1}: ${p.message}`;
  return p.policy_id === undefined
    ? `${file}: ${p.message}`
    : `${file}: policy ${p.policy_id}: ${p.message}`;
}

export async function policyValidate(argv: readonly string[], io: CliIo): Promise<number> {
  const { value: file, json } = positional(argv, "FILE");
  const text = readText(file, "FILE", io);
  const compiled = (await loadCedarEngine()).compile(text);
  if ("problems" in compiled) {
    for (const p of compiled.problems) io.stderr(`${problemLine(file, p)}\n`);
    if (json) io.stdout(`${JSON.stringify({ valid: false, errors: compiled.problems })}\n`);
    // An invalid set is invalid input (what PUT /v1/policy answers 400): exit 2.
    return EXIT_USAGE;
  }
  io.stdout(
    json
      ? `${JSON.stringify({ valid: true, policies: compiled.ids })}\n`
      : `${file}: valid, ${compiled.ids.length} policies (${compiled.ids.join(", ")})\n`,
  );
  return EXIT_OK;
}

/** The set in `DIR/NAME` (the shipped default when absent), or its problems printed. */
function levelSet(
  dir: string,
  name: string,
  compile: (text: string) => CompiledPolicySet | { problems: PolicyProblem[] },
  io: CliIo,
): CompiledPolicySet | null {
  const file = path.join(dir, name);
  const text = fs.existsSync(file) ? readText(file, "DIR", io) : DEFAULT_POLICY;
  const compiled = compile(text);
  if (!("problems" in compiled)) return compiled;
  for (const p of compiled.problems) io.stderr(`${problemLine(file, p)}\n`);
  return null;
}

/** The cases of one file; a file that is not valid JSON or not cases is a usage error naming it. */
function readCases(file: string, io: CliIo) {
  let json: unknown;
  try {
    json = JSON.parse(readText(file, "DIR", io));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(file, `${file} is not JSON: ${(error as Error).message}`);
  }
  const parsed = v.safeParse(PolicyCasesSchema, json);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0];
  const field = v.getDotPath(issue) ?? "";
  throw new UsageError(
    `${file}:${field}`,
    `${file}: ${field === "" ? "" : `${field}: `}${issue.message}`,
  );
}

function resultLine(file: string, r: PolicyCaseResult): string {
  const where = `${file}: ${r.name}`;
  if (r.ok) return `ok    ${where}\n`;
  const why =
    r.error ??
    `expected ${r.expected}, got ${r.decision} (reasons: ${r.reasons.join(", ") || "none"})`;
  return `FAIL  ${where}: ${why}\n`;
}

export async function policyTest(argv: readonly string[], io: CliIo): Promise<number> {
  const { value: dir, json } = positional(argv, "DIR");
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new UsageError("DIR", `DIR ${dir} is not a directory`);
  }
  const files = fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .sort();
  if (files.length === 0) throw new UsageError("DIR", `DIR ${dir} holds no *.json case files`);
  const engine = await loadCedarEngine();
  const compile = (text: string) => engine.compile(text);
  const global = levelSet(dir, "global.cedar", compile, io);
  const tenant = levelSet(dir, "tenant.cedar", compile, io);
  if (global === null || tenant === null) return EXIT_USAGE;
  const results = files.flatMap((name) =>
    runPolicyCases(engine, { global, tenant }, readCases(path.join(dir, name), io)).map(
      (result) => ({ file: name, ...result }),
    ),
  );
  const failed = results.filter((r) => !r.ok).length;
  if (json) {
    io.stdout(`${JSON.stringify({ ok: failed === 0, cases: results.length, failed, results })}\n`);
  } else {
    for (const r of results) io.stdout(resultLine(r.file, r));
    io.stdout(`${results.length} cases, ${failed} failed\n`);
  }
  return failed === 0 ? EXIT_OK : EXIT_FAILURE;
}
