/** `vltair token create|list|revoke`: operator management of API tokens on a data directory. */
import * as v from "valibot";
import { RoleSchema, SubjectSchema, TenantSchema } from "../../policy/mod.ts";
import { cliConfig, dataDirOptions, type Parsed, parseFlags, UsageError } from "../args.ts";
import type { CliIo } from "../io.ts";
import { EXIT_FAILURE, EXIT_OK } from "../io.ts";
import { openTokenClient, type TokenClient } from "../token-client.ts";

const STORE_OPTIONS = dataDirOptions();

async function withTokens<T>(
  values: Parsed["values"],
  io: CliIo,
  work: (client: TokenClient) => Promise<T>,
): Promise<T> {
  const { config } = cliConfig(values, io);
  const client = await openTokenClient(config, io.env, {
    nowMs: io.clocks.nowMs,
    onWait: io.stderr,
  });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
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

export async function tokenCreate(argv: readonly string[], io: CliIo): Promise<number> {
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
  const { token, info } = await withTokens(values, io, (c) => c.create({ subject, tenant, roles }));
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

export async function tokenList(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, { ...STORE_OPTIONS, tenant: { type: "string" } }, 0);
  const tenant = values.tenant === undefined ? "*" : field("--tenant", TenantSchema, values.tenant);
  const tokens = await withTokens(values, io, (c) => c.list(tenant));
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

export async function tokenRevoke(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, STORE_OPTIONS, 1);
  const id = positionals[0];
  if (id === undefined) throw new UsageError("ID", "the token id to revoke is required");
  const revoked = await withTokens(values, io, (c) => c.revoke(id));
  if (values.json === true) io.stdout(`${JSON.stringify({ revoked, id })}\n`);
  else io.stderr(revoked ? `revoked ${id}\n` : `no active token ${id}\n`);
  return revoked ? EXIT_OK : EXIT_FAILURE;
}
