// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflows reference values as ${…} text
/**
 * The whole agent loop end to end (issue 16 item 8, XB-1), on a real server process: a workflow
 * ingests a small Python repository from a workspace, searches it, lets an agent ask a fake
 * OpenAI-compatible model for a patch, apply it, run `python3 -m pytest -q` (red: the first
 * patch has a bug), read the failure, apply the fix, run the tests (green) — then runs the
 * tests itself and upserts the changed file. Twice: once straight through, once with `kill -9`
 * of the server during the final test step; after the restart the run finishes once and the
 * model was asked nothing again (every completed turn came from the journal).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { hasPosixSignals } from "../../src/platform/mod.ts";
import { completion, type FakeLlm, startFakeLlm } from "../support/fake-llm.ts";
import { BUN, type Child, MAIN, poll, readyUrl, start } from "../support/process.ts";
import { tempDir } from "../support/tmp.ts";

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of the API under test
type Json = any;

const TOKEN = "agent-e2e-admin-token-0123456789";
const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const FIXTURE = path.join(import.meta.dir, "..", "fixtures", "pyrepo");
const FILES = ["calc.py", "test_calc.py"];
const HAS_PYTEST = spawnSync("python3", ["-c", "import pytest"]).status === 0;
if (!HAS_PYTEST)
  console.warn("agent-fix-loop: skipped, python3 has no pytest (.ci/run installs python3-pytest)");

const BUGGY = readFileSync(path.join(FIXTURE, "calc.py"), "utf8");
const FIRST_PATCH = BUGGY.replace("return a - b", "return a + b + 1");
const FIX = BUGGY.replace("return a - b", "return a + b");
const PYTEST = ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"];

const tool = (id: string, name: string, args: unknown) => ({ id, name, arguments: args });

/** The model: patch (buggy), test, fix after reading the failure, test, answer. */
function model(n: number, request: Json) {
  const last = (request.messages as Json[]).at(-1);
  switch (n) {
    case 0:
      return completion(null, undefined, [
        tool("t0", "write_file", { path: "calc.py", content: FIRST_PATCH }),
      ]);
    case 1:
      return completion(null, undefined, [tool("t1", "exec", { cmd: PYTEST })]);
    case 2:
      // It sees pytest fail, and fixes the patch.
      if (!(last.role === "tool" && JSON.parse(last.content).rc !== 0))
        return completion("confused");
      return completion(null, undefined, [
        tool("t2", "write_file", { path: "calc.py", content: FIX }),
      ]);
    case 3:
      return completion(null, undefined, [tool("t3", "exec", { cmd: PYTEST })]);
    default:
      if (!(last.role === "tool" && JSON.parse(last.content).rc === 0))
        return completion("still red");
      return completion("fixed add: it subtracted");
  }
}

/** Lists the repository's Python files as upsert items (stdout JSON). */
const LIST_PY = [
  "python3",
  "-c",
  "import json,pathlib,sys; print(json.dumps([{'id': p.name, 'text': p.read_text()} for p in sorted(pathlib.Path('.').glob('*.py')) if p.name in sys.argv[1:]]))",
];

const workflow = (ws: string) => ({
  name: "fix-bug",
  steps: [
    {
      id: "list",
      kind: "exec",
      with: { cmd: [...LIST_PY, ...FILES], workspace: ws, stdout_json: true },
    },
    {
      id: "ingest",
      kind: "context.upsert",
      needs: ["list"],
      with: { items: "${steps.list.output.json}" },
    },
    {
      id: "find",
      kind: "context.search",
      needs: ["ingest"],
      with: { query: "${input.task}", k: 2, strategy: "sparse", include: ["text"] },
    },
    {
      id: "fix",
      kind: "agent",
      needs: ["find"],
      with: {
        model: "fake-model",
        workspace: ws,
        tools: ["read_file", "write_file", "exec"],
        max_turns: 8,
        messages: [
          { role: "system", content: "Fix the bug. Run the tests with pytest." },
          {
            role: "user",
            content: "Task: ${input.task}\nRelevant code: ${steps.find.output.results}",
          },
        ],
      },
    },
    {
      id: "test",
      kind: "exec",
      needs: ["fix"],
      // The sleep is the window the crash variant kills the server in.
      with: { cmd: ["sh", "-c", `sleep 1 && ${PYTEST.join(" ")}`], workspace: ws },
    },
    {
      id: "changed",
      kind: "exec",
      needs: ["test"],
      with: { cmd: [...LIST_PY, "calc.py"], workspace: ws, stdout_json: true },
    },
    {
      id: "save",
      kind: "context.upsert",
      needs: ["changed"],
      when: { field: "steps.test.output.rc", op: "eq", value: 0 },
      with: { items: "${steps.changed.output.json}" },
    },
  ],
});

