import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VltairError } from "../../../src/core/mod.ts";
import { isInside, resolveCwd } from "../../../src/sandbox/workspace.ts";

let root = "";
let ws = "";

beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), "vltair-ws-test-")));
  ws = join(root, "ws");
  await mkdir(join(ws, "pkg", "tests"), { recursive: true });
  await mkdir(join(root, "outside"));
  await symlink(join(root, "outside"), join(ws, "escape"));
  await symlink(join(ws, "pkg"), join(ws, "inner-link"));
  await writeFile(join(ws, "file.txt"), "x");
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function codeOf(promise: Promise<unknown>): Promise<[string, unknown]> {
  try {
    await promise;
    return ["none", null];
  } catch (error) {
    expect(error).toBeInstanceOf(VltairError);
    const e = error as VltairError;
    return [e.code, e.details.issue];
  }
}

describe("resolveCwd", () => {
  test("absent, empty and '.' mean the workspace root", async () => {
    expect(await resolveCwd(ws, undefined)).toBe(ws);
    expect(await resolveCwd(ws, "")).toBe(ws);
    expect(await resolveCwd(ws, ".")).toBe(ws);
  });
  test("a relative directory and an inner '..' that stays inside resolve", async () => {
    expect(await resolveCwd(ws, "pkg/tests")).toBe(join(ws, "pkg", "tests"));
    expect(await resolveCwd(ws, "pkg/tests/../tests")).toBe(join(ws, "pkg", "tests"));
    expect(await resolveCwd(ws, "inner-link")).toBe(join(ws, "pkg"));
  });
  test("'../..' is refused with validation_failed naming cwd", async () => {
    expect(await codeOf(resolveCwd(ws, "../.."))).toEqual([
      "validation_failed",
      "outside_workspace",
    ]);
    expect(await codeOf(resolveCwd(ws, "/etc"))).toEqual([
      "validation_failed",
      "outside_workspace",
    ]);
  });
  test("a symlink leading out of the workspace is refused", async () => {
    expect(await codeOf(resolveCwd(ws, "escape"))).toEqual(["validation_failed", "symlink_escape"]);
  });
  test("a missing directory and a file are refused", async () => {
    expect(await codeOf(resolveCwd(ws, "nope"))).toEqual(["validation_failed", "not_found"]);
    expect(await codeOf(resolveCwd(ws, "file.txt"))).toEqual([
      "validation_failed",
      "not_a_directory",
    ]);
  });
});

describe("isInside", () => {
  test("a sibling with the root as name prefix is outside", () => {
    expect(isInside("/a/ws", "/a/ws2")).toBe(false);
    expect(isInside("/a/ws", "/a/ws/x")).toBe(true);
    expect(isInside("/a/ws", "/a/ws")).toBe(true);
  });
});
