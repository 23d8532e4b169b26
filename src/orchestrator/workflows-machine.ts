/**
 * The `workflows` state machine: stored workflow definitions, versioned per tenant and name
 * (`PUT /v1/workflows/{name}`). A version is never changed; a run started from a stored
 * workflow copies it into its own `create` record, so later versions never change a run.
 */
import { Buffer } from "node:buffer";
import * as v from "valibot";
import { TenantSchema } from "../policy/mod.ts";
import type { StateMachine } from "../storage/mod.ts";
import { type Workflow, WorkflowNameSchema, WorkflowSchema } from "./workflow-schema.ts";

/** Name of the machine and of its records. */
export const WORKFLOWS_MACHINE = "workflows";

export const WorkflowRecordSchema = v.variant("op", [
  v.strictObject({
    op: v.literal("put"),
    tenant: TenantSchema,
    name: WorkflowNameSchema,
    version: v.pipe(v.number(), v.integer(), v.minValue(1)),
    workflow: WorkflowSchema,
  }),
]);
export type WorkflowRecord = v.InferOutput<typeof WorkflowRecordSchema>;

/** One stored version. */
export interface StoredWorkflow {
  name: string;
  version: number;
  workflow: Workflow;
  createdAtMs: number;
  walIndex: number;
}

/** Every stored workflow: tenant → name → versions (oldest first). */
export class WorkflowsState {
  readonly byTenant = new Map<string, Map<string, StoredWorkflow[]>>();

  /** Folds a `put`; a version that does not follow the latest changes nothing. */
  apply(body: WorkflowRecord, walIndex: number, wallMs: number): void {
    let names = this.byTenant.get(body.tenant);
    if (names === undefined) {
      names = new Map();
      this.byTenant.set(body.tenant, names);
    }
    const versions = names.get(body.name) ?? [];
    if (body.version !== versions.length + 1) return;
    versions.push({
      name: body.name,
      version: body.version,
      workflow: body.workflow,
      createdAtMs: wallMs,
      walIndex,
    });
    names.set(body.name, versions);
  }

  /** The versions of `name` in `tenant`, oldest first (empty when none). */
  versions(tenant: string, name: string): readonly StoredWorkflow[] {
    return this.byTenant.get(tenant)?.get(name) ?? [];
  }
}

const SnapshotSchema = v.array(v.tuple([v.number(), v.number(), WorkflowRecordSchema]));

/** Creates the machine; `apply` appends to the state it is given (versions are immutable). */
export function createWorkflowsMachine(): StateMachine<WorkflowsState, WorkflowRecord> {
  return {
    name: WORKFLOWS_MACHINE,
    schema: WorkflowRecordSchema,
    init: () => new WorkflowsState(),
    apply: (state, record) => {
      state.apply(record.body, record.walIndex, record.wallMs);
      return state;
    },
    snapshot: (state) => {
      const rows: unknown[] = [];
      for (const [tenant, names] of state.byTenant) {
        for (const versions of names.values()) {
          for (const w of versions) {
            const body = {
              op: "put",
              tenant,
              name: w.name,
              version: w.version,
              workflow: w.workflow,
            };
            rows.push([w.walIndex, w.createdAtMs, body]);
          }
        }
      }
      return Buffer.from(JSON.stringify(rows), "utf8");
    },
    restore: (bytes) => {
      const state = new WorkflowsState();
      const rows = v.parse(SnapshotSchema, JSON.parse(Buffer.from(bytes).toString("utf8")));
      for (const [walIndex, wallMs, body] of rows) state.apply(body, walIndex, wallMs);
      return state;
    },
  };
}
