/** `vltair version`. */
import process from "node:process";
import { runtimeVersion } from "../../platform/mod.ts";
import { VERSION } from "../../version.ts";
import { COMMON_OPTIONS, parseFlags } from "../args.ts";
import { type CliIo, EXIT_OK } from "../io.ts";

export function versionCommand(argv: readonly string[], io: CliIo): number {
  const { values } = parseFlags(argv, { ...COMMON_OPTIONS, json: { type: "boolean" } }, 0);
  const info = {
    version: VERSION,
    runtime: runtimeVersion(),
    os: process.platform,
    arch: process.arch,
  };
  io.stdout(
    values.json === true
      ? `${JSON.stringify(info)}\n`
      : `vltair ${info.version} (${info.runtime}, ${info.os}-${info.arch})\n`,
  );
  return EXIT_OK;
}
