/**
 * A fake OpenAI-compatible model server on loopback for tests: each `POST /chat/completions`
 * is recorded (headers and body) and answered by the test's script, so tests can count model
 * calls and check what was sent.
 */
import { afterAll, afterEach } from "bun:test";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Timers } from "../../src/orchestrator/mod.ts";
import { type TestApp, testApp } from "./app.ts";

/** One recorded request. */
export interface FakeLlmRequest {
  headers: http.IncomingHttpHeaders;
  // biome-ignore lint/suspicious/noExplicitAny: the JSON body a test inspects
  body: any;
}

/** What the script answers: a status and a JSON body (a chat completion, or an error). */
export type FakeLlmAnswer = { status?: number; body: unknown; delayMs?: number };

/** A chat completion body with `content` (or tool calls) and usage. */
export function completion(
  content: string | null,
  usage = { prompt_tokens: 10, completion_tokens: 5 },
  toolCalls?: { id: string; name: string; arguments: unknown }[],
): unknown {
  const message: Record<string, unknown> = { role: "assistant", content };
  if (toolCalls !== undefined) {
    message.tool_calls = toolCalls.map((t) => ({
      id: t.id,
      type: "function",
      function: { name: t.name, arguments: JSON.stringify(t.arguments) },
    }));
  }
  return {
    id: "chatcmpl-test",
    object: "chat.completion",
    model: "fake-model",
    choices: [{ index: 0, message, finish_reason: toolCalls ? "tool_calls" : "stop" }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

/** A started fake server: its base URL (`…/v1`), the requests so far, and close(). */
export interface FakeLlm {
  baseUrl: string;
  requests: FakeLlmRequest[];
  close(): Promise<void>;
}

/** Starts a fake server answering request n (0-based) with `script(request, n)`. */
export async function startFakeLlm(
  script: (request: FakeLlmRequest, n: number) => FakeLlmAnswer,
): Promise<FakeLlm> {
  const requests: FakeLlmRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: unknown = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        body = null;
      }
      const request = { headers: req.headers, body };
      requests.push(request);
      const answer = script(request, requests.length - 1);
      const send = () => {
        res.writeHead(answer.status ?? 200, { "content-type": "application/json" });
        res.end(JSON.stringify(answer.body));
      };
      if (answer.delayMs === undefined) send();
      else setTimeout(send, answer.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Registers the hooks of a test file that runs apps against fake model servers and returns its
 * `setup(script, timers?)`: a fake server answering with `script`, and an app whose provider
 * `local` is `provider(baseUrl)`. Every server is closed after its test, every app after the file.
 */
export function fakeLlmHarness(
  provider: (baseUrl: string) => Record<string, unknown>,
  env: Record<string, string> = {},
): (
  script: (n: number, request: FakeLlmRequest) => FakeLlmAnswer,
  timers?: Timers,
) => Promise<{ t: TestApp; fake: FakeLlm }> {
  const apps: TestApp[] = [];
  const fakes: FakeLlm[] = [];
  afterEach(async () => {
    for (const fake of fakes.splice(0)) await fake.close();
  });
  afterAll(async () => {
    for (const t of apps) await t.app.close();
  });
  return async (script, timers) => {
    const fake = await startFakeLlm((request, n) => script(n, request));
    fakes.push(fake);
    const providers = JSON.stringify({ local: provider(fake.baseUrl) });
    const t = testApp(
      { llm_providers: providers },
      timers === undefined ? { env } : { env, timers },
    );
    apps.push(t);
    return { t, fake };
  };
}
