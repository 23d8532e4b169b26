/**
 * Stored workflows (`PUT /v1/workflows/{name}`, `GET /v1/workflows[/{name}]`): validated like
 * inline ones, versioned per tenant and name; putting the latest version's body again writes
 * nothing and answers that version.
 */
import type * as v from "valibot";
import { canonicalJson, TenantLock } from "../context/mod.ts";
import { authorize, type Call, VltairError } from "../core/mod.ts";
import type { MachineHandle, Storage } from "../storage/mod.ts";
import type { OrchestratorLimits } from "./limits.ts";
import type {
  WorkflowGetQuerySchema,
  WorkflowListSchema,
  WorkflowPutResponseSchema,
  WorkflowVersionSchema,
} from "./run-schemas.ts";
import { validateWorkflow, workflowInvalid } from "./validate-workflow.ts";
import type { StoredWorkflow, WorkflowRecord, WorkflowsState } from "./workflows-machine.ts";

const iso = (ms: number) => new Date(ms).toISOString();

type VersionView = v.InferOutput<typeof WorkflowVersionSchema>;

function versionView(w: StoredWorkflow): VersionView {
  return {
    name: w.name,
    version: w.version,
    created_at: iso(w.createdAtMs),
    wal_index: w.walIndex,
    workflow: w.workflow,
  };
}

export class WorkflowStore {
  readonly #storage: Storage;
  readonly #machine: MachineHandle<WorkflowsState, WorkflowRecord>;
  readonly #limits: OrchestratorLimits;
  readonly #lock = new TenantLock();

  constructor(options: {
    storage: Storage;
    machine: MachineHandle<WorkflowsState, WorkflowRecord>;
    limits: OrchestratorLimits;
  }) {
    this.#storage = options.storage;
    this.#machine = options.machine;
    this.#limits = options.limits;
  }

  /** Stores `body` as the next version of `name` (unless it equals the latest). */
  put(
    call: Call,
    name: string,
    body: unknown,
  ): Promise<v.InferOutput<typeof WorkflowPutResponseSchema>> {
    authorize(call, "writer", "workflow.write");
    const tenant = call.principal.tenant;
    const named =
      body !== null && typeof body === "object" && !Array.isArray(body) ? { ...body } : body;
    if (named !== null && typeof named === "object" && !Array.isArray(named)) {
      const given = (named as { name?: unknown }).name;
      if (given !== undefined && given !== name) {
        throw workflowInvalid("name", `must be the name in the path (${name}) or absent`);
      }
      (named as { name?: unknown }).name = name;
    }
    const { workflow } = validateWorkflow(named, this.#limits);
    return this.#lock.run(`${tenant}\n${name}`, async () => {
      const versions = this.#machine.state().versions(tenant, name);
      const latest = versions.at(-1);
      if (latest !== undefined && canonicalJson(latest.workflow) === canonicalJson(workflow)) {
        return { name, version: latest.version, created: false, wal_index: latest.walIndex };
      }
      if (versions.length >= this.#limits.workflowVersionsMax) {
        throw new VltairError(
          "rate_limited",
          `workflow ${name} has ${versions.length} versions, the most kept`,
          {
            details: {
              limit: this.#limits.workflowVersionsMax,
              field: "orchestrator_limits.workflow_versions_max",
            },
          },
        );
      }
      const version = versions.length + 1;
      const record = this.#machine.record({ op: "put", tenant, name, version, workflow });
      const { lastIndex } = await this.#storage.commit([record], call);
      return { name, version, created: true, wal_index: lastIndex };
    });
  }

  /** A stored version (the latest by default); 404 when there is none in the caller's tenant. */
  get(
    call: Call,
    name: string,
    query: v.InferOutput<typeof WorkflowGetQuerySchema> = {},
  ): VersionView {
    authorize(call, "reader", "workflow.read");
    return versionView(this.resolve(call, name, query.version));
  }

  /** The stored workflow a `workflow_ref` names; 404 `not_found` when absent. */
  resolve(call: Call, name: string, version?: number): StoredWorkflow {
    const versions = this.#machine.state().versions(call.principal.tenant, name);
    const found = version === undefined ? versions.at(-1) : versions[version - 1];
    if (found === undefined) {
      throw new VltairError(
        "not_found",
        `no workflow ${name}${version === undefined ? "" : ` version ${version}`}`,
        {
          details: { name, ...(version === undefined ? {} : { version }) },
        },
      );
    }
    return found;
  }

  /** The caller's workflows with their latest version, by name. */
  list(call: Call): v.InferOutput<typeof WorkflowListSchema> {
    authorize(call, "reader", "workflow.read");
    const names =
      this.#machine.state().byTenant.get(call.principal.tenant) ??
      new Map<string, StoredWorkflow[]>();
    const workflows = [...names.values()]
      .map((versions) => versions.at(-1) as StoredWorkflow)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((w) => ({ name: w.name, latest_version: w.version, updated_at: iso(w.createdAtMs) }));
    return { workflows };
  }
}
