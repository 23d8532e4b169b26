/**
 * A stand-in server for the sweep test: runs one long sandboxed command and never returns on
 * its own; the test SIGKILLs this process mid-run. Arguments: workspace root, temp root, a
 * marker the command carries on its command line, and the mechanisms to switch off
 * (comma-separated, may be empty).
 */
import { runSandboxed, type SandboxMechanism } from "../../../src/sandbox/mod.ts";

const [workspaceRoot, tempRoot, marker, disable = ""] = process.argv.slice(2);
if (workspaceRoot === undefined || tempRoot === undefined || marker === undefined) {
  throw new Error("usage: crash-child.ts WORKSPACE TEMP_ROOT MARKER");
}
await runSandboxed(
  { cmd: ["sh", "-c", "touch started; sleep 60", marker], limits: { wall_ms: 120_000 } },
  {
    workspaceRoot,
    tempRoot,
    disable: disable.split(",").filter((m) => m !== "") as SandboxMechanism[],
  },
);
