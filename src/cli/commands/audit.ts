/**
 * `vltair audit verify`: the audit chains of a data directory, checked offline (no lock: safe
 * beside a running server, or on a copy). Exit 0 when the log and every chain are intact.
 */
import * as fs from "node:fs";
import { storageSettings } from "../../app/mod.ts";
import { VltairError } from "../../core/mod.ts";
import { verifyAuditDir } from "../../policy/audit/mod.ts";
import { cliConfig, dataDirOptions, parseFlags } from "../args.ts";
import { type CliIo, EXIT_FAILURE, EXIT_OK } from "../io.ts";

/** `vltair audit verify [--data-dir DIR] [--json]`. */
export function auditVerify(argv: readonly string[], io: CliIo): number {
  const { values } = parseFlags(argv, dataDirOptions(), 0);
  const config = cliConfig(values, io).config;
  if (!fs.existsSync(config.data_dir)) {
    throw new VltairError("not_found", `data directory ${config.data_dir} does not exist`, {
      details: { field: "data_dir" },
    });
  }
  const report = verifyAuditDir(config.data_dir, { limits: storageSettings(config).limits });
  if (values.json === true) {
    io.stdout(`${JSON.stringify(report)}\n`);
  } else if (report.ok) {
    io.stdout(`ok: ${report.records} audit records in ${report.chains} chains verify\n`);
  } else if (report.wal_corruption !== null) {
    const { wal_index, problem } = report.wal_corruption;
    io.stdout(`BROKEN: WAL record ${wal_index} is damaged (${problem})\n`);
  } else {
    const b = report.first_broken;
    io.stdout(`BROKEN: tenant ${b?.tenant} record ${b?.seq}: ${b?.reason}\n`);
  }
  return report.ok ? EXIT_OK : EXIT_FAILURE;
}
