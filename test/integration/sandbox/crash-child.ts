/**
 * A stand-in server for the sweep test: runs one long sandboxed command and never returns on
 * its own; the test SIGKILLs this process mid-run. Arguments: workspace root, temp root, and a
 * marker the command carries on its command line.
 */
import { runSandboxed } from "../../../src/sandbox/mod.ts";

const [workspaceRoot, tempRoot, marker] = process.argv.slice(2);
if (workspaceRoot === undefined || tempRoot === undefined || marker === undefined) {
  throw new Error("usage: crash-child.ts WORKSPACE TEMP_ROOT MARKER");
}
await runSandboxed(
  { cmd: ["sh", "-c", "touch started; sleep 60", marker], limits: { wall_ms: 120_000 } },
  { workspaceRoot, tempRoot },
);
