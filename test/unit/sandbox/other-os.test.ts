/** Pure parts of the macOS, Windows and portable shims: these run on every OS. */
import { describe, expect, test } from "bun:test";
import { darwinProfile, darwinShim, sbplString } from "../../../src/sandbox/darwin.ts";
import { portableShim } from "../../../src/sandbox/portable.ts";
import { selectShim } from "../../../src/sandbox/select-shim.ts";
import { ulimitReadyScript } from "../../../src/sandbox/ulimit-script.ts";
import { taskkillArgs, windowsReport, windowsShim } from "../../../src/sandbox/windows.ts";
import { linuxCaps, missing, shimInput } from "./fixtures.ts";

describe("darwin", () => {
  test("the profile denies network and writes outside the writable paths", () => {
    const profile = darwinProfile({
      network: "deny",
      writable: ["/Users/me/ws", "/private/tmp/vltair-ab-1"],
    });
    expect(profile).toContain("(deny network*)");
    expect(profile).toContain("(deny file-write*)");
    expect(profile).toContain('(subpath "/Users/me/ws")');
    expect(profile).toContain('(subpath "/private/tmp/vltair-ab-1")');
    expect(darwinProfile({ network: "allow", writable: [] })).not.toContain("network");
  });
  test("SBPL strings escape quotes and backslashes", () => {
    expect(sbplString('/a "b"\\c')).toBe('"/a \\"b\\"\\\\c"');
  });
  test("with sandbox-exec the report claims filesystem and network, never memory or pids", async () => {
    const caps = linuxCaps({
      platform: "darwin",
      sandboxExec: { available: true, path: "/usr/bin/sandbox-exec", reason: "found" },
    });
    const plan = await darwinShim.prepare(shimInput({ cmd: ["x"] }, caps));
    expect(plan.argv.slice(0, 2)).toEqual(["/usr/bin/sandbox-exec", "-p"]);
    expect(plan.enforced.filesystem).toMatchObject({ applied: true, mechanism: "sandbox_exec" });
    expect(plan.enforced.network).toMatchObject({ applied: true, mechanism: "sandbox_exec" });
    expect(plan.enforced.memory.applied).toBe(false);
    expect(plan.enforced.pids.applied).toBe(false);
    expect(plan.enforced.process_tree.applied).toBe(false);
  });
  test("without sandbox-exec filesystem and network say why", async () => {
    const caps = linuxCaps({
      platform: "darwin",
      sandboxExec: missing("/usr/bin/sandbox-exec not found on PATH"),
    });
    const plan = await darwinShim.prepare(shimInput({ cmd: ["x"] }, caps));
    expect(plan.enforced.filesystem.reason).toContain("sandbox-exec unavailable");
    expect(plan.enforced.network.applied).toBe(false);
  });
});

describe("a network allowlist off Linux", () => {
  test.each(["darwin", "win32", "freebsd"])(
    "%s: network not applied (the run is refused)",
    async (platform) => {
      const caps = linuxCaps({
        platform,
        sandboxExec: { available: true, path: "/usr/bin/sandbox-exec", reason: "found" },
      });
      const shim = selectShim(platform);
      const plan = await shim.prepare(
        shimInput({ cmd: ["x"], network: { allow: ["a.test"] } }, caps),
      );
      expect(plan.enforced.network).toMatchObject({ requested: ["a.test"], applied: false });
      await plan.tracker.dispose();
    },
  );
});

describe("windows", () => {
  test("the report applies only the timeout, with a tree kill", () => {
    const report = windowsReport(
      shimInput({ cmd: ["x"], limits: { cpu_ms: 1000 } }, linuxCaps()),
      true,
    );
    expect(report.timeout).toMatchObject({
      applied: true,
      mechanism: "monotonic_timer+taskkill_tree",
    });
    for (const key of [
      "memory",
      "pids",
      "network",
      "filesystem",
      "cpu",
      "file_size",
      "open_files",
      "process_tree",
    ] as const) {
      expect(report[key].applied).toBe(false);
    }
    expect(taskkillArgs(42)).toEqual(["/T", "/F", "/PID", "42"]);
  });
  test("the plan runs the command directly, no process group, no marker", async () => {
    const plan = await windowsShim.prepare(
      shimInput({ cmd: ["python", "-V"] }, linuxCaps({ platform: "win32" })),
    );
    expect(plan.argv).toEqual(["python", "-V"]);
    expect(plan.detached).toBe(false);
    expect(plan.readyMarker).toBe(false);
  });
});

describe("portable and selection", () => {
  test("ulimit lines precede the ready stage; -f counts 512-byte blocks", () => {
    const script = ulimitReadyScript({ cpuSeconds: 2, fileSizeBytes: 1000, openFiles: 256 });
    expect(script.startsWith("ulimit -t 2 && ulimit -f 2 && ulimit -n 256 && printf R >&3")).toBe(
      true,
    );
  });
  test("the portable plan reports memory, network and filesystem as not applied", async () => {
    const plan = await portableShim.prepare(
      shimInput({ cmd: ["x"] }, linuxCaps({ platform: "freebsd" })),
    );
    expect(plan.enforced.memory.applied).toBe(false);
    expect(plan.enforced.network.applied).toBe(false);
    expect(plan.enforced.filesystem.applied).toBe(false);
    expect(plan.enforced.open_files.applied).toBe(true);
  });
  test("selectShim maps each platform", () => {
    expect(selectShim("linux").name).toBe("linux");
    expect(selectShim("darwin").name).toBe("darwin");
    expect(selectShim("win32").name).toBe("windows");
    expect(selectShim("openbsd").name).toBe("portable");
  });
});
