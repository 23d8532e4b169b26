/** `vltair token create|list|revoke`: operator management of API tokens on a data directory. */
import * as v from "valibot";
import { openTokenStore } from "../../app.ts";
import { RoleSchema, SubjectSchema, TenantSchema, type TokenStore } from "../../policy/mod.ts";
import { cliConfig, dataDirOptions, type Parsed, parseFlags, UsageError } from "../args.ts";
import { type CliIo, EXIT_FAILURE, EXIT_OK } from "../io.ts";

const STORE_OPTIONS = dataDirOptions();

function openStore(values: Parsed["values"], io: CliIo): TokenStore {
  const { config } = cliConfig(values, io);
  return openTokenStore(config, io.clocks);
}

function field<S extends v.GenericSchema>(
  flag: string,
  schema: S,
  value: unknown,
): v.InferOutput<S> {
  const parsed = v.safeParse(schema, value);
  if (!parsed.success)
    throw new UsageError(flag, `${flag} ${parsed.issues[0]?.message ?? "is invalid"}`);
  return parsed.output;
}

export function tokenCreate(argv: readonly string[], io: CliIo): number {
  const { values } = parseFlags(
    argv,
    {
      ...STORE_OPTIONS,
      tenant: { type: "string" },
      role: { type: "string", multiple: true },
      subject: { type: "string" },
    },
    0,
  );
  if (values.tenant === undefined) throw new UsageError("--tenant", "--tenant is required");
  const rawRoles = ((values.role as string[] | undefined) ?? []).flatMap((r) => r.split(","));
  if (rawRoles.length === 0) throw new UsageError("--role", "--role is required");
  const tenant = field("--tenant", TenantSchema, values.tenant);
  const roles = rawRoles.map((role) => field("--role", RoleSchema, role.trim()));
  const subject = field("--subject", SubjectSchema, values.subject ?? `token-${roles.join("-")}`);
  const { token, info } = openStore(values, io).create({ subject, tenant, roles });
  if (values.json === true) {
    io.stdout(`${JSON.stringify({ token, id: info.id, subject, tenant, roles: info.roles })}\n`);
  } else {
    io.stdout(`${token}\n`);
    io.stderr(
      `created ${info.id} for ${subject} in tenant ${tenant} (${info.roles.join(", ")}); the token above is shown only once\n`,
    );
  }
  return EXIT_OK;
}

export function tokenList(argv: readonly string[], io: CliIo): number {
  const { values } = parseFlags(argv, { ...STORE_OPTIONS, tenant: { type: "string" } }, 0);
  const tenant =
    values.tenant === undefined ? null : field("--tenant", TenantSchema, values.tenant);
  const tokens = openStore(values, io)
    .list()
    .filter((t) => tenant === null || t.tenant === tenant);
  if (values.json === true) {
    io.stdout(`${JSON.stringify({ tokens })}\n`);
    return EXIT_OK;
  }
  for (const t of tokens) {
    const state = t.revoked_at === null ? "active" : `revoked ${t.revoked_at}`;
    io.stdout(
      `${t.id}  ${t.tenant}  ${t.roles.join(",")}  ${t.subject}  ${t.created_at}  ${state}\n`,
    );
  }
  return EXIT_OK;
}

export function tokenRevoke(argv: readonly string[], io: CliIo): number {
  const { values, positionals } = parseFlags(argv, STORE_OPTIONS, 1);
  const id = positionals[0];
  if (id === undefined) throw new UsageError("ID", "the token id to revoke is required");
  const revoked = openStore(values, io).revoke(id, null);
  if (values.json === true) io.stdout(`${JSON.stringify({ revoked, id })}\n`);
  else io.stderr(revoked ? `revoked ${id}\n` : `no active token ${id}\n`);
  return revoked ? EXIT_OK : EXIT_FAILURE;
}
