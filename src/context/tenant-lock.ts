/**
 * Serialises the check-then-append of writes per tenant: versions and `expected_version` are
 * decided against the state the append will be applied to. Different tenants write concurrently
 * (and share group commits).
 */
export class TenantLock {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `work` after every earlier holder of `tenant` has finished. */
  async run<T>(tenant: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(tenant) ?? Promise.resolve();
    let release = (): void => undefined;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(tenant, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.#tails.get(tenant) === tail) this.#tails.delete(tenant);
    }
  }
}
