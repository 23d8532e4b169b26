// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflows reference values as ${…} text
/**
 * `vltair run`, `vltair runs …` and `vltair replay` against a real server: a run followed to its
 * end, signalled, cancelled, forked and listed; `replay` equal to the server's `/replay` byte for byte,
 * and again from the data directory once the server has stopped; bad flags exit 2 naming the
 * flag.
 */
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { cli } from "../support/cli.ts";
import { BUN, type Child, MAIN, readyUrl, start } from "../support/process.ts";
import { tempDir } from "../support/tmp.ts";

const TOKEN = "runs-cli-admin-token-0123456789";
const dir = tempDir();
const dataDir = path.join(dir, "data");
let server: Child | null = null;
let env: Record<string, string> = {};

afterAll(async () => {
  server?.proc.kill("SIGKILL");
  await server?.exited;
});

function writeWorkflow(name: string, workflow: unknown): string {
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(workflow));
  return file;
}

const echo = writeWorkflow("echo", {
  name: "hello",
  steps: [
    { id: "a", kind: "echo", with: { value: "${input.who}" } },
    { id: "b", kind: "echo", needs: ["a"], with: { value: "hello ${steps.a.output}" } },
  ],
});
const gated = writeWorkflow("gated", {
  steps: [{ id: "w", kind: "wait", with: { signal: "go" } }],
});

/** The workflow docs/orchestrator.md writes with `cat > NAME <<'EOF'`, written to a file. */
function docWorkflow(name: string): string {
  const doc = fs.readFileSync(path.join(import.meta.dirname, "../../docs/orchestrator.md"), "utf8");
  const workflow = new RegExp(`cat > ${name} <<'EOF'\\n([\\s\\S]*?)\\nEOF`).exec(doc)?.[1] ?? "";
  const file = path.join(dir, name);
  fs.writeFileSync(file, workflow);
  return file;
}

