/**
 * Hidden paths (server secrets masked from runs): validation, resolution, mount order, the
 * bubblewrap arguments and the honest report on every shim.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VltairError } from "../../../src/core/mod.ts";
import { darwinProfile, darwinShim } from "../../../src/sandbox/darwin.ts";
import {
  HIDDEN_PATHS_MAX,
  type HiddenPath,
  normalizeHiddenPaths,
  orderMounts,
  resolveHiddenPaths,
} from "../../../src/sandbox/hidden-paths.ts";
import { type PlannedCgroup, planLinux } from "../../../src/sandbox/linux/linux-plan.ts";
import { portableShim } from "../../../src/sandbox/portable.ts";
import { windowsShim } from "../../../src/sandbox/windows.ts";
import { linuxCaps, missing, shimInput } from "./fixtures.ts";

const noCgroup: PlannedCgroup = {
  version: null,
  memory: false,
  pids: false,
  procsFiles: [],
  memoryReason: "none",
  pidsReason: "none",
};

const dir = (real: string): HiddenPath => ({ path: real, real, kind: "dir" });
const file = (real: string): HiddenPath => ({ path: real, real, kind: "file" });
const absent = (real: string): HiddenPath => ({ path: real, real, kind: "absent" });

function configError(fn: () => unknown): VltairError {
  try {
    fn();
  } catch (error) {
    if (error instanceof VltairError) return error;
    throw error;
  }
  throw new Error("expected a config_invalid error");
}

describe("normalizeHiddenPaths", () => {
  test("normalises, drops duplicates, accepts none", () => {
    expect(normalizeHiddenPaths(undefined)).toEqual([]);
    expect(normalizeHiddenPaths(["/srv/data/", "/srv/data", "/srv/x/../data/admin.token"])).toEqual(
      ["/srv/data", "/srv/data/admin.token"],
    );
  });
  test("refuses relative paths, the root, NUL and too many paths with config_invalid", () => {
    for (const bad of [["data"], ["/"], ["/a/.."], ["/a\0b"], [""]]) {
      const error = configError(() => normalizeHiddenPaths(bad));
      expect(error.code).toBe("config_invalid");
      expect(error.details).toMatchObject({ field: "sandbox.hidden_paths" });
    }
    const many = Array.from({ length: HIDDEN_PATHS_MAX + 1 }, (_, i) => `/p${i}`);
    expect(configError(() => normalizeHiddenPaths(many)).code).toBe("config_invalid");
  });
});

describe("resolveHiddenPaths", () => {
  let root = "";
  beforeEach(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), "vltair-hidden-test-")));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });
  test("types directories, files and absent paths; resolves symlinks", async () => {
    await mkdir(join(root, "data"));
    await writeFile(join(root, "data", "admin.token"), "secret");
    await symlink(join(root, "data"), join(root, "link"));
    const found = await resolveHiddenPaths([
      join(root, "data"),
      join(root, "link", "admin.token"),
      join(root, "link", "later.jsonl"),
    ]);
    expect(found).toEqual([
      { path: join(root, "data"), real: join(root, "data"), kind: "dir" },
      {
        path: join(root, "link", "admin.token"),
        real: join(root, "data", "admin.token"),
        kind: "file",
      },
      {
        path: join(root, "link", "later.jsonl"),
        real: join(root, "data", "later.jsonl"),
        kind: "absent",
      },
    ]);
  });
});

describe("orderMounts", () => {
  test("shallow first, a bind after a mask of the same depth", () => {
    const steps = orderMounts(
      [dir("/srv/data"), file("/ws/.env"), dir("/ws")],
      ["/srv/data/workspaces/t1", "/ws", "/tmp/vltair-ab-1"],
    );
    expect(
      steps.map((s) => (s.kind === "bind" ? `bind:${s.path}` : `mask:${s.hidden.real}`)),
    ).toEqual([
      "mask:/ws",
      "bind:/ws",
      "mask:/srv/data",
      "mask:/ws/.env",
      "bind:/tmp/vltair-ab-1",
      "bind:/srv/data/workspaces/t1",
    ]);
  });
});

function linuxPlan(hidden: HiddenPath[], caps = linuxCaps()) {
  const input = shimInput({ cmd: ["x"] }, caps);
  return planLinux({
    req: input.req,
    cwd: "/srv/data/workspaces/t1",
    workspaceRoot: "/srv/data/workspaces/t1",
    runTempDir: "/tmp/vltair-ab-1",
    caps,
    limits: input.limits,
    cgroup: noCgroup,
    hidden,
  });
}

describe("planLinux with hidden paths", () => {
  test("masks a directory with a tmpfs and a file with /dev/null before the workspace bind", () => {
    const plan = linuxPlan([
      dir("/srv/data"),
      file("/etc/vltair/admin.token"),
      absent("/srv/data/tokens.jsonl"),
    ]);
    const argv = plan.argv.join(" ");
    expect(argv).toContain("--tmpfs /srv/data");
    expect(argv).toContain("--ro-bind /dev/null /etc/vltair/admin.token");
    expect(argv).not.toContain("tokens.jsonl");
    const tmpfs = plan.argv.indexOf("/srv/data");
    const bind = plan.argv.indexOf("/srv/data/workspaces/t1");
    expect(tmpfs).toBeGreaterThan(plan.argv.indexOf("/"));
    expect(bind).toBeGreaterThan(tmpfs);
    expect(plan.argv[bind - 1]).toBe("--bind");
    expect(plan.enforced.hidden_paths).toMatchObject({
      requested: ["/srv/data", "/etc/vltair/admin.token", "/srv/data/tokens.jsonl"],
      applied: true,
      mechanism: "bubblewrap",
    });
    expect(plan.enforced.hidden_paths.reason).toContain("1 directories");
    expect(plan.enforced.hidden_paths.reason).toContain("absent at the run's start");
  });
  test("no hidden paths: not requested, and the bwrap argv is unchanged", () => {
    const plan = linuxPlan([]);
    expect(plan.enforced.hidden_paths).toEqual({
      requested: null,
      applied: false,
      mechanism: "none",
      reason: "not requested",
    });
    expect(plan.argv).not.toContain("/dev/null");
  });
  test("a hidden path that is the workspace itself stays visible: not applied", () => {
    const plan = linuxPlan([dir("/srv/data/workspaces/t1"), file("/etc/x")]);
    expect(plan.enforced.hidden_paths).toMatchObject({ applied: false });
    expect(plan.enforced.hidden_paths.reason).toContain("stays visible: /srv/data/workspaces/t1");
  });
  test("without bubblewrap the init's mount stage masks them in the same order", () => {
    const plan = linuxPlan(
      [dir("/srv/data"), file("/srv/data/workspaces/t1/.env")],
      linuxCaps({ bubblewrap: missing("bubblewrap disabled by configuration") }),
    );
    expect(plan.enforced.hidden_paths).toMatchObject({ applied: true, mechanism: "unshare_mount" });
    const ops = plan.argv.filter((a) => /^[MFB]\//.test(a));
    expect(ops).toEqual([
      "M/srv/data",
      "B/tmp/vltair-ab-1",
      "B/srv/data/workspaces/t1",
      "F/srv/data/workspaces/t1/.env",
    ]);
  });
  test("with neither bubblewrap nor the mount stage the paths are not applied, with why", () => {
    const plan = linuxPlan(
      [dir("/srv/data")],
      linuxCaps({
        bubblewrap: missing("bubblewrap disabled by configuration"),
        mountStage: missing("needs perl: perl not found on PATH"),
      }),
    );
    expect(plan.enforced.hidden_paths).toMatchObject({
      requested: ["/srv/data"],
      applied: false,
      mechanism: "none",
    });
    expect(plan.enforced.hidden_paths.reason).toContain("bubblewrap disabled by configuration");
    expect(plan.enforced.hidden_paths.reason).toContain("perl not found on PATH");
  });
});

describe("other shims", () => {
  test("macOS: reads and writes denied under each hidden path, the workspace re-allowed after", () => {
    const profile = darwinProfile({
      network: "deny",
      writable: ["/Users/me/data/ws", "/private/tmp/vltair-ab-1"],
      hidden: ["/Users/me/data", "/Users/me/data/ws/.env"],
    });
    const lines = profile.split("\n");
    const deny = lines.indexOf('(deny file-read* file-write* (subpath "/Users/me/data"))');
    const allow = lines.indexOf('(allow file-read* file-write* (subpath "/Users/me/data/ws"))');
    const inner = lines.indexOf('(deny file-read* file-write* (subpath "/Users/me/data/ws/.env"))');
    expect(deny).toBeGreaterThan(0);
    expect(allow).toBeGreaterThan(deny);
    expect(inner).toBeGreaterThan(allow);
    expect(darwinProfile({ network: "deny", writable: ["/w"] })).not.toContain("file-read");
  });
  test("macOS report: applied with sandbox-exec, not applied without", async () => {
    const input = (available: boolean) => ({
      ...shimInput(
        { cmd: ["x"] },
        linuxCaps({
          platform: "darwin",
          sandboxExec: available
            ? { available: true, path: "/usr/bin/sandbox-exec", reason: "found" }
            : missing("not found"),
        }),
      ),
      hidden: [absent("/Users/me/data")],
    });
    const on = await darwinShim.prepare(input(true));
    expect(on.enforced.hidden_paths).toMatchObject({ applied: true, mechanism: "sandbox_exec" });
    expect(on.argv[2]).toContain('(deny file-read* file-write* (subpath "/Users/me/data"))');
    const off = await darwinShim.prepare(input(false));
    expect(off.enforced.hidden_paths).toMatchObject({
      applied: false,
      requested: ["/Users/me/data"],
    });
  });
  test("portable and Windows shims cannot hide paths and say so", async () => {
    for (const [shim, platform] of [
      [portableShim, "freebsd"],
      [windowsShim, "win32"],
    ] as const) {
      const input = { ...shimInput({ cmd: ["x"] }, linuxCaps({ platform })), hidden: [dir("/d")] };
      const plan = await shim.prepare(input);
      expect(plan.enforced.hidden_paths).toMatchObject({ requested: ["/d"], applied: false });
      expect(plan.enforced.hidden_paths.reason).toContain("the run can read them");
    }
  });
});
