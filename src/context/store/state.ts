/** The context engine's state: one {@link TenantStore} per tenant, folded from the WAL. */
import type { TokenizerName } from "../../search/mod.ts";
import type { ContextRecord } from "./record.ts";
import { TenantStore } from "./tenant.ts";

/** How a state builds its indexes (the same for the live state and every replay). */
export interface ContextStateOptions {
  /** Whether vector indexes may use the helper thread (config `vector_thread`). */
  helperThread: boolean;
}

/** The defaults: the helper thread on. */
export const CONTEXT_STATE_DEFAULTS: ContextStateOptions = { helperThread: true };

export class ContextState {
  readonly tenants = new Map<string, TenantStore>();
  readonly options: ContextStateOptions;

  constructor(options: ContextStateOptions = CONTEXT_STATE_DEFAULTS) {
    this.options = options;
  }

  /** The tenant's store, or undefined when it has never written. */
  tenant(name: string): TenantStore | undefined {
    return this.tenants.get(name);
  }

  /** Folds one record (the state machine's `apply`). */
  apply(record: ContextRecord, walIndex: number, wallMs: number): void {
    if (record.op === "upsert") {
      const store = this.ensureTenant(record.tenant, record.tokenizer);
      // The first identity a tenant sees is its embedder; the service refuses any other.
      if (record.embedder !== undefined) store.embedder ??= record.embedder;
      store.applyUpsert(record.items, walIndex, wallMs);
    } else {
      this.tenants.get(record.tenant)?.applyDelete(record.items);
    }
  }

  /** Frees every tenant's WASM memory (views dropped from the time-travel cache). */
  dispose(): void {
    for (const t of this.tenants.values()) t.dispose();
    this.tenants.clear();
  }

  private ensureTenant(name: string, tokenizer: TokenizerName): TenantStore {
    let store = this.tenants.get(name);
    if (store === undefined) {
      store = new TenantStore(name, tokenizer, { helperThread: this.options.helperThread });
      this.tenants.set(name, store);
    }
    return store;
  }
}
