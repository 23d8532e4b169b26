import { afterEach, describe, expect, test } from "bun:test";
import {
  createHashEmbedder,
  createOpenAiEmbedder,
  hashEmbed,
  type OpenAiEmbedderOptions,
} from "../../../../src/context/embed/mod.ts";
import { VltairError } from "../../../../src/core/mod.ts";

const dot = (a: Float32Array, b: Float32Array) =>
  a.reduce((s, x, i) => s + x * (b[i] as number), 0);
const norm = (a: Float32Array) => Math.sqrt(dot(a, a));

describe("hash embedder", () => {
  test("deterministic, unit length, fixed dimension", async () => {
    const embedder = createHashEmbedder({ dimensions: 384 });
    const [a, b] = await embedder.embed([
      "parseConfig reads the file",
      "parseConfig reads the file",
    ]);
    if (a === undefined || b === undefined) throw new Error("two vectors expected");
    expect(a.length).toBe(384);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(norm(a)).toBeCloseTo(1, 5);
    expect(Buffer.from(hashEmbed("x y", 64).buffer).toString("hex")).toBe(
      Buffer.from(hashEmbed("x y", 64).buffer).toString("hex"),
    );
  });

  test("texts sharing words are closer than unrelated ones (lexical, not semantic)", () => {
    const q = hashEmbed("read the config file", 384);
    const near = hashEmbed("function readConfigFile reads the config file from disk", 384);
    const far = hashEmbed("gradient descent optimiser learning rate", 384);
    expect(dot(q, near)).toBeGreaterThan(dot(q, far) + 0.2);
  });

  test("NFKC and case do not change the vector", () => {
    expect(hashEmbed("ＡＢＣ Déjà", 32)).toEqual(hashEmbed("abc déjà", 32));
  });

  test("a text without words still gives a unit vector", () => {
    const v = hashEmbed("  ...  ", 16);
    expect(norm(v)).toBeCloseTo(1, 6);
  });
});

describe("openai-compatible embedder against a fake server on 127.0.0.1", () => {
  let server: ReturnType<typeof Bun.serve> | null = null;
  afterEach(() => {
    server?.stop(true);
    server = null;
  });

  function fake(
    handler: (
      body: { input: string[]; model: string; dimensions: number },
      n: number,
    ) => Response | Promise<Response>,
  ) {
    let calls = 0;
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        calls += 1;
        return handler(
          (await request.json()) as { input: string[]; model: string; dimensions: number },
          calls,
        );
      },
    });
    return { url: `http://127.0.0.1:${server.port}`, calls: () => calls };
  }
  const ok = (input: string[], dims: number) =>
    Response.json({
      data: input
        .map((_, index) => ({
          index,
          embedding: Array.from({ length: dims }, (_, i) => (i === index % dims ? 2 : 0)),
        }))
        .reverse(),
    });
  const options = (
    baseUrl: string,
    extra: Partial<OpenAiEmbedderOptions> = {},
  ): OpenAiEmbedderOptions => ({
    baseUrl,
    model: "m",
    dimensions: 4,
    batchSize: 2,
    timeoutMs: 2000,
    retries: 2,
    backoffMs: 1,
    apiKey: null,
    ...extra,
  });

  test("batches, keeps order by index, normalises", async () => {
    const srv = fake((body) => ok(body.input, body.dimensions));
    const vectors = await createOpenAiEmbedder(options(srv.url)).embed(["a", "b", "c"]);
    expect(srv.calls()).toBe(2);
    expect(vectors.map((v) => Array.from(v))).toEqual([
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [1, 0, 0, 0],
    ]);
  });

  test("retries 5xx and 429, then succeeds", async () => {
    const srv = fake((body, n) =>
      n === 1
        ? new Response("busy", { status: 503 })
        : n === 2
          ? new Response("slow", { status: 429 })
          : ok(body.input, 4),
    );
    const vectors = await createOpenAiEmbedder(options(srv.url)).embed(["a"]);
    expect(srv.calls()).toBe(3);
    expect(vectors).toHaveLength(1);
  });

  const failures: [
    string,
    (body: { input: string[] }, n: number) => Response | Promise<Response>,
    number,
  ][] = [
    ["persistent 500 after retries+1 attempts", () => new Response("x", { status: 500 }), 3],
    ["a 400 is not retried", () => new Response("bad", { status: 400 }), 1],
    ["wrong dimension", (body) => ok(body.input, 3), 1],
    ["malformed JSON", () => new Response("not json"), 1],
    ["too few vectors", () => Response.json({ data: [] }), 1],
    ["a timeout", () => new Promise<Response>(() => {}), 3],
  ];
  for (const [name, handler, attempts] of failures) {
    test(`${name} -> embedding_unavailable`, async () => {
      const srv = fake(handler);
      const embedder = createOpenAiEmbedder(options(srv.url, { timeoutMs: 100 }));
      try {
        await embedder.embed(["a"]);
        throw new Error("expected embedding_unavailable");
      } catch (error) {
        expect(error).toBeInstanceOf(VltairError);
        expect((error as VltairError).code).toBe("embedding_unavailable");
        expect((error as VltairError).status).toBe(503);
      }
      expect(srv.calls()).toBe(attempts);
    });
  }

  test("a refused connection -> embedding_unavailable", async () => {
    const srv = fake(() => new Response("x"));
    server?.stop(true);
    server = null;
    await expect(createOpenAiEmbedder(options(srv.url)).embed(["a"])).rejects.toMatchObject({
      code: "embedding_unavailable",
    });
  });
});
