/**
 * The Linux ready stage's `ulimit` commands: exact text, fail-stop prefix, and the capability
 * probe run by the real `sh` here (it must accept dash/POSIX bash and reject 1024-byte `-f`).
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import {
  ULIMIT_PROBE_SCRIPT,
  ulimitCommands,
  ulimitPrefix,
} from "../../../src/sandbox/ulimit-script.ts";

const none = {
  addressSpaceBytes: null,
  cpuSoftSeconds: null,
  cpuHardSeconds: null,
  fileSizeBytes: null,
  openFiles: null,
};
const linux = process.platform === "linux";

describe("ulimit stage", () => {
  test("units: -v KiB rounded down, -f 512-byte blocks rounded up, cpu soft then hard", () => {
    expect(
      ulimitCommands({
        addressSpaceBytes: 64 * 1024 * 1024 + 1000,
        cpuSoftSeconds: 2,
        cpuHardSeconds: 3,
        fileSizeBytes: 1000,
        openFiles: 256,
      }),
    ).toEqual([
      "ulimit -v 65536",
      "ulimit -S -t 2",
      "ulimit -H -t 3",
      "ulimit -f 2",
      "ulimit -n 256",
    ]);
    expect(ulimitPrefix(none)).toBe("");
  });
  test.if(linux)("a failing ulimit exits 125 before anything after the prefix runs", () => {
    const prefix = ulimitPrefix({ ...none, openFiles: 1 << 30 });
    const out = spawnSync("sh", ["-c", `${prefix}echo ran`], { encoding: "utf8" });
    expect(out.status).toBe(125);
    expect(out.stdout).toBe("");
  });
  test.if(linux)("the probe passes with this host's sh and sets what it claims", () => {
    expect(spawnSync("sh", ["-c", ULIMIT_PROBE_SCRIPT]).status).toBe(0);
    const prefix = ulimitPrefix({ ...none, fileSizeBytes: 4096, openFiles: 300 });
    const limits = spawnSync("sh", ["-c", `${prefix}exec cat /proc/self/limits`], {
      encoding: "utf8",
    }).stdout;
    expect(limits).toMatch(/^Max file size +4096 +4096 /m);
    expect(limits).toMatch(/^Max open files +300 +300 /m);
  });
  test.if(linux && spawnSync("bash", ["--version"]).status === 0)(
    "the probe rejects a shell whose -f counts 1024-byte blocks (bash outside POSIX mode)",
    () => {
      expect(spawnSync("bash", ["-c", ULIMIT_PROBE_SCRIPT]).status).not.toBe(0);
    },
  );
});
