/**
 * A queue shared by tenants: FIFO within a tenant, round-robin across tenants, so a tenant that
 * queues ten thousand runs delays another tenant's next run by at most one turn, not by ten
 * thousand. Used for run admission and for step slots.
 */
export class FairQueue {
  /** Per tenant, its ids in arrival order; tenants in the order they will be served. */
  readonly #byTenant = new Map<string, string[]>();
  readonly #tenantOf = new Map<string, string>();

  /** Ids queued. */
  get length(): number {
    return this.#tenantOf.size;
  }

  includes(id: string): boolean {
    return this.#tenantOf.has(id);
  }

  /** Queues `id` of `tenant` (once). */
  push(tenant: string, id: string): void {
    if (this.#tenantOf.has(id)) return;
    this.#tenantOf.set(id, tenant);
    const ids = this.#byTenant.get(tenant);
    if (ids === undefined) this.#byTenant.set(tenant, [id]);
    else ids.push(id);
  }

  /** The next id: the first of the tenant whose turn it is; that tenant goes to the back. */
  shift(): string | undefined {
    const next = this.#byTenant.entries().next();
    if (next.done === true) return undefined;
    const [tenant, ids] = next.value;
    const id = ids.shift() as string;
    this.#byTenant.delete(tenant);
    if (ids.length > 0) this.#byTenant.set(tenant, ids);
    this.#tenantOf.delete(id);
    return id;
  }

  /** Takes `id` off the queue (no-op when absent). */
  remove(id: string): void {
    const tenant = this.#tenantOf.get(id);
    if (tenant === undefined) return;
    this.#tenantOf.delete(id);
    const ids = this.#byTenant.get(tenant) ?? [];
    const at = ids.indexOf(id);
    if (at !== -1) ids.splice(at, 1);
    if (ids.length === 0) this.#byTenant.delete(tenant);
  }
}
