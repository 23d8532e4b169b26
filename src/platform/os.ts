/** Facts about the operating system that other layers may ask for without sniffing it. */
import process from "node:process";

/** True where file permission bits (0600…) mean something (every OS but Windows). */
export function hasPosixFileModes(): boolean {
  return process.platform !== "win32";
}

/** True where SIGTERM can be delivered to another process and handled (every OS but Windows). */
export function hasPosixSignals(): boolean {
  return process.platform !== "win32";
}
