import { describe, expect, test } from "bun:test";
import {
  CONFIG_FIELDS,
  CONFIG_KEYS,
  type ConfigSources,
  isLoopbackHost,
  loadConfig,
} from "../../../src/config/mod.ts";
import { VltairError } from "../../../src/core/mod.ts";

function sources(overrides: Partial<ConfigSources> = {}, files: Record<string, string> = {}) {
  return {
    flags: {},
    env: {},
    readFile: (path: string) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: ${path}`);
      return text;
    },
    ...overrides,
  } satisfies ConfigSources;
}

function rejection(input: ConfigSources): VltairError {
  try {
    loadConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(VltairError);
    return error as VltairError;
  }
  throw new Error("expected loadConfig to throw");
}

describe("loadConfig precedence", () => {
  test("defaults come from the field table", () => {
    const { config, origins } = loadConfig(sources());
    expect(config.host).toBe("127.0.0.1");
    expect(config.port).toBe(7700);
    expect(config.data_dir).toBe("./.vltair");
    expect(config.no_auth).toBe(false);
    expect(config.admin_token).toBeNull();
    for (const key of CONFIG_KEYS) {
      expect(config[key]).toEqual(CONFIG_FIELDS[key].default as never);
      expect(origins[key]).toBe("default");
    }
  });

  test("file < env < flag, each layer overriding the one below", () => {
    const file = JSON.stringify({ port: 1111, host: "127.0.0.2", log_level: "warn" });
    const input = sources(
      {
        configFile: "/etc/v.json",
        env: { VLTAIR_PORT: "2222", VLTAIR_HOST: "127.0.0.3" },
        flags: { port: "3333" },
      },
      { "/etc/v.json": file },
    );
    const { config, origins } = loadConfig(input);
    expect(config.port).toBe(3333);
    expect(origins.port).toBe("flag");
    expect(config.host).toBe("127.0.0.3");
    expect(origins.host).toBe("env");
    expect(config.log_level).toBe("warn");
    expect(origins.log_level).toBe("file");
  });

  test("VLTAIR_CONFIG names the file when --config is absent", () => {
    const input = sources({ env: { VLTAIR_CONFIG: "/c.json" } }, { "/c.json": '{"port": 9}' });
    expect(loadConfig(input).config.port).toBe(9);
  });

  test("booleans from env and flags", () => {
    expect(loadConfig(sources({ env: { VLTAIR_NO_AUTH: "true" } })).config.no_auth).toBe(true);
    expect(loadConfig(sources({ env: { VLTAIR_NO_AUTH: "0" } })).config.no_auth).toBe(false);
    expect(loadConfig(sources({ flags: { no_auth: true } })).config.no_auth).toBe(true);
  });

  test("port 0 and the limits' edges are accepted", () => {
    expect(loadConfig(sources({ flags: { port: "0" } })).config.port).toBe(0);
    expect(loadConfig(sources({ flags: { port: "65535" } })).config.port).toBe(65535);
    expect(loadConfig(sources({ flags: { body_bytes_max: "1024" } })).config.body_bytes_max).toBe(
      1024,
    );
  });

  test("an empty variable counts as unset", () => {
    const { config, origins } = loadConfig(
      sources({ env: { VLTAIR_PORT: "", VLTAIR_ADMIN_TOKEN: "", VLTAIR_CONFIG: "" } }),
    );
    expect(config.port).toBe(7700);
    expect(origins.port).toBe("default");
    expect(config.admin_token).toBeNull();
  });

  test("unknown VLTAIR_ variables give a warning, not an error", () => {
    const { warnings } = loadConfig(sources({ env: { VLTAIR_PROT: "1", VLTAIR_SLOW: "1" } }));
    expect(warnings).toEqual(["unknown environment variable VLTAIR_PROT ignored"]);
  });
});

describe("loadConfig rejection", () => {
  const cases: [string, ConfigSources, string, string][] = [
    ["port above range (flag)", sources({ flags: { port: "70000" } }), "port", "--port"],
    ["port one past the limit", sources({ flags: { port: "65536" } }), "port", "--port"],
    ["port not a number (env)", sources({ env: { VLTAIR_PORT: "http" } }), "port", "VLTAIR_PORT"],
    ["negative port", sources({ flags: { port: "-1" } }), "port", "--port"],
    ["fractional port", sources({ flags: { port: "1.5" } }), "port", "--port"],
    ["bad log level", sources({ flags: { log_level: "loud" } }), "log_level", "--log-level"],
    ["bad boolean", sources({ env: { VLTAIR_NO_AUTH: "maybe" } }), "no_auth", "VLTAIR_NO_AUTH"],
    [
      "body limit below 1 KiB",
      sources({ flags: { body_bytes_max: "1023" } }),
      "body_bytes_max",
      "--body-bytes-max",
    ],
    ["empty host", sources({ flags: { host: "" } }), "host", "--host"],
    [
      "a URL in http_allowed_hosts",
      sources({ flags: { http_allowed_hosts: "api.example.com,https://x.org" } }),
      "http_allowed_hosts",
      "--http-allowed-hosts",
    ],
    [
      "a wildcard over addresses in http_allowed_hosts",
      sources({ env: { VLTAIR_HTTP_ALLOWED_HOSTS: "*.0.1" } }),
      "http_allowed_hosts",
      "VLTAIR_HTTP_ALLOWED_HOSTS",
    ],
    [
      "short admin token",
      sources({ env: { VLTAIR_ADMIN_TOKEN: "short" } }),
      "admin_token",
      "VLTAIR_ADMIN_TOKEN",
    ],
    [
      "--no-auth on a public address",
      sources({ flags: { no_auth: true, host: "0.0.0.0" } }),
      "no_auth",
      "flag",
    ],
    [
      "unknown key in the file",
      sources({ configFile: "/c.json" }, { "/c.json": '{"prot": 1}' }),
      "prot",
      "config file /c.json",
    ],
    [
      "wrong type in the file",
      sources({ configFile: "/c.json" }, { "/c.json": '{"port": "7700"}' }),
      "port",
      "config file /c.json",
    ],
    [
      "file is not JSON",
      sources({ configFile: "/c.json" }, { "/c.json": "{port: 1" }),
      "config",
      "config file /c.json",
    ],
    [
      "file is not an object",
      sources({ configFile: "/c.json" }, { "/c.json": "[1]" }),
      "config",
      "config file /c.json",
    ],
    ["file missing", sources({ configFile: "/nope.json" }), "config", "config file /nope.json"],
    [
      "admin token in a file",
      sources({ configFile: "/c.json" }, { "/c.json": '{"admin_token": "0123456789abcdefgh"}' }),
      "admin_token",
      "config file /c.json",
    ],
  ];
  for (const [name, input, field, source] of cases) {
    test(name, () => {
      const error = rejection(input);
      expect(error.code).toBe("config_invalid");
      expect(error.details.field).toBe(field);
      expect(error.details.source).toBe(source);
      expect(error.message.startsWith(`${field}: `)).toBe(true);
    });
  }
});

describe("isLoopbackHost", () => {
  test.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["localhost", true],
    ["::1", true],
    ["[::1]", true],
    ["0.0.0.0", false],
    ["192.168.1.2", false],
    ["::", false],
    ["example.com", false],
  ])("%s -> %p", (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
