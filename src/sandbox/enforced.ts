/**
 * Builders for the `enforced` report: one entry per limit, and the list of requested limits
 * that are not applied (what `allow_partial:false` refuses).
 */
import {
  ENFORCED_KEYS,
  type EnforcedEntry,
  type EnforcedKey,
  type EnforcedReport,
} from "./schema.ts";

/** An applied limit. */
export function applied(
  requested: EnforcedEntry["requested"],
  mechanism: string,
  reason: string,
): EnforcedEntry {
  return { requested, applied: true, mechanism, reason };
}

/** A limit that is not applied, with why. */
export function notApplied(requested: EnforcedEntry["requested"], reason: string): EnforcedEntry {
  return { requested, applied: false, mechanism: "none", reason };
}

/** The entry of a limit nobody asked for. */
export function notRequested(): EnforcedEntry {
  return { requested: null, applied: false, mechanism: "none", reason: "not requested" };
}

/** Requested limits that are not applied, in report order. */
export function unappliedKeys(report: EnforcedReport): EnforcedKey[] {
  return ENFORCED_KEYS.filter((key) => report[key].requested !== null && !report[key].applied);
}

/** The `network` entry of a shim that has no network namespace for an allowlist. */
export function networkEntryWithout(
  req: { network: "deny" | "allow" | "proxy"; networkAllow: readonly string[] },
  denied: EnforcedEntry,
): EnforcedEntry {
  if (req.network === "allow") return applied("allow", "none", "network allowed by the request");
  if (req.network === "proxy")
    return notApplied([...req.networkAllow], "a network allowlist needs a Linux network namespace");
  return denied;
}

/** Timeout is enforced by the runner on every OS. */
export function timeoutEntry(wallMs: number, killGraceMs: number, killer: string): EnforcedEntry {
  return applied(
    wallMs,
    `monotonic_timer+${killer}`,
    `SIGTERM to the run at ${wallMs} ms, SIGKILL ${killGraceMs} ms later`,
  );
}
