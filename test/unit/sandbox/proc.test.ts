import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  foreignNamespaces,
  isWrapperProcess,
  type ProcEntry,
  parseStat,
  runMembers,
} from "../../../src/sandbox/proc.ts";

const p = (
  pid: number,
  ppid: number,
  pgid: number,
  state = "S",
  pidNs: string | null = "pid:[1]",
): ProcEntry => ({
  pid,
  ppid,
  pgid,
  state,
  pidNs,
});

describe("parseStat", () => {
  test("reads pid, state, ppid and pgid even when comm has spaces and parens", () => {
    expect(parseStat("1234 (my (weird) cmd) S 1 1234 1234 0 -1")).toEqual({
      pid: 1234,
      ppid: 1,
      pgid: 1234,
      state: "S",
    });
  });
  test("returns null for garbage", () => {
    expect(parseStat("nothing here")).toBeNull();
  });
});

describe("runMembers", () => {
  const entries = [
    p(1, 0, 1),
    p(100, 1, 100), // the server
    p(200, 100, 200), // leader
    p(201, 200, 200), // child in the group
    p(202, 1, 202, "S", "pid:[9]"), // setsid grandchild reparented to init, inside the run's PID ns
    p(203, 1, 200), // orphan still in the leader's process group
    p(204, 200, 204, "Z"), // zombie child: dead
    p(300, 1, 300), // unrelated
  ];
  test("finds descendants, the process group and the run's PID namespace, alive only", () => {
    const members = runMembers(entries, {
      leaderPid: 200,
      pidNamespaces: new Set(["pid:[9]"]),
      selfPid: 100,
    });
    expect(members).toEqual([200, 201, 202, 203]);
  });
  test("without the namespace the reparented setsid child is not found", () => {
    expect(runMembers(entries, { leaderPid: 200, pidNamespaces: new Set(), selfPid: 100 })).toEqual(
      [200, 201, 203],
    );
  });
  test("foreignNamespaces lists namespaces of descendants other than the server's", () => {
    const tree = [
      p(200, 100, 200),
      p(201, 200, 200, "S", "pid:[9]"),
      p(202, 201, 200, "S", "pid:[9]"),
    ];
    expect(foreignNamespaces(tree, 200, "pid:[1]")).toEqual(["pid:[9]"]);
  });
});

describe("isWrapperProcess", () => {
  test("a process of the server's namespace or a namespace init is a wrapper; the command is not", () => {
    const root = mkdtempSync(join(tmpdir(), "vltair-proc-"));
    const status = (pid: number, nspid: string) => {
      mkdirSync(join(root, String(pid)));
      writeFileSync(join(root, String(pid), "status"), `Name:\tx\nNSpid:\t${nspid}\nNSpgid:\t1\n`);
    };
    status(10, "10"); // bwrap / unshare, in the server's namespace
    status(11, "11\t1"); // the run's init
    status(12, "12\t2"); // the command
    status(13, "13\t7\t1"); // an init two namespaces down
    // 99: gone (no status file)
    const found = [10, 11, 12, 13, 99].map((pid) => isWrapperProcess(root, pid));
    rmSync(root, { recursive: true, force: true });
    expect(found).toEqual([true, true, false, true, false]);
  });
});
