/**
 * Runs through MCP: `run_start` with `wait_ms` and a progress token streams the run's events as
 * progress notifications; a subscription to `vltair://runs/{id}` hears of every change to the
 * run, and another tenant's session never does (nor can it read the run).
 */
import { describe, expect, test } from "bun:test";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { mcpFixture, type ToolResult, textOf } from "../../support/mcp.ts";
import { poll } from "../../support/process.ts";

const fx = mcpFixture();
const GATED = { steps: [{ id: "gate", kind: "wait", with: { signal: "go" } }] };

describe("runs over MCP", () => {
  test("run_start with wait_ms and a progress token sends each event, then the ended run", async () => {
    const client = await fx.clientFor(await fx.app().tokenFor("mcp-runs", "writer"));
    const messages: string[] = [];
    const result = (await client.callTool(
      {
        name: "run_start",
        arguments: {
          wait_ms: 10_000,
          workflow: {
            steps: [
              { id: "a", kind: "echo", with: { value: 1 } },
              { id: "b", kind: "echo", needs: ["a"], with: { value: 2 } },
            ],
          },
        },
      },
      undefined,
      { onprogress: (p) => messages.push(String(p.message)) },
    )) as ToolResult;
    expect(JSON.parse(textOf(result))).toMatchObject({ status: "succeeded" });
    expect(messages).toContain("step.completed: a");
    expect(messages).toContain("step.completed: b");
    expect(messages.at(-1)).toBe("run.succeeded");
  });

  test("a run subscriber hears of its changes; another tenant's session hears nothing and reads 404", async () => {
    const t = fx.app();
    const owner = await fx.clientFor(await t.tokenFor("runs-a", "writer"));
    const stranger = await fx.clientFor(await t.tokenFor("runs-b", "writer"));
    const started = JSON.parse(
      textOf(
        (await owner.callTool({ name: "run_start", arguments: { workflow: GATED } })) as ToolResult,
      ),
    );
    const uri = `vltair://runs/${started.run_id}`;
    const heard = { owner: 0, stranger: 0 };
    owner.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      if (n.params.uri === uri) heard.owner++;
    });
    stranger.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      if (n.params.uri === uri) heard.stranger++;
    });
    await owner.subscribeResource({ uri });
    await stranger.subscribeResource({ uri });
    const read = await owner.readResource({ uri });
    expect(JSON.parse((read.contents[0] as { text: string }).text)).toMatchObject({
      status: "waiting",
    });
    await expect(stranger.readResource({ uri })).rejects.toThrow("not_found");
    await owner.callTool({ name: "run_signal", arguments: { id: started.run_id, name: "go" } });
    await poll(() => (heard.owner >= 2 ? true : undefined), 10_000, "run notifications");
    const ended = await owner.readResource({ uri });
    expect(JSON.parse((ended.contents[0] as { text: string }).text)).toMatchObject({
      status: "succeeded",
    });
    // The stranger's own run, started after: its notification would come after any of A's.
    const own = JSON.parse(
      textOf(
        (await stranger.callTool({
          name: "run_start",
          arguments: { workflow: GATED },
        })) as ToolResult,
      ),
    );
    const ownUri = `vltair://runs/${own.run_id}`;
    let ownHeard = 0;
    stranger.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      if (n.params.uri === uri) heard.stranger++;
      if (n.params.uri === ownUri) ownHeard++;
    });
    await stranger.subscribeResource({ uri: ownUri });
    await stranger.callTool({ name: "run_cancel", arguments: { id: own.run_id } });
    await poll(() => (ownHeard > 0 ? true : undefined), 10_000, "the stranger's own notification");
    expect(heard.stranger).toBe(0);
  });
});
