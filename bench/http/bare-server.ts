/**
 * The peer of bench/http.ts: a bare `Bun.serve` on loopback that answers each path with the
 * bytes (and content type) vltair answered for it, so the difference is vltair's own work.
 *
 *   bun bench/http/bare-server.ts ANSWERS.json
 */
import * as fs from "node:fs";
import process from "node:process";

const file = process.argv[2];
if (file === undefined) throw new Error("usage: bare-server.ts ANSWERS.json");
const answers = JSON.parse(fs.readFileSync(file, "utf8")) as Record<
  string,
  { bytes: string; type: string }
>;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    const url = new URL(request.url);
    const answer = answers[url.pathname];
    // Read the body, as vltair does, so both sides pay for receiving it.
    if (request.body !== null) await request.arrayBuffer();
    if (answer === undefined) return new Response("not found", { status: 404 });
    return new Response(answer.bytes, { headers: { "content-type": answer.type } });
  },
});
console.log(JSON.stringify({ ready_url: `http://127.0.0.1:${server.port}`, url: "bare" }));
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
