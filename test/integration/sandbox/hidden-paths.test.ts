/**
 * Hidden paths end to end (Linux with bubblewrap): the server's secrets are unreadable from a
 * run, a workspace inside the hidden data directory still works, and without bubblewrap the
 * report says the paths are not hidden (and allow_partial:false refuses).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { detectCapabilities, runSandboxed, type SandboxOptions } from "../../../src/sandbox/mod.ts";
import { type Area, makeArea } from "./harness.ts";

const linux = process.platform === "linux";
const caps = await detectCapabilities();
const bwrap = linux && caps.bubblewrap.available;
if (!bwrap) console.log(`skip: hidden paths need bubblewrap (${caps.bubblewrap.reason})`);

const SECRET = "admin-token-7f3a";
let area: Area;
let data = "";
let tenantWs = "";
let secretFile = "";

beforeAll(async () => {
  area = await makeArea();
  data = join(area.root, "data");
  tenantWs = join(data, "workspaces", "t1");
  await mkdir(tenantWs, { recursive: true });
  await writeFile(join(data, "admin.token"), SECRET);
  await writeFile(join(data, "tokens.jsonl"), `{"token":"${SECRET}"}\n`);
  secretFile = join(area.root, "lone-secret.txt");
  await writeFile(secretFile, SECRET);
});
afterAll(async () => {
  await area.dispose();
});

function options(extra: Partial<SandboxOptions> = {}): SandboxOptions {
  return area.options({ hiddenPaths: [data, secretFile], ...extra });
}

describe("hidden paths under bubblewrap", () => {
  test.if(bwrap)("a file inside a hidden directory cannot be read", async () => {
    const result = await runSandboxed(
      { cmd: ["sh", "-c", `ls -A ${data}; cat ${data}/admin.token; cat ${data}/tokens.jsonl`] },
      options(),
    );
    expect(result.status).toBe("FAILED");
    expect(result.stdout).not.toContain(SECRET);
    expect(result.stdout.trim()).toBe("");
    expect(result.stderr).toContain("No such file or directory");
    expect(result.enforced.hidden_paths).toMatchObject({
      requested: [data, secretFile],
      applied: true,
      mechanism: "bubblewrap",
    });
  });
  test.if(bwrap)("a hidden file is unreadable (masked by /dev/null)", async () => {
    const result = await runSandboxed(
      { cmd: ["sh", "-c", `cat ${secretFile}; echo rc=$?`] },
      options(),
    );
    expect(result.stdout).not.toContain(SECRET);
    expect(result.stdout).toContain("rc=1");
    expect(await readFile(secretFile, "utf8")).toBe(SECRET);
  });
  test.if(bwrap)(
    "a workspace (and temp root) inside the hidden directory still works",
    async () => {
      const tempRoot = join(data, "tmp");
      await mkdir(tempRoot, { recursive: true });
      const result = await runSandboxed(
        {
          cmd: [
            "sh",
            "-c",
            'echo written > out.txt && cat out.txt && echo t > "$TMPDIR/t" && cat "$TMPDIR/t" && ls -A',
          ],
        },
        options({ workspaceRoot: tenantWs, tempRoot }),
      );
      expect(result).toMatchObject({ status: "OK", rc: 0 });
      expect(result.stdout).toBe("written\nt\nout.txt\n");
      expect(await readFile(join(tenantWs, "out.txt"), "utf8")).toBe("written\n");
      expect(await readdir(tempRoot)).toEqual([]);
    },
  );
  test.if(bwrap)("a file created in a hidden directory during the run is not visible", async () => {
    const go = join(area.ws, "go");
    const running = runSandboxed(
      {
        cmd: ["sh", "-c", `while [ ! -e ${go} ]; do sleep 0.02; done; cat ${data}/late.txt`],
        limits: { wall_ms: 10_000 },
      },
      options(),
    );
    // Written on the host while the run waits: the tmpfs mask covers it anyway.
    await writeFile(join(data, "late.txt"), SECRET);
    await writeFile(go, "");
    const result = await running;
    expect(result.stdout).not.toContain(SECRET);
    expect(result.status).toBe("FAILED");
    expect(result.stderr).toContain("No such file or directory");
  });
});

describe("hidden paths inside the workspace", () => {
  test.if(bwrap)("are masked on top of the workspace; a cwd inside one is refused", async () => {
    const inner = join(area.ws, "private");
    await mkdir(inner, { recursive: true });
    await writeFile(join(inner, "key"), SECRET);
    await writeFile(join(area.ws, "public.txt"), "public");
    const opts = area.options({ hiddenPaths: [inner] });
    const result = await runSandboxed(
      { cmd: ["sh", "-c", "cat public.txt; cat private/key; ls -A private"] },
      opts,
    );
    expect(result.stdout).toBe("public");
    expect(result.stderr).toContain("No such file or directory");
    const refused = runSandboxed({ cmd: ["true"], cwd: "private" }, opts);
    await expect(refused).rejects.toMatchObject({
      code: "validation_failed",
      details: { field: "cwd", issue: "hidden" },
    });
    expect(await readFile(join(inner, "key"), "utf8")).toBe(SECRET);
  });
});

describe("hidden paths without filesystem isolation", () => {
  test.if(linux)("the report says not applied, and the run can indeed read them", async () => {
    const result = await runSandboxed(
      { cmd: ["cat", join(data, "admin.token")] },
      options({ disable: ["bubblewrap"] }),
    );
    expect(result.enforced.hidden_paths).toMatchObject({
      requested: [data, secretFile],
      applied: false,
      mechanism: "none",
    });
    expect(result.enforced.hidden_paths.reason).toContain("bubblewrap disabled by configuration");
    expect(result.stdout).toBe(SECRET);
  });
  test.if(linux)("allow_partial:false refuses, naming hidden_paths, and runs nothing", async () => {
    const marker = join(area.ws, "ran.txt");
    const result = await runSandboxed(
      { cmd: ["sh", "-c", `echo x > ${marker}`], allow_partial: false },
      options({ disable: ["bubblewrap"] }),
    );
    expect(result.status).toBe("INTERNAL_ERROR");
    expect(result.reason).toContain("hidden_paths");
    await expect(readFile(marker, "utf8")).rejects.toThrow();
  });
});
