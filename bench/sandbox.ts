/**
 * Sandbox overhead benchmark (AR-5). Prints one JSON object:
 * - p50 start-to-exit of `true` bare (node:child_process spawn) vs through `runSandboxed` with
 *   every available mechanism on, with each mechanism off in turn, and with all off;
 * - p50 of a ~200 ms CPU-bound command bare vs all mechanisms on, and the overhead ratio
 *   (target ≤ 0.10), plus the median of the pairwise differences over the bare p50 (steadier
 *   when the machine's load drifts during the run).
 * Runs alternate between peers so machine drift hits them alike. "p50_ms" is the whole
 * `runSandboxed` call as a client sees it; "spawn_to_exit" is the result's `duration_ms`.
 * Usage: `bun bench/sandbox.ts [runs]` (default 40).
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { SandboxCapabilities } from "../src/sandbox/capabilities.ts";
import { createRunCgroup, procsFiles, removeRunCgroup } from "../src/sandbox/linux/cgroup.ts";
import { planLinux } from "../src/sandbox/linux/linux-plan.ts";
import { chooseCgroup } from "../src/sandbox/linux/linux-shim.ts";
import {
  detectCapabilities,
  resolveLimitConfig,
  runSandboxed,
  type SandboxMechanism,
  type SandboxOptions,
} from "../src/sandbox/mod.ts";
import { validateRequest } from "../src/sandbox/validate.ts";

const RUNS = Math.max(5, Math.min(200, Number(process.argv[2] ?? 40)));
const CPU_TARGET_MS = 200;

function bare(cmd: readonly string[]): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0] ?? "true", cmd.slice(1), {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    child.stdout.resume();
    child.stderr.resume();
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0 ? resolve(performance.now() - start) : reject(new Error(`exit ${code}`)),
    );
  });
}

/** Spawn-to-exit times (`duration_ms`) of sandboxed runs, by configuration. */
const durations: Record<string, number[]> = {};

async function sandboxed(
  cmd: readonly string[],
  options: SandboxOptions,
  label = "",
): Promise<number> {
  const start = performance.now();
  const result = await runSandboxed(
    { cmd: [...cmd], network: "deny", limits: { wall_ms: 60_000 } },
    options,
  );
  if (label !== "") {
    const list = durations[label] ?? [];
    list.push(result.duration_ms);
    durations[label] = list;
  }
  if (result.status !== "OK")
    throw new Error(`sandbox run ${result.status} ${result.reason} ${result.stderr}`);
  return performance.now() - start;
}

function p50(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number((sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(2));
}

/**
 * Perl loop iterations that take about CPU_TARGET_MS bare on this machine: a first estimate
 * from a short loop, then two corrections at full length (perl's start-up is not linear).
 */
async function calibrate(): Promise<number> {
  const timeOf = async (iterations: number): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < 5; i += 1)
      times.push(await bare(["perl", "-e", `my $x = 0; $x++ for 1..${iterations}`]));
    return p50(times);
  };
  let iterations = 2_000_000;
  for (let round = 0; round < 3; round += 1)
    iterations = Math.round((iterations * CPU_TARGET_MS) / (await timeOf(iterations)));
  return iterations;
}

/**
 * The wrapper of a run (bwrap or unshare with the run's flags, binding `procs` when given) and
 * after it `tail` (default `true`), or null when the run has no wrapper.
 */
function wrapperArgv(
  c: SandboxCapabilities,
  dirs: { workspace: string; runTemp: string },
  procs: readonly string[] = [],
  tail: readonly string[] = ["true"],
): string[] | null {
  const limits = resolveLimitConfig();
  const req = validateRequest({ cmd: ["true"], network: "deny" }, limits);
  const cgroup = { version: 1 as const, memory: false, pids: false, procsFiles: procs };
  const plan = planLinux({
    req,
    cwd: dirs.workspace,
    workspaceRoot: dirs.workspace,
    runTempDir: dirs.runTemp,
    caps: c,
    limits,
    cgroup: { ...cgroup, memoryReason: "", pidsReason: "" },
  });
  const cut = plan.argv.indexOf("--");
  return plan.leaderIsWrapper && cut > 0 ? [...plan.argv.slice(0, cut + 1), ...tail] : null;
}

/**
 * Each layer of a run's chain on its own (p50 ms of exec to exit, from this process), and the
 * cost of a cgroup attach after 50 ms without one (the kernel's attach lock then waits for an
 * RCU grace period; see src/sandbox/attach-prime.ts) vs right after one, alone and behind the
 * run's wrapper, without and with the server's prime (the prime overlaps the wait with the
 * wrapper's set-up).
 */
