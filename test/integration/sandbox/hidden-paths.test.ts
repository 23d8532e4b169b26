/**
 * Hidden paths end to end, in both modes (bubblewrap, and the init's mount stage without it):
 * the server's secrets are unreadable from a run and a workspace inside the hidden data
 * directory still works; where neither can build a filesystem view the run is refused, whatever
 * the operator allows.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runSandboxed, type SandboxOptions } from "../../../src/sandbox/mod.ts";
import { type Area, type Mode, makeArea, modeCaps, sandboxModes } from "./harness.ts";

const linux = process.platform === "linux";
const SECRET = "admin-token-7f3a";

/** A data directory with secrets and a tenant workspace inside it, and a lone secret file. */
interface Secrets {
  area: Area;
  data: string;
  tenantWs: string;
  secretFile: string;
  options(extra?: Partial<SandboxOptions>): SandboxOptions;
}

async function makeSecrets(mode?: Mode): Promise<Secrets> {
  const area = await makeArea(mode);
  const data = join(area.root, "data");
  const tenantWs = join(data, "workspaces", "t1");
  await mkdir(tenantWs, { recursive: true });
  await mkdir(join(data, "wal"));
  await writeFile(join(data, "admin.token"), SECRET);
  await writeFile(join(data, "tokens.jsonl"), `{"token":"${SECRET}"}\n`);
  await writeFile(join(data, "wal", "00000001.wal"), SECRET);
  const secretFile = join(area.root, "lone-secret.txt");
  await writeFile(secretFile, SECRET);
  return {
    area,
    data,
    tenantWs,
    secretFile,
    options: (extra = {}) => area.options({ hiddenPaths: [data, secretFile], ...extra }),
  };
}

for (const mode of sandboxModes("hidden-paths.test.ts")) {
  const caps = await modeCaps(mode);
  const view = linux && mode.available && (caps.bubblewrap.available || caps.mountStage.available);
  const mechanism = caps.bubblewrap.available ? "bubblewrap" : "unshare_mount";
  if (linux && mode.available && !view)
    console.log(
      `skip [${mode.name}]: hidden paths need a filesystem view: ${caps.mountStage.reason}`,
    );

  describe(`hidden paths [${mode.name}]`, () => {
    let s: Secrets;
    beforeAll(async () => {
      s = await makeSecrets(mode);
    });
    afterAll(async () => {
      await s.area.dispose();
    });
    test.if(view)("a file inside a hidden directory cannot be read", async () => {
      const result = await runSandboxed(
        {
          cmd: [
            "sh",
            "-c",
            `ls -A ${s.data}; cat ${s.data}/admin.token ${s.data}/tokens.jsonl ${s.data}/wal/*`,
          ],
        },
        s.options(),
      );
      expect(result.status).toBe("FAILED");
      expect(result.stdout).not.toContain(SECRET);
      expect(result.stdout.trim()).toBe("");
      expect(result.stderr).toContain("No such file or directory");
      expect(result.enforced.hidden_paths).toMatchObject({
        requested: [s.data, s.secretFile],
        applied: true,
        mechanism,
      });
    });
    test.if(view)("a hidden file is unreadable (masked by /dev/null)", async () => {
      const result = await runSandboxed(
        { cmd: ["sh", "-c", `cat ${s.secretFile}; echo rc=$?`] },
        s.options(),
      );
      expect(result.stdout).not.toContain(SECRET);
      expect(result.stdout).toContain("rc=1");
      expect(await readFile(s.secretFile, "utf8")).toBe(SECRET);
    });
    test.if(view)(
      "a workspace (and temp root) inside the hidden directory still works",
      async () => {
        const tempRoot = join(s.data, "tmp");
        await mkdir(tempRoot, { recursive: true });
        const result = await runSandboxed(
          {
            cmd: [
              "sh",
              "-c",
              'echo written > out.txt && cat out.txt && echo t > "$TMPDIR/t" && cat "$TMPDIR/t" && ls -A',
            ],
          },
          s.options({ workspaceRoot: s.tenantWs, tempRoot }),
        );
        expect(result).toMatchObject({ status: "OK", rc: 0 });
        expect(result.stdout).toBe("written\nt\nout.txt\n");
        expect(await readFile(join(s.tenantWs, "out.txt"), "utf8")).toBe("written\n");
        expect(await readdir(tempRoot)).toEqual([]);
      },
    );
    test.if(view)(
      "a file created in a hidden directory during the run is not visible",
      async () => {
        const go = join(s.area.ws, "go");
        const running = runSandboxed(
          {
            cmd: ["sh", "-c", `while [ ! -e ${go} ]; do sleep 0.02; done; cat ${s.data}/late.txt`],
            limits: { wall_ms: 10_000 },
          },
          s.options(),
        );
        // Written on the host while the run waits: the tmpfs mask covers it anyway.
        await writeFile(join(s.data, "late.txt"), SECRET);
        await writeFile(go, "");
        const result = await running;
        expect(result.stdout).not.toContain(SECRET);
        expect(result.status).toBe("FAILED");
        expect(result.stderr).toContain("No such file or directory");
      },
    );
    test.if(view)("are masked on top of the workspace; a cwd inside one is refused", async () => {
      const inner = join(s.area.ws, "private");
      await mkdir(inner, { recursive: true });
      await writeFile(join(inner, "key"), SECRET);
      await writeFile(join(s.area.ws, "public.txt"), "public");
      const opts = s.area.options({ hiddenPaths: [inner] });
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
}

describe("hidden paths without any filesystem view", () => {
  let s: Secrets;
  beforeAll(async () => {
    s = await makeSecrets();
  });
  afterAll(async () => {
    await s.area.dispose();
  });
  const noView = {
    tools: { bwrap: "/nonexistent/vltair/bwrap", perl: "/nonexistent/vltair/perl" },
  };
  test.if(linux)(
    "the run is refused, naming hidden_paths, even when partial runs are allowed",
    async () => {
      const marker = join(s.area.ws, "ran.txt");
      const result = await runSandboxed(
        { cmd: ["sh", "-c", `echo x > ${marker}; cat ${s.data}/admin.token`], allow_partial: true },
        s.options({ ...noView, allowPartial: true }),
      );
      expect(result).toMatchObject({ status: "SANDBOX_DENIED", stdout: "" });
      expect(result.reason).toStartWith("required_not_applied:hidden_paths — ");
      expect(result.enforced.hidden_paths).toMatchObject({
        requested: [s.data, s.secretFile],
        applied: false,
        mechanism: "none",
      });
      expect(result.enforced.hidden_paths.reason).toContain("/nonexistent/vltair/bwrap not found");
      await expect(readFile(marker, "utf8")).rejects.toThrow();
    },
  );
});
