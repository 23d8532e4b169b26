/**
 * The Cedar engine: `@cedar-policy/cedar-wasm` (pinned) loaded once per process, with vltair's
 * schema parsed once. Policy sets are compiled (parsed, named, validated) when they are stored,
 * and the ones in force are kept parsed inside the module ("preparsed", one slot per level), so a
 * decision sends only the request across (cedar-policy/cedar#1829: resending a set per request
 * costs its parse every time).
 *
 * A slot holds one set at a time. A set that lost its slot (a request still holding an older
 * version while a newer one was installed) is evaluated with the stateless call instead: slower,
 * the same answer, and memory stays one parsed set per level.
 */
import {
  type AuthorizationAnswer,
  type AuthorizationCall,
  getCedarVersion,
  initSync,
  isAuthorized,
  preparsePolicySet,
  preparseSchema,
  schemaToJson,
  statefulIsAuthorized,
} from "@cedar-policy/cedar-wasm/web";
import { CEDAR_NAMESPACE, CEDAR_SCHEMA, type PolicyAction } from "./cedar-schema.ts";
import { cedarWasmBytes } from "./cedar-wasm-bytes.ts";
import { type CompiledPolicySet, compilePolicySet, type PolicyProblem } from "./policy-set.ts";

/** Name of the parsed schema inside the module. */
const SCHEMA_SLOT = "vltair";

/** One authorization request: who, what, in which tenant, with which context. */
export interface CedarRequest {
  subject: string;
  tenant: string;
  action: PolicyAction;
  context: Record<string, unknown>;
}

/** The answer of one set: Cedar's decision and the ids of the policies that decided it. */
export interface CedarAnswer {
  decision: "allow" | "deny";
  /** Satisfied permits (allow) or forbids (deny); empty when nothing permitted. */
  reasons: string[];
  /** Policies whose evaluation failed; any makes the decision deny (fail closed). */
  errored: string[];
  /** The request itself was refused (e.g. a context that does not fit the schema). */
  failure: string | null;
}

/** The loaded engine. */
export interface CedarEngine {
  /** Cedar's version, e.g. `4.13.0`. */
  readonly cedarVersion: string;
  /** The schema in Cedar's JSON form. */
  readonly schemaJson: unknown;
  /** Parses, names and validates a policy set against the schema. */
  compile(text: string): CompiledPolicySet | { problems: PolicyProblem[] };
  /** Keeps `set` parsed in `slot` (a level: `global`, `tenant:acme`), replacing what was there. */
  install(set: CompiledPolicySet, slot: string): void;
  /** Evaluates one request against one set. */
  authorize(set: CompiledPolicySet, request: CedarRequest): CedarAnswer;
}

let loading: Promise<CedarEngine> | null = null;

/**
 * Loads the engine once per process (compiling ~4 MB of WebAssembly off the main thread where
 * the runtime can); later calls share it.
 *
 * @example
 * ```ts
 * const engine = await loadCedarEngine();
 * const set = engine.compile('@id("default") permit(principal, action, resource);');
 * ```
 */
export function loadCedarEngine(): Promise<CedarEngine> {
  loading ??= instantiate().catch((error: unknown) => {
    loading = null;
    throw error;
  });
  return loading;
}

async function instantiate(): Promise<CedarEngine> {
  const module = await WebAssembly.compile(cedarWasmBytes() as Uint8Array<ArrayBuffer>);
  initSync({ module });
  const parsed = preparseSchema(SCHEMA_SLOT, CEDAR_SCHEMA);
  if (parsed.type !== "success") {
    throw new Error(`vltair's Cedar schema does not parse: ${parsed.errors[0]?.message}`);
  }
  const json = schemaToJson(CEDAR_SCHEMA);
  if (json.type !== "success") throw new Error("vltair's Cedar schema has no JSON form");
  const owners = new Map<string, CompiledPolicySet>();
  const slotOf = new WeakMap<CompiledPolicySet, string>();
  return {
    cedarVersion: getCedarVersion(),
    schemaJson: json.json,
    compile: (text) => compilePolicySet(text, CEDAR_SCHEMA),
    install(set, slot) {
      const done = preparsePolicySet(slot, { staticPolicies: set.policies });
      // The set was compiled by this engine, so it parses; a failure here is a bug.
      if (done.type !== "success") throw new Error(`a compiled policy set did not install`);
      owners.set(slot, set);
      slotOf.set(set, slot);
    },
    authorize(set, request) {
      const common = {
        principal: { type: `${CEDAR_NAMESPACE}::Principal`, id: request.subject },
        action: { type: `${CEDAR_NAMESPACE}::Action`, id: request.action },
        resource: { type: `${CEDAR_NAMESPACE}::Tenant`, id: request.tenant },
        context: request.context as AuthorizationCall["context"],
        validateRequest: true,
        entities: [
          {
            uid: { type: `${CEDAR_NAMESPACE}::Principal`, id: request.subject },
            attrs: {},
            parents: [{ type: `${CEDAR_NAMESPACE}::Tenant`, id: request.tenant }],
          },
        ],
      };
      const slot = slotOf.get(set);
      const answer =
        slot !== undefined && owners.get(slot) === set
          ? statefulIsAuthorized({
              ...common,
              preparsedPolicySetId: slot,
              preparsedSchemaName: SCHEMA_SLOT,
            })
          : isAuthorized({ ...common, schema: CEDAR_SCHEMA, policies: set.cedarPolicies });
      return answerOf(answer);
    },
  };
}

function answerOf(answer: AuthorizationAnswer): CedarAnswer {
  if (answer.type === "failure") {
    return {
      decision: "deny",
      reasons: [],
      errored: [],
      failure: answer.errors.map((e) => e.message).join("; ") || "request refused",
    };
  }
  const { decision, diagnostics } = answer.response;
  return {
    decision,
    reasons: [...diagnostics.reason].sort(),
    errored: diagnostics.errors.map((e) => e.policyId).sort(),
    failure: null,
  };
}
