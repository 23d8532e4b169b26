/**
 * The sandbox service below HTTP (issue 15's call context): every method takes the `Call`,
 * refuses a reader's writes with `forbidden`, and works in the caller's tenant only, whatever
 * the entry point.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { type Call, localCall, type Role } from "../../../src/core/mod.ts";
import { disposeServers, sandboxServer } from "./server-harness.ts";

afterAll(disposeServers);

function callAs(tenant: string, role: Role): Call {
  return localCall(
    { subject: `${tenant}-${role}`, tenant, roles: [role], tokenId: null },
    "0123456789abcdef0123456789abcdef",
  );
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "none";
  } catch (error) {
    return (error as { code?: string }).code ?? "thrown";
  }
}

describe("SandboxService with a Call", () => {
  test("a reader's call to every writing method is forbidden, and nothing is applied", async () => {
    const server = sandboxServer();
    await server.request("/v1/health");
    const { sandbox } = server.app;
    const writer = callAs("acme", "writer");
    const ws = await sandbox.workspaces.create(writer, {});
    const taken = await sandbox.workspaces.takeCheckpoint(writer, ws.id);
    const reader = callAs("acme", "reader");
    const writes: [string, () => Promise<unknown>][] = [
      ["exec", () => sandbox.exec(reader, { cmd: ["true"] })],
      ["open", () => sandbox.open(reader, { cmd: ["true"] }, { workspace: ws.id })],
      ["create", () => sandbox.workspaces.create(reader, {})],
      ["remove", () => sandbox.workspaces.remove(reader, ws.id)],
      [
        "writeFile",
        () => sandbox.workspaces.writeFile(reader, ws.id, "f", { body: null, mode: null }),
      ],
      ["removePath", () => sandbox.workspaces.removePath(reader, ws.id, "f")],
      ["takeCheckpoint", () => sandbox.workspaces.takeCheckpoint(reader, ws.id)],
      ["removeCheckpoint", () => sandbox.workspaces.removeCheckpoint(reader, ws.id, taken.id)],
      ["restoreCheckpoint", () => sandbox.workspaces.restoreCheckpoint(reader, ws.id, taken.id)],
      ["forkCheckpoint", () => sandbox.workspaces.forkCheckpoint(reader, ws.id, taken.id, {})],
    ];
    for (const [name, write] of writes)
      expect([name, await codeOf(write())]).toEqual([name, "forbidden"]);
    expect((await sandbox.workspaces.list(reader)).map((w) => w.id).sort()).toEqual(
      ["default", ws.id].sort(),
    );
    expect(await sandbox.workspaces.listCheckpoints(reader, ws.id)).toHaveLength(1);
    expect((await sandbox.capabilities(reader)).platform).toBe(process.platform);
  });

  test("the call's tenant is the only one it reaches", async () => {
    const server = sandboxServer();
    await server.request("/v1/health");
    const { sandbox } = server.app;
    const ws = await sandbox.workspaces.create(callAs("acme", "writer"), {});
    const other = callAs("other", "admin");
    expect(await codeOf(sandbox.workspaces.show(other, ws.id))).toBe("not_found");
    expect(await codeOf(sandbox.workspaces.readPath(other, ws.id, ""))).toBe("not_found");
    expect(await codeOf(sandbox.exec(other, { cmd: ["true"] }, { workspace: ws.id }))).toBe(
      "not_found",
    );
  });
});
