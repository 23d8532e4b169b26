/**
 * `agent` steps against a fake OpenAI-compatible server (issue 16 item 2): the model's tool
 * calls run with the run's Call (workspace files and commands through the sandbox, documents
 * through the context engine), their answers go back to the model, and every turn and tool call
 * is journaled — a retried attempt asks the model only for the turn that had not ended, and a
 * context write of a tool lands once.
 */
import { describe, expect, test } from "bun:test";
import { completion, type FakeLlmAnswer, fakeLlmHarness } from "../../support/fake-llm.ts";
import { ManualTimers } from "../../support/manual-timers.ts";
import { poll } from "../../support/process.ts";
import { callJson, type Json, runUntil, startRun } from "../../support/runs.ts";

const setup = fakeLlmHarness((baseUrl) => ({ base_url: baseUrl }));

const tool = (id: string, name: string, args: unknown) => ({ id, name, arguments: args });

/** Turn 0 writes a file and a document, turn 1 reads both back, turn 2 answers. */
const SCRIPT: FakeLlmAnswer[] = [
  {
    body: completion(null, undefined, [
      tool("c1", "write_file", { path: "notes/a.txt", content: "hello file" }),
      tool("c2", "context_upsert", { id: "note", text: "remember the walrus" }),
    ]),
  },
  {
    body: completion(null, undefined, [
      tool("c3", "read_file", { path: "notes/a.txt" }),
      tool("c4", "context_search", { query: "walrus", k: 3 }),
      tool("c5", "no_such_tool", {}),
    ]),
  },
  { body: completion("done: the walrus") },
];

const agent = (extra: Record<string, unknown> = {}) => ({
  workflow: {
    steps: [
      {
        id: "think",
        kind: "agent",
        with: {
          model: "fake-model",
          messages: [{ role: "user", content: "take notes" }],
          ...extra,
        },
      },
    ],
  },
});

describe("agent steps", () => {
  test("tool calls run with the run's Call and answer the model; the loop ends on an answer", async () => {
    const { t, fake } = await setup((n) => SCRIPT[n] as FakeLlmAnswer);
    const id = await startRun(t, agent());
    const run = await runUntil(t, id, "succeeded");
    const output = run.steps[0].output;
    expect(output).toMatchObject({ text: "done: the walrus", turns: 3, tool_calls: 5 });
    expect(fake.requests).toHaveLength(3);
    expect(fake.requests[0]?.body.tools.map((d: Json) => d.function.name)).toContain("exec");
    const answers = ((fake.requests[2] as Json).body.messages as Json[]).filter(
      (m) => m.role === "tool",
    );
    const byId = Object.fromEntries(answers.map((m) => [m.tool_call_id, JSON.parse(m.content)]));
    expect(byId.c3).toMatchObject({ rc: 0, stdout: "hello file" });
    expect(byId.c4[0]).toMatchObject({ id: "note", text: "remember the walrus" });
    expect(byId.c5.error.code).toBe("tool_unknown");
    expect(run.steps[0].journal.map((e: Json) => e.key)).toEqual([
      "turn:0",
      "tool:0:0",
      "tool:0:1",
      "turn:1",
      "tool:1:0",
      "tool:1:1",
      "tool:1:2",
      "turn:2",
    ]);
    expect(fake.requests[1]?.headers["idempotency-key"]).toBe(`${id}:think:1:turn:1`);
  }, 20_000);

  test("a retry replays the journal: only the turn that had not ended asks the model again", async () => {
    const timers = new ManualTimers();
    const { t, fake } = await setup((n) => {
      if (n === 2) return { status: 503, body: { error: "busy" } };
      return SCRIPT[n === 3 ? 2 : n] as FakeLlmAnswer;
    }, timers);
    const id = await startRun(t, {
      workflow: { steps: [{ ...agent().workflow.steps[0], retry: { max_attempts: 2 } }] },
    });
    await poll(() => (timers.armed === 1 ? true : undefined), 10_000, "the retry timer");
    timers.advance(1_100);
    const run = await runUntil(t, id, "succeeded");
    expect(run.steps[0].attempts).toHaveLength(2);
    expect(run.steps[0].output.text).toBe("done: the walrus");
    // Turns 0 and 1 came from the journal: 3 model calls in attempt 1, 1 in attempt 2.
    expect(fake.requests).toHaveLength(4);
    expect(fake.requests[3]?.headers["idempotency-key"]).toBe(`${id}:think:2:turn:2`);
    const versions = await callJson(t, "/v1/context/docs/note/versions");
    expect(versions.body.versions).toHaveLength(1);
  }, 20_000);

  test("a model that never stops asking for tools fails with agent_turns_exhausted", async () => {
    const { t } = await setup(() => ({
      body: completion(null, undefined, [tool("c", "context_search", { query: "x" })]),
    }));
    const run = await runUntil(t, await startRun(t, agent({ max_turns: 2 })), "failed");
    expect(run.steps[0].error).toMatchObject({
      code: "agent_turns_exhausted",
      details: { max_turns: 2, tool_calls: 2 },
    });
  }, 20_000);

  test("tools outside with.tools and paths leaving the workspace answer the model with errors", async () => {
    const { t, fake } = await setup((n) =>
      n === 0
        ? {
            body: completion(null, undefined, [
              tool("c1", "exec", { cmd: ["true"] }),
              tool("c2", "read_file", { path: "../etc/passwd" }),
            ]),
          }
        : { body: completion("ok") },
    );
    await runUntil(t, await startRun(t, agent({ tools: ["read_file"] })), "succeeded");
    const answers = ((fake.requests[1] as Json).body.messages as Json[]).filter(
      (m) => m.role === "tool",
    );
    expect(JSON.parse(answers[0].content).error.code).toBe("tool_unknown");
    expect(JSON.parse(answers[1].content).error.code).toBe("validation_failed");
    expect(fake.requests[0]?.body.tools.map((d: Json) => d.function.name)).toEqual(["read_file"]);
  }, 20_000);
});
