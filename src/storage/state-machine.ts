/**
 * State machines: the folds over the log. Each subsystem registers one with a pure `apply`
 * (no I/O, no clock, no randomness, no env: time and ids are fields of the record), plus
 * `snapshot`/`restore` to serialise its state (derived indexes may put their own bytes there).
 */
import * as v from "valibot";
import { type Steps, VltairError } from "../core/mod.ts";
import { storageUnavailable } from "./errors.ts";
import { type BodyEncoding, decodeBody, encodeBody } from "./record-body.ts";
import { dispatchVariant } from "./variant-dispatch.ts";
import { MACHINE_NAME_PATTERN } from "./wal/frame.ts";

/** A record as a state machine sees it: its place in the log, its time and its validated body. */
export interface AppliedRecord<B> {
  walIndex: number;
  wallMs: number;
  machine: string;
  body: B;
}

/**
 * A state machine over the records addressed to `name`.
 *
 * @example
 * ```ts
 * const counter: StateMachine<number, { add: number }> = {
 *   name: "counter",
 *   schema: v.object({ add: v.number() }),
 *   init: () => 0,
 *   apply: (state, record) => state + record.body.add,
 *   snapshot: (state) => new TextEncoder().encode(String(state)),
 *   restore: (bytes) => Number(new TextDecoder().decode(bytes)),
 * };
 * ```
 */
export interface StateMachine<S, B> {
  /** Lowercase name written into each record: `[a-z][a-z0-9._-]{0,63}`. */
  name: string;
  /** Validates a body on append and again on every read from disk. */
  schema?: v.GenericSchema<unknown, B>;
  /** A fresh, empty state. */
  init(): S;
  /** Pure: returns the state after `record`. Must not throw for a body its schema accepts. */
  apply(state: S, record: AppliedRecord<B>): S;
  /** Serialises the state; called synchronously between commits, so it sees one index. */
  snapshot(state: S): Uint8Array;
  /**
   * `snapshot`'s bytes as consecutive pieces, for a state large enough that joining them into one
   * buffer costs (the writer checksums and writes the pieces); optional.
   */
  snapshotParts?(state: S): Uint8Array[];
  /** Rebuilds a state from `snapshot`'s bytes (a new object, never shared). */
  restore(bytes: Uint8Array): S;
  /**
   * `restore` as steps that may pause (recovery serves `/v1/health` meanwhile); optional for
   * machines whose state restores quickly.
   */
  restoreSteps?(bytes: Uint8Array): Steps<S>;
  /**
   * Version of what `snapshot` writes (default 1). Raise it when the layout changes in a way
   * older code cannot read: a binary refuses a snapshot whose format is newer than its own.
   */
  format?: number;
  /**
   * How bodies are written (record-body.ts): `json` (default) or `blobs` — JSON with long
   * strings and `Float32Array`s as raw bytes, for machines whose records carry texts and vectors.
   * Either is read back whatever this says.
   */
  bodyEncoding?: BodyEncoding;
}

type AnySchema = v.GenericSchema<unknown, unknown>;

/**
 * `apply` for a state that its own `apply(body, record)` method updates in place (maps of many
 * entries, which a copy per record would make O(entries)).
 *
 * @example
 * ```ts
 * const machine = { name: "audit", init: () => new AuditState(), apply: applyInPlace, … };
 * ```
 */
export function applyInPlace<B, S extends { apply(body: B, record: AppliedRecord<B>): void }>(
  state: S,
  record: AppliedRecord<B>,
): S {
  state.apply(record.body, record);
  return state;
}

/** A state machine with its types erased, as the registry holds it. */
export type AnyStateMachine = StateMachine<unknown, unknown>;

/** The registered machines, and the encoding and validation of their bodies. */
export class MachineRegistry {
  private readonly machines = new Map<string, AnyStateMachine>();
  /** Each machine's schema, dispatching on a variant's discriminator (variant-dispatch.ts). */
  readonly #schemas = new Map<string, AnySchema>();

