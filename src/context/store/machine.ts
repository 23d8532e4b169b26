/** The `context` state machine: documents and indexes folded from the WAL. */
import type { StateMachine } from "../../storage/mod.ts";
import {
  decodeContextState,
  decodeContextStateSteps,
  encodeContextState,
  encodeContextStateParts,
} from "./codec.ts";
import { CONTEXT_MACHINE, type ContextRecord, ContextRecordSchema } from "./record.ts";
import { CONTEXT_STATE_DEFAULTS, ContextState, type ContextStateOptions } from "./state.ts";

/**
 * Creates the machine. `apply` mutates and returns the state it is given (the indexes are
 * large; the storage owns the only live state and replays build their own from snapshots).
 */
export function createContextMachine(
  options: ContextStateOptions = CONTEXT_STATE_DEFAULTS,
): StateMachine<ContextState, ContextRecord> {
  return {
    name: CONTEXT_MACHINE,
    schema: ContextRecordSchema,
    // Texts and vectors as raw bytes: a batch's JSON quoting and base64 were ~15 % of ingest.
    bodyEncoding: "blobs",
    init: () => new ContextState(options),
    apply: (state, record) => {
      state.apply(record.body, record.walIndex, record.wallMs);
      return state;
    },
    snapshot: encodeContextState,
    snapshotParts: encodeContextStateParts,
    restore: (bytes) => decodeContextState(bytes, options),
    restoreSteps: (bytes) => decodeContextStateSteps(bytes, options),
  };
}
