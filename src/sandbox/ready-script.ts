/**
 * The innermost stage of every POSIX run, shared by the shims and the rlimit stage: its own
 * module so that nothing which builds it imports the shim contract (and the capabilities with it).
 */

/** The innermost stage: report ready on fd 3, close it, exec the command (exit 127 if absent). */
export const READY_SCRIPT = 'printf R >&3 && exec 3>&- && exec "$@"';
