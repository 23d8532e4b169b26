import { afterEach, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { hashEmbedWith } from "../../../../src/context/embed/hash-embedder.ts";
import {
  createHashEmbedder,
  createOpenAiEmbedder,
  hashEmbed,
  hashEmbedV1,
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

  test("NFKC and the case of a one-word identifier do not change the vector", () => {
    expect(hashEmbed("ＡＢＣ Déjà", 32)).toEqual(hashEmbed("abc déjà", 32));
    expect(hashEmbed("PARSE Config", 64)).toEqual(hashEmbed("parse config", 64));
  });

  test("identifiers meet the words they are made of (hash-v2); hash-v1 kept them whole", () => {
    const query = "parse the keyword arguments";
    const code = "function parseKeywordArguments(kwargs) { return kwargs; }";
    const unrelated = "function renderWidgetTree(node) { return node; }";
    const margin = (embed: (text: string, dimensions: number) => Float32Array) =>
      dot(embed(query, 384), embed(code, 384)) - dot(embed(query, 384), embed(unrelated, 384));
    // Measured: hash-v2 0.76, hash-v1 0.30 (its only link is shared trigrams).
    expect(margin(hashEmbed)).toBeGreaterThan(0.6);
    expect(margin(hashEmbedV1)).toBeLessThan(0.4);
    expect(hashEmbed("snake_case_name", 64)).not.toEqual(hashEmbed("snakecasename", 64));
  });

  test("stop words give no feature: they change nothing", () => {
    expect(hashEmbed("return the user name", 64)).toEqual(hashEmbed("user name", 64));
    expect(hashEmbed("the of and", 16)).toEqual(hashEmbed("", 16));
  });

  test("the ASCII scan and the general path give the same vector", () => {
    const texts = [
      "getHTTP2Server XMLHttpRequest utf8Encode __init__ _private a_b_c 3.14 0xFF",
      "export const parseConfig = (path) => loadJson(path); // TODO: YAML",
      "SQLITE_OPEN_READONLY kebab-case-name v1.2.3 i18n X A1b2C3",
    ];
    for (const text of texts) {
      expect(hashEmbedWith(text, 384, "ascii")).toEqual(hashEmbedWith(text, 384, "general"));
    }
  });

  test("line by line, ASCII lines by the ASCII scan, equals the general path", () => {
    const parts = ["getUser", "Été", "ﬁle", "ＡＢＣ", "e\u0301", "\u0301x", "日本語", "😀x", "a_b"];
    const separators = [" ", "\n", "\n\n", ".", "_", "\r\n", ""];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...parts), fc.constantFrom(...separators)), {
          maxLength: 30,
        }),
        (pairs) => {
          const text = pairs.map(([part, separator]) => part + separator).join("");
          expect(hashEmbedWith(text, 64, "lines")).toEqual(hashEmbedWith(text, 64, "general"));
        },
      ),
      { seed: 20261205, numRuns: 500 },
    );
  });

  test("golden vectors: a model's output never changes (stored vectors depend on it)", () => {
    const text =
      "export function parseKeywordArguments(kwargs) { return getHTTP2Server(kwargs.__init__, 'Été ＡＢＣ'); }";
    const sha256 = (v: Float32Array) =>
      new Bun.CryptoHasher("sha256").update(new Uint8Array(v.buffer)).digest("hex");
    // hash-v1's as of c2015a9 (before hash-v2); hash-v2's as first released.
    expect(sha256(hashEmbedV1(text, 384))).toBe(
      "e07cc2cac251a7c8b535701f84e746ca85fc5e0c12c5d21022cdc95d03991da6",
    );
    expect(sha256(hashEmbed(text, 384))).toBe(
      "375e7c759a6ae32d4daad52a12e451710dfafa85837411dd149409286ec9f56b",
    );
  });

  test("the model names the feature set: hash-v2 by default, hash-v1 on request", async () => {
    const v2 = createHashEmbedder({ dimensions: 64 });
    const v1 = createHashEmbedder({ dimensions: 64, model: "hash-v1" });
    expect([v2.provider, v2.model, v1.model]).toEqual(["hash", "hash-v2", "hash-v1"]);
    const [a] = await v1.embed(["parseConfig reads"]);
    expect(a).toEqual(hashEmbedV1("parseConfig reads", 64));
    const [b] = await v2.embed(["parseConfig reads"]);
    expect(b).toEqual(hashEmbed("parseConfig reads", 64));
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
