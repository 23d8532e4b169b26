/**
 * A run's network allowlist end to end, in both modes (bubblewrap, and unshare + the init
 * without it): the run reaches an allowed host through the server's proxy (plain HTTP and
 * CONNECT), is refused another host (counted in `network_refused`), and reaches no IP directly.
 * Loopback servers stand in for the hosts through the test resolver; nothing leaves the machine
 * (the direct attempt goes to TEST-NET-1, which has no route inside the run anyway).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { runSandboxed, type SandboxOptions, type SandboxResult } from "../../../src/sandbox/mod.ts";
import { type Area, makeArea, modeCaps, sandboxModes } from "./harness.ts";
import { disposeServers, sandboxServer } from "./server-harness.ts";

const linux = process.platform === "linux";

/** A loopback HTTP server answering `<name> <method> <path>`. */
async function origin(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    res.setHeader("Connection", "close");
    res.end(`${name} ${req.method} ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * The run's client, in Perl (perl-base is on every Debian): each line is one attempt and what
 * came back. argv: the allowed origin's real port (for the direct attempt).
 */
const CLIENT = String.raw`
$| = 1; use IO::Socket::INET;
my ($px) = $ENV{HTTP_PROXY} =~ m{//([^/]+)};
sub talk { my ($first, $then) = @_;
  my $s = IO::Socket::INET->new(PeerAddr => $px, Timeout => 5) or return "no proxy: $!";
  print $s $first;
  if (defined $then) { my $st = <$s>; $st =~ s/\s+$//; return "tunnel refused: $st" unless $st =~ / 200 /;
    while (my $l = <$s>) { last if $l eq "\r\n" } print $s $then }
  local $/; my $all = <$s>; my ($status) = $all =~ /^HTTP\S+ (\d+)/;
  my ($body) = $all =~ /\r\n\r\n(.*)$/s; $body =~ s/\s+$//; return "$status $body" }
print "http-a: ", talk("GET http://a.test/x?q=1 HTTP/1.1\r\nHost: a.test\r\n\r\n"), "\n";
print "connect-a: ", talk("CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n",
  "GET /y HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"), "\n";
print "http-b: ", talk("GET http://b.test/ HTTP/1.1\r\nHost: b.test\r\n\r\n"), "\n";
print "connect-b: ", talk("CONNECT b.test:443 HTTP/1.1\r\n\r\n", "x"), "\n";
print "connect-ip: ", talk("CONNECT 127.0.0.1:$ARGV[0] HTTP/1.1\r\n\r\n", "x"), "\n";
my $d = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]", Timeout => 3);
print "direct-loopback: ", ($d ? "connected" : "failed"), "\n";
my $e = IO::Socket::INET->new(PeerAddr => "192.0.2.1:80", Timeout => 3);
print "direct-ip: ", ($e ? "connected" : "failed"), "\n";
`;

for (const mode of sandboxModes("network-allow.test.ts")) {
  const caps = await modeCaps(mode);
  const netns = linux && mode.available && (caps.bubblewrap.available || caps.unshare.available);
  const usable = netns && caps.perl.available;
  if (linux && mode.available && !usable)
    console.log(`skip [${mode.name}]: the allowlist needs a network namespace and perl`);

  describe(`network allowlist [${mode.name}]`, () => {
    let area: Area;
    let a: { server: Server; port: number };
    let b: { server: Server; port: number };
    let options: (extra?: Partial<SandboxOptions>) => SandboxOptions;
    beforeAll(async () => {
      area = await makeArea(mode);
      a = await origin("a");
      b = await origin("b");
      options = (extra = {}) =>
        area.options({
          networkAllowDomains: ["a.test", "b.test", "*.c.test"],
          networkResolve: { "a.test": `127.0.0.1:${a.port}`, "b.test": `127.0.0.1:${b.port}` },
          ...extra,
        });
    });
    afterAll(async () => {
      a.server.close();
      b.server.close();
      await area.dispose();
      await disposeServers();
    });

    test.if(usable)(
      "reaches a.test through the proxy, is refused b.test, reaches no IP directly",
      async () => {
        const logged: string[] = [];
        const result = await runSandboxed(
          {
            cmd: ["perl", "-e", CLIENT, String(a.port)],
            network: { allow: ["a.test"] },
          },
          options({ logger: (_level, event) => logged.push(event) }),
        );
        expect(result.stderr).toBe("");
        expect(result.stdout.split("\n")).toEqual([
          "http-a: 200 a GET /x?q=1",
          "connect-a: 200 a GET /y",
          "http-b: 403 vltair proxy: b.test is not allowed (host_not_allowed)",
          "connect-b: tunnel refused: HTTP/1.1 403 Forbidden",
          "connect-ip: tunnel refused: HTTP/1.1 403 Forbidden",
          "direct-loopback: failed",
          "direct-ip: failed",
          "",
        ]);
        expect(result.status).toBe("OK");
        expect(result.network_refused).toBe(3);
        expect(logged.filter((e) => e === "sandbox.network.refused")).toHaveLength(3);
        expect(result.enforced.network).toMatchObject({
          requested: ["a.test"],
          applied: true,
          mechanism: `${caps.bubblewrap.available ? "bubblewrap" : "unshare"}_netns+proxy`,
        });
      },
      20_000,
    );

    test.if(usable)("the run sees the proxy variables", async () => {
      const result = await runSandboxed(
        {
          cmd: ["sh", "-c", 'echo "$HTTP_PROXY $HTTPS_PROXY $http_proxy $https_proxy"'],
          network: { allow: ["*.c.test"] },
        },
        options(),
      );
      expect(result.stdout).toBe(`${Array(4).fill("http://127.0.0.1:3128").join(" ")}\n`);
      expect(result.network_refused).toBe(0);
    });

    test.if(usable)("a command that is not found is still 127", async () => {
      const result = await runSandboxed(
        { cmd: ["vltair-no-such-command"], network: { allow: ["a.test"] } },
        options(),
      );
      expect(result).toMatchObject({ status: "FAILED", rc: 127 });
    });

    test.if(usable)(
      "over HTTP: the config's ceiling and resolver apply; a host outside the ceiling is 403",
      async () => {
        const server = sandboxServer({
          sandbox_disable: mode.disable.join(","),
          sandbox_network_allow_domains: "a.test,b.test",
          sandbox_network_resolve: JSON.stringify({
            "a.test": `127.0.0.1:${a.port}`,
            "b.test": `127.0.0.1:${b.port}`,
          }),
        });
        const token = await server.token("acme");
        const exec = (body: unknown) =>
          server.json<SandboxResult>("/v1/sandbox/exec", {
            method: "POST",
            body: JSON.stringify(body),
            token,
          });
        const result = await exec({
          cmd: ["perl", "-e", CLIENT, String(a.port)],
          network: { allow: ["a.test"] },
        });
        expect(result.stdout).toStartWith("http-a: 200 a GET /x?q=1\nconnect-a: 200 a GET /y\n");
        expect(result.network_refused).toBe(3);
        const denied = await server.errorOf(
          "/v1/sandbox/exec",
          {
            method: "POST",
            body: JSON.stringify({ cmd: ["true"], network: { allow: ["a.test", "c.test"] } }),
            token,
          },
          403,
        );
        expect(denied).toMatchObject({
          code: "forbidden",
          details: { field: "network.allow.1", issue: "not_permitted" },
        });
        if (Bun.which("curl") === null) {
          console.log(`skip [${mode.name}]: curl through HTTP_PROXY: curl is not installed`);
          return;
        }
        const curl = await exec({
          cmd: [
            "sh",
            "-c",
            "curl -sS -m 5 http://a.test/c1; curl -sS -m 5 -p http://a.test/c2; curl -s -m 5 -o /dev/null -w ' %{http_code}' http://b.test/",
          ],
          network: { allow: ["a.test"] },
        });
        expect(curl.stdout).toBe("a GET /c1a GET /c2 403");
        expect(curl.network_refused).toBe(1);
      },
      20_000,
    );

    test.if(linux && mode.available)(
      "without a network namespace the run is refused, allow_partial or not",
      async () => {
        const result = await runSandboxed(
          { cmd: ["true"], network: { allow: ["a.test"] }, allow_partial: true },
          options({ disable: ["bubblewrap", "unshare"], allowPartial: true, require: [] }),
        );
        expect(result.status).toBe("SANDBOX_DENIED");
        expect(result.reason).toStartWith("required_not_applied:");
        expect(result.reason).toContain("network: no network namespace");
        expect(result.network_refused).toBeNull();
      },
    );
  });
}

describe("network allowlist requests", () => {
  let area: Area;
  beforeAll(async () => {
    area = await makeArea();
  });
  afterAll(async () => {
    await area.dispose();
  });
  test.each([
    [["a.test"], [], "network.allow.0"],
    [["a.test", "x.b.test"], ["a.test", "b.test"], "network.allow.1"],
    [["*.b.test"], ["b.test"], "network.allow.0"],
    [["b.test"], ["*.b.test"], "network.allow.0"],
  ])("%j outside the ceiling %j is 403 forbidden naming %s", async (allow, ceiling, field) => {
    const run = runSandboxed(
      { cmd: ["true"], network: { allow } },
      area.options({ networkAllowDomains: ceiling }),
    );
    await expect(run).rejects.toMatchObject({
      code: "forbidden",
      details: { field, issue: "not_permitted" },
    });
  });
  test.each([
    [{ allow: [] }],
    [{ allow: ["127.0.0.1"] }],
    [{ allow: ["*"] }],
    [{ allow: ["a..test"] }],
    [{ allow: ["a.test"], deny: ["b.test"] }],
  ])("network %j is 400 validation_failed", async (network) => {
    await expect(runSandboxed({ cmd: ["true"], network }, area.options())).rejects.toMatchObject({
      code: "validation_failed",
    });
  });
});
