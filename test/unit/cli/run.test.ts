import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { HELP } from "../../../src/cli/help.ts";
import { CONFIG_FIELDS, CONFIG_KEYS } from "../../../src/config/mod.ts";
import { VERSION } from "../../../src/version.ts";
import { cli } from "../../support/cli.ts";
import { tempDir } from "../../support/tmp.ts";

describe("vltair help and version", () => {
  test("--help on every command and subcommand exits 0 with its usage", async () => {
    for (const argv of [
      ["--help"],
      ["help"],
      ["serve", "--help"],
      ["version", "-h"],
      ["token", "--help"],
      ["token", "create", "--help"],
      ["token", "list", "--help"],
      ["token", "revoke", "--help"],
    ]) {
      const { code, stdout } = await cli(argv);
      expect(code).toBe(0);
      expect(stdout).toContain("Usage: vltair");
    }
  });

  test("no command is a usage error (exit 2) that prints the overview", async () => {
    const { code, stdout } = await cli([]);
    expect(code).toBe(2);
    expect(stdout).toContain("Commands:");
  });

  test("serve --help lists every flag-settable option with its env name and default", () => {
    const text = HELP.serve?.() ?? "";
    for (const key of CONFIG_KEYS) {
      const spec = CONFIG_FIELDS[key];
      if (spec.flag === null) continue;
      expect(text).toContain(`--${spec.flag}`);
      expect(text).toContain(spec.env);
    }
  });

  test("version prints text and JSON", async () => {
    expect((await cli(["version"])).stdout).toStartWith(`vltair ${VERSION} (bun `);
    const json = JSON.parse((await cli(["version", "--json"])).stdout) as Record<string, string>;
    expect(json.version).toBe(VERSION);
    expect(json.runtime).toStartWith("bun ");
  });

  test("--version and -V are `version`, flags included", async () => {
    for (const flag of ["--version", "-V"]) {
      const text = await cli([flag]);
      expect(text.code).toBe(0);
      expect(text.stdout).toStartWith(`vltair ${VERSION} (`);
    }
    expect(JSON.parse((await cli(["--version", "--json"])).stdout).version).toBe(VERSION);
  });

  test("the version matches package.json", () => {
    const pkg = JSON.parse(
      fs.readFileSync(path.join(import.meta.dirname, "../../../package.json"), "utf8"),
    ) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});

describe("usage errors exit 2 naming the field", () => {
  const cases: [string[], string][] = [
    [["bogus"], "unknown command 'bogus'"],
    [["serve", "--bogus"], "unknown flag --bogus"],
    [["serve", "--port"], "flag --port needs a value"],
    [["serve", "--port", "99999"], "port: must be <= 65535"],
    [["serve", "--port", "abc"], "port: must be an integer"],
    [["serve", "--no-auth", "--host", "0.0.0.0"], "no_auth: is only allowed on a loopback host"],
    [["serve", "--no-auth=maybe"], "flag --no-auth takes true or false, got 'maybe'"],
    [["serve", "--vector-thread=2"], "flag --vector-thread takes true or false"],
    [["serve", "--help=false", "--json"], "unknown flag --json"],
    [
      ["serve", "--data-dir", "-x"],
      "flag --data-dir needs a value (for one starting with '-', write --data-dir=-VALUE)",
    ],
    [["serve", "extra"], "unexpected argument 'extra'"],
    [["version", "--bogus"], "unknown flag --bogus"],
    [["token", "create", "--role", "reader"], "--tenant is required"],
    [["token", "create", "--tenant", "t"], "--role is required"],
    [["token", "create", "--tenant", "Bad Tenant", "--role", "reader"], "--tenant must match"],
    [["token", "create", "--tenant", "t", "--role", "root"], "--role must be one of"],
    [["token", "revoke"], "the token id to revoke is required"],
  ];
  for (const [argv, message] of cases) {
    test(argv.join(" "), async () => {
      const { code, stderr } = await cli(argv);
      expect(code).toBe(2);
      expect(stderr).toContain(message);
    });
  }

  test("--json adds a machine-readable error", async () => {
    const { code, stdout } = await cli(["token", "list", "--json", "--bogus"]);
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toMatchObject({ error: { code: "usage", field: "--bogus" } });
  });

  test("an invalid env value is exit 2 naming the variable", async () => {
    const { code, stderr } = await cli(["token", "list"], { VLTAIR_TOKENS_MAX: "many" });
    expect(code).toBe(2);
    expect(stderr).toContain(
      "tokens_max: must be an integer (a count, 1 to 1000000) (from VLTAIR_TOKENS_MAX)",
    );
  });
});

describe("vltair token", () => {
  test("create prints the token once, list never shows it, revoke removes it", async () => {
    const dir = tempDir();
    const created = await cli([
      "token",
      "create",
      "--tenant",
      "acme",
      "--role",
      "reader,writer",
      "--subject",
      "ci",
      "--data-dir",
      dir,
      "--json",
    ]);
    expect(created.code).toBe(0);
    const info = JSON.parse(created.stdout) as {
      token: string;
      id: string;
      roles: string[];
      tenant: string;
      subject: string;
    };
    expect(info).toMatchObject({ tenant: "acme", subject: "ci", roles: ["reader", "writer"] });
    expect(info.token).toStartWith("vlt_");
    // Tokens are records of the WAL (the hash only) and its snapshots.
    const stored = ["wal", "snapshots"]
      .flatMap((d) => fs.readdirSync(path.join(dir, d)).map((n) => path.join(dir, d, n)))
      .map((f) => fs.readFileSync(f, "latin1"))
      .join("");
    expect(stored).toContain(info.id);
    expect(stored).not.toContain(info.token);

    const plain = await cli([
      "token",
      "create",
      "--tenant",
      "other",
      "--role",
      "admin",
      "--data-dir",
      dir,
    ]);
    expect(plain.stdout).toMatch(/^vlt_\S+\n$/);
    expect(plain.stderr).toContain("shown only once");

    const list = await cli(["token", "list", "--tenant", "acme", "--data-dir", dir, "--json"]);
    const tokens = (JSON.parse(list.stdout) as { tokens: { id: string }[] }).tokens;
    expect(tokens.map((t) => t.id)).toEqual([info.id]);
    expect(list.stdout).not.toContain("vlt_");

    const revoked = await cli(["token", "revoke", info.id, "--data-dir", dir, "--json"]);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toEqual({ revoked: true, id: info.id });
    const again = await cli(["token", "revoke", info.id, "--data-dir", dir]);
    expect(again.code).toBe(1);
    const text = await cli(["token", "list", "--data-dir", dir]);
    expect(text.stdout).toContain(`${info.id}  acme  reader,writer  ci`);
    expect(text.stdout).toContain("revoked 2026-01-01T00:00:00.000Z");
  });

  test("the data dir comes from VLTAIR_DATA_DIR when no flag is given", async () => {
    const dir = tempDir();
    const created = await cli(["token", "create", "--tenant", "t", "--role", "reader"], {
      VLTAIR_DATA_DIR: dir,
    });
    expect(created.code).toBe(0);
    expect(fs.readdirSync(path.join(dir, "wal")).length).toBeGreaterThan(0);
  });
});

describe("vltair exec", () => {
  test("runs a command and prints the [sandbox] header first", async () => {
    const workspace = tempDir();
    const { code, stdout } = await cli([
      "exec",
      "--workspace",
      workspace,
      "--",
      "sh",
      "-c",
      "echo hello",
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^\[sandbox\] traceId=[0-9a-f]{32} duration_ms=\d+ status=OK rc=0\nhello\n$/,
    );
  });

  test("a failing command exits 1; --json prints the result; TIMEOUT is rc 124", async () => {
    const workspace = tempDir();
    const failed = await cli([
      "exec",
      "--workspace",
      workspace,
      "--json",
      "--",
      "sh",
      "-c",
      "exit 4",
    ]);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ status: "FAILED", rc: 4 });
    const timeout = await cli([
      "exec",
      "--workspace",
      workspace,
      "--wall-ms",
      "100",
      "--json",
      "--",
      "sleep",
      "5",
    ]);
    expect(JSON.parse(timeout.stdout)).toMatchObject({ status: "TIMEOUT", rc: 124 });
  });

  test("usage errors exit 2 naming the flag", async () => {
    const cases: [string[], string][] = [
      [["exec"], "the command to run is required"],
      [
        ["exec", "--wall-ms", "soon", "--", "true"],
        "--wall-ms must be an integer in 1..3600000, got 'soon'",
      ],
      [
        ["exec", "--wall-ms", "-5", "--", "true"],
        "--wall-ms must be an integer in 1..3600000, got '-5'",
      ],
      [["exec", "--wall-ms=-5", "--", "true"], "--wall-ms must be an integer in 1..3600000"],
      [
        ["exec", "--wall-ms", "99999999", "--", "true"],
        "--wall-ms must be an integer in 1..3600000, got '99999999'",
      ],
      [["exec", "--pids", "0", "--", "true"], "--pids must be an integer in 1.."],
      [["exec", "--network", "maybe", "--", "true"], "--network must be deny or allow"],
      [["exec", "--env", "NOEQUALS", "--", "true"], "--env takes NAME=VALUE"],
      [
        ["exec", "--sandbox-limits", '{"wall_ms_max":0}', "--", "true"],
        "sandbox_limits.wall_ms_max",
      ],
      [["exec", "--sandbox-limits", '{"nope":1}', "--", "true"], "sandbox_limits.nope"],
      [["exec", "--sandbox-disable", "magic", "--", "true"], "sandbox_disable"],
    ];
    for (const [argv, message] of cases) {
      const { code, stderr } = await cli(argv);
      expect(code).toBe(2);
      expect(stderr).toContain(message);
    }
  });
});
