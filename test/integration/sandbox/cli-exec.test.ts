/**
 * `vltair exec` and the fail-closed sandbox: a warning line on stderr for every limit not
 * applied, refusals exit 1 naming what is missing. In-process (no child `vltair` process).
 */
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runCli } from "../../../src/cli/mod.ts";

const linux = process.platform === "linux";
const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function cli(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: {},
    readFile: (p) => fs.readFileSync(p, "utf8"),
    clocks: { nowMs: () => Date.UTC(2026, 0, 1), monotonicMs: () => 0 },
  });
  return { code, stdout, stderr };
}

/** `vltair exec` in a fresh workspace (data dir inside it) with `flags`, then `-- cmd`. */
async function execIn(flags: string[], cmd: string[]) {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), "vltair-cli-exec-"));
  made.push(ws);
  const out = await cli([
    "exec",
    "--workspace",
    ws,
    "--data-dir",
    `${ws}/.vltair`,
    ...flags,
    "--",
    ...cmd,
  ]);
  return { ws, ...out };
}

describe("vltair exec warnings", () => {
  test.if(linux)("one warning line per limit not applied; the run still happens", async () => {
    const { code, stdout, stderr } = await execIn(
      ["--sandbox-disable", "prlimit", "--cpu-ms", "1000"],
      ["sh", "-c", "echo ok"],
    );
    expect(code).toBe(0);
    expect(stdout).toEndWith("status=OK rc=0\nok\n");
    const warnings = stderr.split("\n").filter((l) => l.startsWith("warning: "));
    expect(warnings.map((l) => l.split(" ")[3])).toEqual(["cpu", "file_size", "open_files"]);
    expect(warnings[0]).toContain("prlimit (rlimits) disabled by configuration");
  });
  test.if(linux)("a refused run exits 1, names what is missing, and runs nothing", async () => {
    const { ws, code, stdout, stderr } = await execIn(
      ["--sandbox-disable", "bubblewrap,unshare"],
      ["touch", "ran.txt"],
    );
    expect(code).toBe(1);
    expect(stdout).toContain("status=SANDBOX_DENIED rc=1 reason=required_not_applied:");
    expect(stderr).toContain("warning: sandbox limit filesystem not applied: ");
    expect(fs.existsSync(`${ws}/ran.txt`)).toBe(false);
  });
  test("an unknown required limit is a usage error naming the option", async () => {
    const { code, stderr } = await cli(["exec", "--sandbox-require", "seccomp", "--", "true"]);
    expect(code).toBe(2);
    expect(stderr).toContain("sandbox_require");
  });
});
