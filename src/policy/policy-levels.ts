/**
 * The compiled sets in force, one per level, kept in step with the `policy` machine's state:
 * a level whose stored version changed is compiled and installed in the engine on its next use
 * (after a PUT the service hands over the set it already compiled). A level that never stored a
 * set holds the shipped default, compiled once and shared.
 *
 * A view is immutable: a request that took one keeps evaluating that version while a newer
 * one is installed (the swap is one `Map.set`).
 */
import type { CedarEngine } from "./cedar-engine.ts";
import { DEFAULT_POLICY } from "./cedar-schema.ts";
import { levelKey, type PolicyState } from "./policy-machine.ts";
import type { CompiledPolicySet, PolicyProblem } from "./policy-set.ts";

/** One level as a decision sees it. */
export interface LevelView {
  /** The stored version; 0 for the shipped default. */
  readonly version: number;
  /** The compiled set, or null when it cannot be evaluated (then `problem` says why). */
  readonly set: CompiledPolicySet | null;
  readonly problem: string | null;
}

/** Slot of the shared default set inside the engine. */
const DEFAULT_SLOT = "default";

/** The compiled level views of one policy service. */
export class PolicyLevels {
  #engine: CedarEngine | null = null;
  #default: LevelView | null = null;
  readonly #views = new Map<string, LevelView>();

  /** The engine once loaded; until then every level is unusable (fail closed). */
  get engine(): CedarEngine | null {
    return this.#engine;
  }

  /** Starts using `engine`. */
  setEngine(engine: CedarEngine): void {
    this.#engine = engine;
  }

  /** The view of a level (`null`: the global set) in `state`. */
  view(state: PolicyState, tenant: string | null): LevelView {
    const stored = state.stored(tenant);
    if (stored === null) return this.#defaultView();
    const key = levelKey(tenant);
    const cached = this.#views.get(key);
    if (cached !== undefined && cached.version === stored.version) return cached;
    const engine = this.#engine;
    if (engine === null) return unloaded(stored.version);
    const compiled = engine.compile(stored.cedar);
    if ("problems" in compiled) {
      const view = { version: stored.version, set: null, problem: describe(compiled.problems) };
      this.#views.set(key, view);
      return view;
    }
    return this.adopt(tenant, stored.version, compiled);
  }

  /** Installs a set compiled for `version` of a level and makes it that level's view. */
  adopt(tenant: string | null, version: number, set: CompiledPolicySet): LevelView {
    const key = levelKey(tenant);
    this.#engine?.install(set, key);
    const view: LevelView = { version, set, problem: null };
    this.#views.set(key, view);
    return view;
  }

  #defaultView(): LevelView {
    if (this.#default !== null) return this.#default;
    const engine = this.#engine;
    if (engine === null) return unloaded(0);
    const compiled = engine.compile(DEFAULT_POLICY);
    // The shipped default is part of the binary; a test compiles it against the schema.
    if ("problems" in compiled) throw new Error("the shipped default policy does not compile");
    engine.install(compiled, DEFAULT_SLOT);
    this.#default = { version: 0, set: compiled, problem: null };
    return this.#default;
  }
}

function unloaded(version: number): LevelView {
  return { version, set: null, problem: "the Cedar engine is not loaded" };
}

/** The problems of a stored set that no longer compiles, in one line for logs. */
function describe(problems: readonly PolicyProblem[]): string {
  return problems
    .slice(0, 3)
    .map((p) => (p.policy_id === undefined ? p.message : `${p.policy_id}: ${p.message}`))
    .join("; ");
}
