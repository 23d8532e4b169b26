/**
 * The unprivileged path: the same sandbox run by an ordinary user (here `nobody`, through
 * `runuser`), where no cgroup is writable, so memory falls back to RLIMIT_AS, pids to
 * RLIMIT_NPROC, and bubblewrap (or, without it, unshare and the init) builds its own user
 * namespace. Needs root to switch user. Both modes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { SandboxResult } from "../../../src/sandbox/mod.ts";
import { findExecutable } from "../../../src/sandbox/probe.ts";
import { modeCaps, sandboxModes } from "./harness.ts";

const runuser = await findExecutable(
  "runuser",
  process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
);

for (const mode of sandboxModes("unprivileged.test.ts")) {
  const caps = await modeCaps(mode);
  const bwrap = caps.bubblewrap.available;
  const can =
    process.platform === "linux" &&
    mode.available &&
    caps.uid === 0 &&
    runuser !== null &&
    (bwrap || caps.mountStage.available);
  const view = bwrap ? "bubblewrap" : "unshare_mount";
  const ns = bwrap ? "bubblewrap" : "unshare";
  if (!can && process.platform === "linux" && mode.available)
    console.log(
      `skip [${mode.name}]: the unprivileged sandbox test needs root, runuser and a filesystem view`,
    );

  let root = "";
  beforeAll(async () => {
    root = await mkdtemp("/var/tmp/vltair-unpriv-");
    for (const dir of ["ws", "temp", "outside"]) await mkdir(join(root, dir));
    for (const dir of ["", "ws", "temp", "outside"]) await chmod(join(root, dir), 0o777);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe(`unprivileged sandbox (runs as nobody) [${mode.name}]`, () => {
    test.if(can)("falls back to rlimits and still isolates filesystem and network", () => {
      const child = join(
        import.meta.dir,
        "..",
        "..",
        "fixtures",
        "sandbox",
        "unprivileged-child.ts",
      );
      const out = spawnSync(
        runuser ?? "runuser",
        [
          "-u",
          "nobody",
          "--",
          process.execPath,
          child,
          join(root, "ws"),
          join(root, "temp"),
          join(root, "outside"),
          mode.disable.join(","),
        ],
        { encoding: "utf8", timeout: 60_000 },
      );
      expect(out.status).toBe(0);
      const { write, hog, net } = JSON.parse(out.stdout) as Record<string, SandboxResult>;
      // unshare maps the user to root of its own namespace (the init needs that to mount).
      expect(write?.stdout).toBe(bwrap ? "65534\n" : "0\n");
      expect(write?.status).toBe("FAILED");
      expect(write?.stderr).toContain("Read-only file system");
      expect(write?.enforced.filesystem).toMatchObject({ applied: true, mechanism: view });
      expect(write?.enforced.memory).toMatchObject({ applied: true, mechanism: "rlimit_as" });
      expect(write?.enforced.pids).toMatchObject({ applied: true, mechanism: "rlimit_nproc" });
      expect(hog).toMatchObject({ status: "MEM_LIMIT", reason: "memory_limit:rlimit_as" });
      expect(net?.status).toBe("FAILED");
      expect(net?.enforced.network).toMatchObject({ applied: true, mechanism: `${ns}_netns` });
    });
    test.if(can)("left nothing in the temp root and wrote nothing outside", async () => {
      expect(await readdir(join(root, "temp"))).toEqual([]);
      await expect(stat(join(root, "outside", "escaped.txt"))).rejects.toThrow();
      const inside = await stat(join(root, "ws", "inside.txt"));
      // Whatever the run's namespace calls it, on the host the file belongs to nobody.
      expect(inside.uid).toBe(65534);
    });
  });
}
