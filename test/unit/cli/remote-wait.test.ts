import { describe, expect, test } from "bun:test";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { openContextClient } from "../../../src/cli/context-client.ts";
import { loadConfig } from "../../../src/config/mod.ts";

/** A server that answers 503 recovering until `readyAfter` requests to /v1/ready have come. */
async function recoveringServer(readyAfter: number) {
  let readyProbes = 0;
  const server = http.createServer((req, res) => {
    const ready = readyProbes >= readyAfter;
    if (req.url === "/v1/ready") readyProbes++;
    if (!ready) {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
      res.end(
        JSON.stringify({
          error: { code: "unavailable", message: "recovering", details: { reason: "recovering" } },
        }),
      );
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify(
        req.url === "/v1/ready"
          ? { status: "ready" }
          : { results: [], strategy_used: "sparse", took_ms: 0, wal_index: 3 },
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("a command against a recovering server", () => {
  test("waits for /v1/ready, says so once, then answers", async () => {
    const server = await recoveringServer(3);
    const lines: string[] = [];
    try {
      const { config } = loadConfig({ flags: {}, env: {}, readFile: () => "" });
      const client = await openContextClient(
        config,
        { VLTAIR_URL: server.url, VLTAIR_TOKEN: "t" },
        {
          create: false,
          monotonicMs: () => performance.now(),
          nowMs: Date.now,
          onWait: (line) => lines.push(line),
        },
      );
      const answer = await client.search({ query: "x", k: 1, strategy: "sparse" });
      expect(answer.wal_index).toBe(3);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain("is recovering its data; waiting up to 60 s");
    } finally {
      await server.close();
    }
  });
});
