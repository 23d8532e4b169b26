import { describe, expect, test } from "bun:test";
import { WasiExitError, wasiStubImports } from "../../../src/search/wasi-stub.ts";

describe("wasiStubImports", () => {
  test("every descriptor call reports EBADF (8), path_open ENOTCAPABLE (76)", () => {
    const imports = wasiStubImports() as Record<string, () => number>;
    for (const name of ["fd_prestat_get", "fd_write", "fd_close", "fd_seek", "fd_pread"]) {
      expect(imports[name]?.()).toBe(8);
    }
    expect(imports.path_open?.()).toBe(76);
  });

  test("proc_exit throws WasiExitError carrying the code", () => {
    const imports = wasiStubImports() as unknown as Record<string, (code: number) => number>;
    let thrown: unknown;
    try {
      imports.proc_exit?.(71);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WasiExitError);
    expect((thrown as WasiExitError).exitCode).toBe(71);
  });
});
