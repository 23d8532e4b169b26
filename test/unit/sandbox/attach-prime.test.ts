/**
 * The attach prime (attach-prime.ts) against a fake hierarchy: it writes "0" to the server's own
 * `cgroup.procs` only while `/proc/self/cgroup` still lists the server there, and never throws.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { primeAttach } from "../../../src/sandbox/linux/attach-prime.ts";
import { probeCgroups } from "../../../src/sandbox/linux/cgroup.ts";

let root = "";
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "vltair-prime-test-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("primeAttach", () => {
  test("writes 0 to the server's own cgroup.procs when it is still there", async () => {
    const ownDir = join(root, "memory", "svc");
    await mkdir(ownDir, { recursive: true });
    await writeFile(join(ownDir, "cgroup.procs"), "");
    const prime = { key: "memory", ownPath: "/svc", ownDir };
    expect(await primeAttach(prime, () => "4:memory:/svc\n0::/\n")).toBe(true);
    expect(await readFile(join(ownDir, "cgroup.procs"), "utf8")).toBe("0");
  });
  test("does nothing when the server was moved since the probe", async () => {
    const ownDir = join(root, "memory", "svc");
    await mkdir(ownDir, { recursive: true });
    await writeFile(join(ownDir, "cgroup.procs"), "");
    const prime = { key: "memory", ownPath: "/svc", ownDir };
    expect(await primeAttach(prime, () => "4:memory:/elsewhere\n")).toBe(false);
    expect(await primeAttach(prime, () => "")).toBe(false);
    expect(await readFile(join(ownDir, "cgroup.procs"), "utf8")).toBe("");
  });
  test("a failed write is false, not an error", async () => {
    const prime = { key: "", ownPath: "/", ownDir: join(root, "absent", "dir") };
    expect(await primeAttach(prime, () => "0::/\n")).toBe(false);
  });
});

describe("probeCgroups: the prime target is the server's own cgroup", () => {
  test("v1: the server's memory cgroup", async () => {
    await mkdir(join(root, "memory", "srv"), { recursive: true });
    await writeFile(join(root, "memory", "srv", "cgroup.procs"), "");
    const layout = await probeCgroups(root, "4:memory:/srv\n0::/\n");
    expect(layout.prime).toEqual({
      key: "memory",
      ownPath: "/srv",
      ownDir: join(root, "memory", "srv"),
    });
  });
  test("v2 in a delegated leaf: the leaf, not the parent the runs are created in", async () => {
    await writeFile(join(root, "cgroup.controllers"), "memory pids");
    await mkdir(join(root, "app", "server"), { recursive: true });
    await writeFile(join(root, "app", "cgroup.subtree_control"), "memory pids\n");
    await writeFile(join(root, "app", "server", "cgroup.subtree_control"), "");
    const layout = await probeCgroups(root, "0::/app/server\n");
    expect(layout.v2.parentDir).toBe(join(root, "app"));
    expect(layout.prime).toEqual({
      key: "",
      ownPath: "/app/server",
      ownDir: join(root, "app", "server"),
    });
  });
  test("no usable hierarchy: no prime", async () => {
    expect((await probeCgroups(root, "")).prime).toBeNull();
  });
});
