/**
 * `POST /v1/context/ingest` (issue 18 item 3: ingest with progress): a workspace's text files
 * are chunked and upserted with the caller's tenant, a second ingest changes nothing, the event
 * stream reports progress then the result, and another tenant's workspace, a reader and a path
 * leaving the workspace are refused with their codes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createToken, type TestApp, testApp } from "../../support/app.ts";
import { callJson } from "../../support/runs.ts";

const apps: TestApp[] = [];
afterAll(async () => {
  for (const t of apps) await t.app.close();
});

async function withWorkspace(): Promise<{ t: TestApp; ws: string }> {
  const t = testApp();
  apps.push(t);
  const ws = (await callJson(t, "/v1/sandbox/workspaces", { body: { name: "repo" } })).body.id;
  const files: Record<string, string> = {
    "src/calc.py": "def add(a, b):\n    return a + b\n",
    "src/notes.md": "# Walrus notes\nThe walrus is large.\n",
    "build/out.bin": "\u0000\u0001binary",
    ".gitignore": "build/\n",
  };
  for (const [path, text] of Object.entries(files)) {
    const put = await t.request(`/v1/sandbox/workspaces/${ws}/files/${path}`, {
      method: "PUT",
      body: text,
    });
    expect(put.status).toBe(200);
  }
  return { t, ws };
}

describe("POST /v1/context/ingest", () => {
  test("ingests the workspace's text files; a second ingest changes nothing", async () => {
    const { t, ws } = await withWorkspace();
    const first = await callJson(t, "/v1/context/ingest", { body: { workspace: ws } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ files: 3, inserted: 3, updated: 0, unchanged: 0 });
    const doc = await callJson(t, `/v1/context/docs/${encodeURIComponent("src/calc.py#1")}`);
    expect(doc.body.text).toContain("return a + b");
    expect(doc.body.metadata).toMatchObject({ path: "src/calc.py", language: "python" });
    const found = await callJson(t, "/v1/context/search", {
      body: { query: "walrus", strategy: "sparse", k: 1 },
    });
    expect(found.body.results[0].id).toBe("src/notes.md#1");
    const again = await callJson(t, "/v1/context/ingest", { body: { workspace: ws, path: "src" } });
    expect(again.body).toMatchObject({ files: 2, inserted: 0, unchanged: 2 });
  });

  test("Accept: text/event-stream streams progress, then the result", async () => {
    const { t, ws } = await withWorkspace();
    const response = await t.request("/v1/context/ingest", {
      method: "POST",
      headers: { accept: "text/event-stream", "content-type": "application/json" },
      body: JSON.stringify({ workspace: ws, include: ["**/*.py"] }),
    });
    expect(response.headers.get("content-type")).toStartWith("text/event-stream");
    const text = await response.text();
    expect(text).toContain('event: progress\ndata: {"data":"files 1, chunks 1"}');
    const result = /event: result\ndata: (.*)\n/.exec(text)?.[1] as string;
    expect(JSON.parse(result)).toMatchObject({ files: 1, chunks: 1, inserted: 1 });
  });

  test("another tenant's workspace is 404, a reader 403, a path out of the workspace 400", async () => {
    const { t, ws } = await withWorkspace();
    const other = (await createToken(t.app, { subject: "o", tenant: "other", roles: ["writer"] }))
      .token;
    const reader = (
      await createToken(t.app, { subject: "r", tenant: "default", roles: ["reader"] })
    ).token;
    const cases: [Record<string, unknown>, string | undefined, number, string][] = [
      [{ workspace: ws }, other, 404, "not_found"],
      [{ workspace: ws }, reader, 403, "forbidden"],
      [{ workspace: ws, path: "../.." }, undefined, 400, "validation_failed"],
      [{ workspace: ws, nope: 1 }, undefined, 400, "validation_failed"],
    ];
    for (const [body, token, status, code] of cases) {
      const r = await callJson(t, "/v1/context/ingest", { body, ...(token ? { token } : {}) });
      expect(r.status).toBe(status);
      expect(r.body.error.code).toBe(code);
    }
    expect((await callJson(t, "/v1/context/stats")).body.documents).toBe(0);
  });
});