  /** Adds a machine; names are unique. */
  register<S, B>(machine: StateMachine<S, B>): void {
    if (!MACHINE_NAME_PATTERN.test(machine.name)) {
      throw new VltairError(
        "bad_request",
        `invalid state machine name ${JSON.stringify(machine.name)}`,
      );
    }
    if (this.machines.has(machine.name)) {
      throw new VltairError("conflict", `state machine ${machine.name} is already registered`);
    }
    this.machines.set(machine.name, machine as unknown as AnyStateMachine);
    if (machine.schema !== undefined)
      this.#schemas.set(machine.name, dispatchVariant(machine.schema as AnySchema));
  }

  /** Whether a machine of this name is registered. */
  has(name: string): boolean {
    return this.machines.has(name);
  }

  /** The machine registered under `name`, if any. */
  get(name: string): AnyStateMachine | undefined {
    return this.machines.get(name);
  }

  /** The registered machines, in registration order. */
  list(): AnyStateMachine[] {
    return [...this.machines.values()];
  }

  /** Fresh states of every machine. */
  initial(): Map<string, unknown> {
    const states = new Map<string, unknown>();
    for (const m of this.machines.values()) states.set(m.name, m.init());
    return states;
  }

  /** Validates `body` for `machine` and encodes it (throws `validation_failed`). */
  encode(machine: string, body: unknown): Uint8Array {
    return this.prepare(machine, body).bytes;
  }

  /**
   * Validates and encodes `body`; also returns the value a fold of these bytes would see (the
   * schema's output), so the appender can apply it without parsing its own bytes again.
   */
  prepare(machine: string, body: unknown): { bytes: Uint8Array; value: unknown } {
    const m = this.machines.get(machine);
    if (m === undefined) throw new VltairError("bad_request", `no state machine named ${machine}`);
    let value = body;
    const schema = this.#schemas.get(machine);
    if (schema !== undefined) {
      const parsed = v.safeParse(schema, body);
      if (!parsed.success) {
        throw new VltairError(
          "validation_failed",
          `record for ${machine} does not match its schema`,
          {
            details: { issues: parsed.issues.slice(0, 8).map((i) => i.message) },
          },
        );
      }
      value = parsed.output;
    }
    // The bytes are of the schema's output, so a fold from disk sees exactly `value`.
    try {
      return { bytes: encodeBody(value, m.bodyEncoding ?? "json"), value };
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      throw new VltairError("validation_failed", `record body is not JSON: ${error.message}`);
    }
  }

  /**
   * Decodes and validates a body read from the log, then folds it into `states`.
   * Returns false, folding nothing, for a record of a machine that is not registered: the
   * caller carries it (carried.ts) or, in a read-only replay, leaves it out.
   * Throws `unavailable` (`wal_record_invalid`) when a checksummed body no longer parses.
   */
  applyRecord(
    states: Map<string, unknown>,
    record: { walIndex: number; wallMs: number; machine: string; body: Uint8Array },
    decoded?: { value: unknown },
  ): boolean {
    const m = this.machines.get(record.machine);
    if (m === undefined) return false;
    if (decoded !== undefined) {
      this.#fold(m, states, record, decoded.value);
      return true;
    }
    let body: unknown;
    try {
      body = decodeBody(record.body);
    } catch (error) {
      throw invalidRecord(record.walIndex, record.machine, "body is not UTF-8 JSON", error);
    }
    const schema = this.#schemas.get(record.machine);
    if (schema !== undefined) {
      const parsed = v.safeParse(schema, body);
      if (!parsed.success)
        throw invalidRecord(
          record.walIndex,
          record.machine,
          "body does not match the schema",
          null,
        );
      body = parsed.output;
    }
    this.#fold(m, states, record, body);
    return true;
  }

  #fold(
    m: AnyStateMachine,
    states: Map<string, unknown>,
    record: { walIndex: number; wallMs: number; machine: string },
    body: unknown,
  ): void {
    const applied = {
      walIndex: record.walIndex,
      wallMs: record.wallMs,
      machine: record.machine,
      body,
    };
    states.set(m.name, m.apply(states.get(m.name), applied));
  }
}

function invalidRecord(
  walIndex: number,
  machine: string,
  why: string,
  cause: unknown,
): VltairError {
  return storageUnavailable("wal_record_invalid", `WAL record ${walIndex} (${machine}): ${why}`, {
    details: { wal_index: walIndex, machine },
    cause,
  });
}
