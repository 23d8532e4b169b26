/**
 * `vltair audit verify` on data directories: intact ones pass; a flipped byte of a copy, and a
 * forged audit record with a valid checksum, are named (exit 1).
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { AUDIT_MACHINE, type AuditState } from "../../../src/policy/audit/mod.ts";
import { createToken, testApp } from "../../support/app.ts";
import { cli } from "../../support/cli.ts";
import { skipAuditCheck, tempDir } from "../../support/tmp.ts";

/** A data dir with two tenants' writes, a token change, and a snapshot in the middle. */
async function populated(): Promise<string> {
  const t = testApp({}, { ready: false });
  await t.app.start();
  try {
    for (const tenant of ["acme", "beta"]) {
      const { token } = await createToken(t.app, { subject: "w", tenant, roles: ["writer"] });
      for (let i = 0; i < 3; i++) {
        const body = JSON.stringify({ items: [{ id: `${tenant}-${i}`, text: `text ${i}` }] });
        await t.request("/v1/context/docs:upsert", { token, method: "POST", body });
        if (tenant === "acme" && i === 1) await t.app.storage.takeSnapshot();
      }
    }
  } finally {
    await t.app.close();
  }
  return t.config.data_dir;
}

const verify = async (dir: string) => {
  const out = await cli(["audit", "verify", "--data-dir", dir, "--json"]);
  return { code: out.code, report: JSON.parse(out.stdout) };
};

describe("vltair audit verify", () => {
  test("passes on an intact data dir and names the first broken record after tampering", async () => {
    const dir = await populated();
    const intact = await verify(dir);
    expect(intact).toMatchObject({ code: 0, report: { ok: true, first_broken: null } });
    expect(intact.report.records).toBeGreaterThanOrEqual(8);
    const text = await cli(["audit", "verify", "--data-dir", dir]);
    expect(text.stdout).toStartWith("ok: ");

    // A flipped byte in the last segment of a copy: the damaged record is named.
    const flipped = path.join(tempDir(), "flipped");
    fs.cpSync(dir, flipped, { recursive: true });
    skipAuditCheck(flipped, "a byte flipped on purpose");
    const walDir = path.join(flipped, "wal");
    const segment = path.join(walDir, fs.readdirSync(walDir).sort().at(-1) as string);
    const bytes = fs.readFileSync(segment);
    const at = Math.floor(bytes.indexOf(Buffer.from('"context.write"')) + 3);
    bytes[at] = (bytes[at] as number) ^ 0x01;
    fs.writeFileSync(segment, bytes);
    const damaged = await verify(flipped);
    expect(damaged.code).toBe(1);
    expect(damaged.report.ok).toBe(false);
    expect(
      damaged.report.wal_corruption?.wal_index ?? damaged.report.first_broken?.seq,
    ).toBeGreaterThan(0);

    // A forged record with a valid checksum (appended past the hooks): the chain breaks there.
    const forged = path.join(tempDir(), "forged");
    fs.cpSync(dir, forged, { recursive: true });
    skipAuditCheck(forged, "a forged audit record on purpose");
    const t = testApp({ data_dir: forged }, { ready: false });
    await t.app.start();
    try {
      const state = t.app.storage.stateOf(AUDIT_MACHINE) as AuditState;
      const last = state.chainOf("acme").records.at(-1);
      if (last === undefined) throw new Error("acme has no audit records");
      const fake = { ...last, seq: last.seq + 1, subject: "nobody", prev_hash: last.hash };
      await t.app.storage.append([
        { machine: AUDIT_MACHINE, body: { op: "append", records: [fake] } },
      ]);
    } finally {
      await t.app.close();
    }
    const broken = await verify(forged);
    expect(broken.code).toBe(1);
    expect(broken.report.first_broken).toMatchObject({ tenant: "acme", reason: "hash_mismatch" });
  }, 30_000);

  test("a missing data dir fails naming it", async () => {
    const out = await cli(["audit", "verify", "--data-dir", path.join(tempDir(), "none")]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain("does not exist");
  });
});