let fake: FakeLlm | null = null;
let child: Child | null = null;
afterEach(async () => {
  child?.proc.kill("SIGKILL");
  if (child !== null) await child.exited;
  child = null;
  await fake?.close();
  fake = null;
});

async function serve(cwd: string, baseUrl: string): Promise<string> {
  child = start(BUN, [MAIN, "serve", "--port", "0"], {
    cwd,
    env: {
      VLTAIR_ADMIN_TOKEN: TOKEN,
      VLTAIR_LLM_PROVIDERS: JSON.stringify({ local: { base_url: baseUrl } }),
    },
  });
  return readyUrl(child);
}

const api = async (url: string, method = "GET", body?: unknown): Promise<Json> => {
  const r = await fetch(url, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return r.json();
};

async function setUp(cwd: string, fakeUrl: string): Promise<{ url: string; runId: string }> {
  const url = await serve(cwd, fakeUrl);
  const ws = (await api(`${url}/v1/sandbox/workspaces`, "POST", { name: "pyrepo" })).id;
  for (const file of FILES) {
    const put = await fetch(`${url}/v1/sandbox/workspaces/${ws}/files/${file}`, {
      method: "PUT",
      headers: { authorization: headers.authorization },
      body: readFileSync(path.join(FIXTURE, file)),
    });
    expect(put.status).toBe(200);
  }
  const started = await api(`${url}/v1/runs`, "POST", {
    workflow: workflow(ws),
    input: { task: "add returns the wrong sum" },
  });
  expect(started.run_id).toBeString();
  return { url, runId: started.run_id };
}

async function finished(url: string, runId: string): Promise<Json> {
  let run: Json = null;
  return poll(
    () => {
      void api(`${url}/v1/runs/${runId}`)
        .then((r) => {
          run = r;
        })
        .catch(() => undefined);
      return run !== null && ["succeeded", "failed", "cancelled"].includes(run.status)
        ? run
        : undefined;
    },
    60_000,
    `run ${runId} ended`,
  );
}

async function checkOutcome(url: string, run: Json, fakeLlm: FakeLlm): Promise<void> {
  expect(run.status).toBe("succeeded");
  const byId = Object.fromEntries(run.steps.map((s: Json) => [s.id, s]));
  expect(byId.fix.output).toMatchObject({
    text: "fixed add: it subtracted",
    turns: 5,
    tool_calls: 4,
  });
  // The agent saw red, then green.
  const tests = byId.fix.journal.filter((e: Json) => e.key === "tool:1:0" || e.key === "tool:3:0");
  expect(tests.map((e: Json) => e.output.rc)).toEqual([1, 0]);
  expect(byId.test.output.rc).toBe(0);
  expect(byId.save.state).toBe("succeeded");
  // Five model calls, each asked once: no completed turn was asked again.
  const keys = fakeLlm.requests.map((r) => r.headers["idempotency-key"]);
  expect(keys).toHaveLength(5);
  expect(new Set(keys).size).toBe(5);
  const versions = await api(`${url}/v1/context/docs/calc.py/versions`);
  expect(versions.versions).toHaveLength(2);
  const doc = await api(`${url}/v1/context/docs/calc.py`);
  expect(doc.text).toContain("return a + b\n");
  const live = await (await fetch(`${url}/v1/runs/${run.run_id}/events`, { headers })).text();
  expect(await (await fetch(`${url}/v1/runs/${run.run_id}/replay`, { headers })).text()).toBe(live);
}

describe.if(HAS_PYTEST && hasPosixSignals())("an agent fixes a bug end to end", () => {
  test("patch, red, fix, green, saved", async () => {
    fake = await startFakeLlm((request, n) => ({ body: model(n, request.body) }));
    const { url, runId } = await setUp(tempDir(), fake.baseUrl);
    await checkOutcome(url, await finished(url, runId), fake);
  }, 90_000);

  test("kill -9 during the test step: the run finishes once, no model call repeated", async () => {
    fake = await startFakeLlm((request, n) => ({ body: model(n, request.body) }));
    const cwd = tempDir();
    const { url, runId } = await setUp(cwd, fake.baseUrl);
    let run: Json = null;
    await poll(
      () => {
        void api(`${url}/v1/runs/${runId}`)
          .then((r) => {
            run = r;
          })
          .catch(() => undefined);
        return run?.steps.find((s: Json) => s.id === "test")?.state === "running"
          ? true
          : undefined;
      },
      60_000,
      "the test step running",
    );
    child?.proc.kill("SIGKILL");
    expect(await child?.exited).toBe(137);
    const again = await serve(cwd, fake.baseUrl);
    const done = await finished(again, runId);
    const testStep = done.steps.find((s: Json) => s.id === "test");
    expect(testStep.attempts).toHaveLength(1);
    expect(testStep.attempts[0].restarts).toBe(1);
    await checkOutcome(again, done, fake);
  }, 120_000);
});
