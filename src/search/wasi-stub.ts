/**
 * The few `wasi_snapshot_preview1` functions the USearch module imports, answered without any
 * host access. The module never needs a file, clock or environment: it only links libc's
 * stdio and mmap emulation. Every descriptor call reports EBADF, so libc's start-up scan of
 * preopened directories (`fd_prestat_get`) ends at once; `_initialize` exits with 71 if that
 * call reports success or anything but EBADF.
 */

/** WASI errno EBADF: bad file descriptor. */
const ERRNO_BADF = 8;
/** WASI errno ENOTCAPABLE: the capability is not granted. */
const ERRNO_NOTCAPABLE = 76;

/** Thrown when the module calls `proc_exit` (only libc's abort path does). */
export class WasiExitError extends Error {
  readonly exitCode: number;

  constructor(exitCode: number) {
    super(`usearch module exited with code ${exitCode}`);
    this.name = "WasiExitError";
    this.exitCode = exitCode;
  }
}

function badDescriptor(): number {
  return ERRNO_BADF;
}

/** Builds the `wasi_snapshot_preview1` import namespace. */
export function wasiStubImports(): Record<string, (...args: never[]) => number> {
  return {
    fd_close: badDescriptor,
    fd_fdstat_get: badDescriptor,
    fd_filestat_get: badDescriptor,
    fd_pread: badDescriptor,
    fd_prestat_get: badDescriptor,
    fd_prestat_dir_name: badDescriptor,
    fd_seek: badDescriptor,
    fd_write: badDescriptor,
    path_open: () => ERRNO_NOTCAPABLE,
    proc_exit: (exitCode: never) => {
      throw new WasiExitError(exitCode);
    },
  };
}