async function layers(dirs: {
  workspace: string;
  runTemp: string;
}): Promise<Record<string, number>> {
  const argvs: Record<string, string[] | null> = {
    exec_true: ["true"],
    sh_stage: ["sh", "-c", 'exec "$@"', "vltair-exec", "true"],
    prlimit_stage: caps.prlimit.available
      ? [caps.prlimit.path ?? "prlimit", "--nofile=1024", "--", "true"]
      : null,
    bwrap_run_flags: wrapperArgv(caps, dirs),
    unshare_run_flags: wrapperArgv(await detectCapabilities({ disable: ["bubblewrap"] }), dirs),
  };
  const times: Record<string, number[]> = {};
  const add = (name: string, ms: number) => {
    const list = times[name] ?? [];
    list.push(ms);
    times[name] = list;
  };
  for (let i = 0; i < RUNS; i += 1) {
    for (const [name, argv] of Object.entries(argvs))
      if (argv !== null) add(name, await bare(argv));
  }
  const choice = chooseCgroup(caps.cgroups);
  const version = choice.version;
  if (version !== null && caps.cgroups?.prime) {
    const cg = await createRunCgroup({ ...choice, version }, `vltair-bench-${process.pid}`, {
      memBytes: 512 * 1024 * 1024,
      pids: 64,
    });
    const files = procsFiles(cg);
    const join0 = ["sh", "-c", 'for f; do echo 0 > "$f"; done; exec true', "vltair-exec", ...files];
    const wrapped = wrapperArgv(caps, dirs, files, join0) ?? join0;
    const ownProcs = join(caps.cgroups.prime.ownDir, "cgroup.procs");
    try {
      for (let i = 0; i < RUNS; i += 1) {
        await sleep(50);
        add("wrapper_then_attach_after_idle", await bare(wrapped));
        await sleep(50);
        void writeFile(ownProcs, "0").catch(() => undefined);
        add("wrapper_then_attach_after_idle_primed", await bare(wrapped));
        await sleep(50);
        add("attach_after_idle", await bare(join0));
        add("attach_right_after_an_attach", await bare(join0));
      }
    } finally {
      await removeRunCgroup(cg);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, p50(v)]));
}

const root = await mkdtemp(join(tmpdir(), "vltair-bench-sbx-"));
const ws = join(root, "ws");
await mkdir(ws);
// The peers switch mechanisms off to price them: nothing is required (fail-closed would refuse
// the namespaces_off and all_off runs).
const base: SandboxOptions = { workspaceRoot: ws, tempRoot: root, require: [] };
const caps = await detectCapabilities();
const configs: Record<string, readonly SandboxMechanism[]> = {
  all_on: [],
  bubblewrap_off: ["bubblewrap"],
  namespaces_off: ["bubblewrap", "unshare"],
  cgroups_off: ["cgroup_v1", "cgroup_v2"],
  prlimit_off: ["prlimit"],
  all_off: ["bubblewrap", "unshare", "cgroup_v1", "cgroup_v2", "prlimit"],
};
try {
  const samples: Record<string, number[]> = { bare: [] };
  for (const name of Object.keys(configs)) samples[name] = [];
  for (const name of Object.keys(configs))
    await sandboxed(["true"], { ...base, disable: configs[name] ?? [] });
  for (let i = 0; i < RUNS; i += 1) {
    samples.bare?.push(await bare(["true"]));
    for (const [name, disable] of Object.entries(configs))
      samples[name]?.push(await sandboxed(["true"], { ...base, disable }, name));
  }
  const layerP50 =
    process.platform === "linux" ? await layers({ workspace: ws, runTemp: root }) : {};
  const iterations = await calibrate();
  const cpuCmd = ["perl", "-e", `my $x = 0; $x++ for 1..${iterations}`];
  const cpuBare: number[] = [];
  const cpuSandbox: number[] = [];
  const loadBefore = os.loadavg()[0] ?? 0;
  // Pairs in alternating order, so that neither peer always runs right after the other.
  for (let i = 0; i < Math.max(5, Math.floor(RUNS / 2)); i += 1) {
    if (i % 2 === 0) cpuBare.push(await bare(cpuCmd));
    cpuSandbox.push(await sandboxed(cpuCmd, base, "cpu"));
    if (i % 2 === 1) cpuBare.push(await bare(cpuCmd));
  }
  const trueP50 = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, p50(v)]));
  const cpuBareP50 = p50(cpuBare);
  const cpuSandboxP50 = p50(cpuSandbox);
  const overhead = Number(((cpuSandboxP50 - cpuBareP50) / cpuBareP50).toFixed(4));
  // Less sensitive to load drifting during the run: the median of each pair's difference.
  const pairedDiff = p50(cpuSandbox.map((v, i) => v - (cpuBare[i] ?? v)));
  const overheadPaired = Number((pairedDiff / cpuBareP50).toFixed(4));
  const mechanismsOn = [
    caps.bubblewrap.available ? "bubblewrap" : null,
    caps.unshare.available ? "unshare" : null,
    caps.cgroups?.v2.available ? "cgroup_v2" : null,
    caps.cgroups?.v1Memory.available || caps.cgroups?.v1Pids.available ? "cgroup_v1" : null,
    caps.prlimit.available ? "prlimit" : null,
    caps.ulimit.available ? "sh_ulimit" : null,
  ].filter((m) => m !== null);
  const report = {
    bench: "sandbox",
    runtime: `bun ${process.versions.bun ?? "?"} / node-compat ${process.versions.node}`,
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model ?? "unknown",
      kernel: os.release(),
    },
    runs: RUNS,
    mechanisms_available: mechanismsOn,
    load_average_1m: Number(loadBefore.toFixed(2)),
    load_average_1m_end: Number((os.loadavg()[0] ?? 0).toFixed(2)),
    true_p50_ms: trueP50,
    true_spawn_to_exit_p50_ms: Object.fromEntries(
      Object.keys(configs).map((k) => [k, p50(durations[k] ?? [])]),
    ),
    layers_p50_ms: layerP50,
    true_ratio_vs_bare: Object.fromEntries(
      Object.entries(trueP50).map(([k, v]) => [k, Number((v / (trueP50.bare ?? 1)).toFixed(2))]),
    ),
    cpu_200ms: {
      iterations,
      bare_p50_ms: cpuBareP50,
      sandbox_all_on_p50_ms: cpuSandboxP50,
      sandbox_all_on_spawn_to_exit_p50_ms: p50(durations.cpu ?? []),
      overhead_ratio: overhead,
      paired_difference_p50_ms: pairedDiff,
      overhead_ratio_paired: overheadPaired,
    },
    target_overhead_ratio: 0.1,
    target_met: overhead <= 0.1,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
} finally {
  await rm(root, { recursive: true, force: true });
}