describe("vltair run, runs and replay", () => {
  test("start a server", async () => {
    server = start(BUN, [MAIN, "serve", "--port", "0", "--data-dir", dataDir], {
      env: { VLTAIR_ADMIN_TOKEN: TOKEN },
    });
    const url = await readyUrl(server);
    env = { VLTAIR_URL: url, VLTAIR_TOKEN: TOKEN };
  }, 30_000);

  test("run --follow prints the events and exits 0 when the run succeeded", async () => {
    const r = await cli(["run", echo, "--input", '{"who":"ada"}', "--follow"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("run.created");
    expect(r.stdout.trimEnd().split("\n").at(-1)).toContain("run.succeeded");
    const list = await cli(["runs", "list", "--json"], env);
    const runs = JSON.parse(list.stdout).runs;
    expect(runs.length).toBeGreaterThanOrEqual(1);
    const shown = JSON.parse((await cli(["runs", "show", runs[0].run_id], env)).stdout);
    expect(shown.steps[1].output).toBe("hello ada");
  });

  test("docs/orchestrator.md's first run works as written", async () => {
    const file = docWorkflow("hello.json");
    const r = await cli(["run", file, "--input", '{"who":"ada"}', "--follow"], env);
    expect(r.code).toBe(0);
    const id = JSON.parse((await cli(["runs", "list", "--json"], env)).stdout).runs[0].run_id;
    const run = JSON.parse((await cli(["runs", "show", id], env)).stdout);
    expect(run.steps.find((s: { id: string }) => s.id === "find").output.results[0].id).toBe(
      "greeting",
    );
    const replay = await cli(["replay", id, "--json"], env);
    expect(replay.stdout).toContain("event: run.succeeded");
  });

  test("budget show: the tenant's budgets, one's history, a run's budget and its charges", async () => {
    // docs/policy.md's daily token budget, as written there.
    const policyDoc = fs.readFileSync(
      path.join(import.meta.dirname, "../../docs/policy.md"),
      "utf8",
    );
    const [, name, body] = /```json budget:(\S+)\n([\s\S]*?)\n```/.exec(policyDoc) ?? [];
    const set = await fetch(`${env.VLTAIR_URL}/v1/budgets/${name}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: body as string,
    });
    expect(set.status).toBe(200);
    const listed = await cli(["budget", "show"], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain("daily-tokens llm_tokens 0 / 200000 per day");
    const history = await cli(
      ["budget", "show", "--name", "daily-tokens", "--history", "--json"],
      env,
    );
    expect(JSON.parse(history.stdout).history).toBeArray();
    const charged = writeWorkflow("charged", {
      budget: { llm_tokens: 100, steps: 5 },
      steps: [{ id: "a", kind: "echo", with: { value: 1, charge: { llm_tokens: 40 } } }],
    });
    const run = await cli(["run", charged, "--wait-ms", "10000", "--json"], env);
    const id = JSON.parse(run.stdout).run_id;
    const shown = await cli(["budget", "show", "--run", id], env);
    expect(shown.stdout).toContain("llm_tokens 40 / 100 (60 left)");
    expect(shown.stdout).toContain("steps 1 / 5 (4 left)");
    const charges = await cli(["budget", "show", "--run", id, "--history", "--json"], env);
    expect(JSON.parse(charges.stdout).history[0]).toMatchObject({
      step_id: "a",
      usage: { llm_tokens: 40 },
    });
    const foreign = await cli(["budget", "show", "--run", "run_nope", "--json"], env);
    expect(foreign.code).toBe(1);
    expect(JSON.parse(foreign.stdout).error.code).toBe("not_found");
  });

  test("signal and cancel through the CLI", async () => {
    const first = await cli(["run", gated, "--json"], env);
    const id = JSON.parse(first.stdout).run_id;
    const signalled = await cli(["runs", "signal", id, "go", "--payload", '{"ok":1}'], env);
    expect(signalled).toMatchObject({ code: 0, stdout: '{"accepted":true}\n' });
    const events = await cli(["runs", "events", id], env);
    expect(events.stdout).toContain("run.signaled");
    expect(events.stdout.trimEnd().split("\n").at(-1)).toContain("run.succeeded");
    const second = JSON.parse((await cli(["run", gated, "--json"], env)).stdout).run_id;
    expect((await cli(["runs", "cancel", second], env)).code).toBe(0);
    const followed = await cli(["runs", "events", second], env);
    expect(followed.stdout.trimEnd().split("\n").at(-1)).toContain("run.cancelled");
    const again = await cli(["runs", "cancel", second, "--json"], env);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout).error.code).toBe("conflict");
  });

  test("runs fork reruns from a step with a new input or workflow, reusing what is upstream", async () => {
    const first = await cli(
      ["run", echo, "--input", '{"who":"ada"}', "--wait-ms", "10000", "--json"],
      env,
    );
    const source = JSON.parse(first.stdout).run_id;
    const forked = await cli(
      ["runs", "fork", source, "--from-step", "b", "--input", '{"who":"bob"}'],
      env,
    );
    expect(forked.code).toBe(0);
    const [id] = forked.stdout.trim().split(" ");
    const events = await cli(["runs", "events", id as string], env);
    expect(events.stdout.trimEnd().split("\n").at(-1)).toContain("run.succeeded");
    const run = JSON.parse((await cli(["runs", "show", id as string], env)).stdout);
    expect(run.forked_from).toEqual({ run_id: source, step_id: "b" });
    // a is reused (its output came from ada's input); b ran again with bob's.
    expect(run.steps.map((s: { reused_from?: string }) => s.reused_from ?? null)).toEqual([
      source,
      null,
    ]);
    expect(run.steps[1].output).toBe("hello ada");
    const changed = writeWorkflow("echo-changed", {
      steps: [
        { id: "a", kind: "echo", with: { value: "${input.who}" } },
        { id: "b", kind: "echo", needs: ["a"], with: { value: "bye ${steps.a.output}" } },
      ],
    });
    const again = await cli(
      ["runs", "fork", source, "--from-step", "b", "--workflow", changed, "--json"],
      env,
    );
    const answer = JSON.parse(again.stdout);
    expect(answer.forked_from).toEqual({ run_id: source, step_id: "b" });
    await cli(["runs", "events", answer.run_id], env);
    expect(
      JSON.parse((await cli(["runs", "show", answer.run_id], env)).stdout).steps[1].output,
    ).toBe("bye ada");
    const unknown = await cli(["runs", "fork", source, "--from-step", "zz", "--json"], env);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout).error.code).toBe("validation_failed");
  });

  test("docs/orchestrator.md's fork example works as written", async () => {
    const file = docWorkflow("checked.json");
    const failed = await cli(
      ["run", file, "--input", '{"topic":"fork","fail":1}', "--follow"],
      env,
    );
    expect(failed.code).toBe(1);
    const source = JSON.parse((await cli(["runs", "list", "--json"], env)).stdout).runs[0].run_id;
    const forked = await cli(
      ["runs", "fork", source, "--from-step", "test", "--input", '{"topic":"fork","fail":0}'],
      env,
    );
    expect(forked.code).toBe(0);
    const id = forked.stdout.split(" ")[0] as string;
    const events = (await cli(["runs", "events", id], env)).stdout.trimEnd().split("\n");
    expect(events.slice(0, 2).map((l) => l.trim())).toEqual([
      "1 run.created",
      "2 step.completed save",
    ]);
    expect(events.at(-1)).toContain("run.succeeded");
    const run = JSON.parse((await cli(["runs", "show", id], env)).stdout);
    expect(run.steps[0]).toMatchObject({ id: "save", attempts: [], reused_from: source });
    expect(run.steps[2].output).toBe("tested fork");
  });

  test("replay equals /replay byte for byte, through the server and from the data directory", async () => {
    const id = JSON.parse((await cli(["runs", "list", "--json"], env)).stdout).runs[0].run_id;
    const http = await (
      await fetch(`${env.VLTAIR_URL}/v1/runs/${id}/replay`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
    ).text();
    const viaServer = await cli(["replay", id], env);
    expect(viaServer.stdout).toBe(http);
    server?.proc.kill("SIGTERM");
    expect(await server?.exited).toBe(0);
    server = null;
    const offline = await cli(["replay", id, "--data-dir", dataDir]);
    expect(offline).toMatchObject({ code: 0, stdout: http });
    const missing = await cli(["replay", "run_nope", "--data-dir", dataDir, "--json"]);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).error.code).toBe("not_found");
    // Runs are driven by a server: none holds the directory now.
    const refused = await cli(["run", echo, "--data-dir", dataDir, "--json"]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).error.code).toBe("unavailable");
  }, 30_000);

  const usage: [string, string[], string][] = [
    ["run without FILE", ["run"], "FILE"],
    ["run with an unreadable FILE", ["run", path.join(dir, "nope.json")], "FILE"],
    ["run with --input that is not JSON", ["run", echo, "--input", "{no"], "--input"],
    ["run with --wait-ms out of range", ["run", echo, "--wait-ms", "600001"], "--wait-ms"],
    ["runs list with a bad --status", ["runs", "list", "--status", "done"], "--status"],
    ["runs show without RUN_ID", ["runs", "show"], "RUN_ID"],
    ["runs signal without NAME", ["runs", "signal", "run_x"], "NAME"],
    ["runs fork without --from-step", ["runs", "fork", "run_x"], "--from-step"],
    ["runs fork without RUN_ID", ["runs", "fork", "--from-step", "a"], "RUN_ID"],
    [
      "runs fork with --input that is not JSON",
      ["runs", "fork", "run_x", "--from-step", "a", "--input", "{no"],
      "--input",
    ],
    [
      "runs fork with an unreadable --workflow",
      ["runs", "fork", "run_x", "--from-step", "a", "--workflow", path.join(dir, "nope.json")],
      "--workflow",
    ],
    ["replay with a bad --at", ["replay", "run_x", "--at", "-1"], "--at"],
    ["budget show --history without --name or --run", ["budget", "show", "--history"], "--history"],
    [
      "budget show with --name and --run",
      ["budget", "show", "--run", "r", "--name", "n"],
      "--name",
    ],
    ["an unknown flag", ["runs", "list", "--nope"], "--nope"],
  ];
  test.each(usage)("%s exits 2 naming the field", async (_, argv, field) => {
    const r = await cli([...argv, "--json"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.field).toBe(field);
  });
});
