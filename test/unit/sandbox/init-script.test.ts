import { describe, expect, test } from "bun:test";
import {
  encodeMountOp,
  INIT_SCRIPT,
  initArgv,
  initSyscalls,
  parseInitStatus,
} from "../../../src/sandbox/linux/init-script.ts";
import { mountOps } from "../../../src/sandbox/linux/mount-plan.ts";
import { signalName } from "../../../src/sandbox/status.ts";

describe("init argv", () => {
  test("system call numbers per architecture; an unknown one has none", () => {
    expect(initSyscalls("x64")).toEqual({ mount: 165, umount2: 166, pivotRoot: 155, prctl: 157 });
    expect(initSyscalls("arm64")).toEqual({ mount: 40, umount2: 39, pivotRoot: 41, prctl: 167 });
    expect(initSyscalls("s390x")).toBeNull();
  });
  test("perl -e INIT, the numbers, P when dropping capabilities, the ops, then --", () => {
    const ops = mountOps({
      runTempDir: "/t/r",
      cwd: "/ws/a b",
      writable: ["/ws", "/t/r"],
      hidden: [{ path: "/data", real: "/data", kind: "dir" }],
    });
    expect(
      initArgv("/usr/bin/perl", initSyscalls("arm64"), { dropCapabilities: true, ops }),
    ).toEqual([
      "/usr/bin/perl",
      "-e",
      INIT_SCRIPT,
      "S40,39,41,167",
      "P",
      "R/t/r/root",
      "D",
      "T",
      "M/data",
      "B/ws",
      "B/t/r",
      "C/ws/a b",
      "--",
    ]);
    expect(initArgv("perl", null, { dropCapabilities: false, ops: [] })).toEqual([
      "perl",
      "-e",
      INIT_SCRIPT,
      "S-",
      "--",
    ]);
    expect(encodeMountOp({ op: "maskFile", path: "/a/b" })).toBe("F/a/b");
  });
});

describe("parseInitStatus", () => {
  test("the last complete X record wins; none is null", () => {
    expect(parseInitStatus("RX9\n")).toBe(9);
    expect(parseInitStatus("RX35072\n")).toBe(35072);
    expect(parseInitStatus("X0\nX9\n")).toBe(9);
    expect(parseInitStatus("R")).toBeNull();
    expect(parseInitStatus("RX12")).toBeNull();
  });
});

describe("signalName", () => {
  test("names from the OS table; an unknown number is SIG<n>", () => {
    expect(signalName(9)).toBe("SIGKILL");
    expect(signalName(11)).toBe("SIGSEGV");
    expect(signalName(24)).toBe("SIGXCPU");
    expect(signalName(6)).toBe("SIGABRT");
    expect(signalName(99)).toBe("SIG99");
  });
});
