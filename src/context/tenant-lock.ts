/**
 * Serialises the check-then-append of writes per tenant: versions and `expected_version` are
 * decided against the state the append will be applied to. Different tenants write concurrently
 * (and share group commits).
 */
export class TenantLock {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `work` after every earlier holder of `tenant` has finished. */
  async run<T>(tenant: string, work: () => Promise<T>): Promise<T> {
    const release = await this.acquire(tenant);
    try {
      return await work();
    } finally {
      release();
    }
  }

  /**
   * Waits for every earlier holder of `tenant`, then holds the lock until the returned function
   * is called (a prepared write holds it until its commit). Releasing twice is harmless.
   */
  async acquire(tenant: string): Promise<() => void> {
    const previous = this.#tails.get(tenant) ?? Promise.resolve();
    let resolveMine = (): void => undefined;
    const mine = new Promise<void>((resolve) => {
      resolveMine = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(tenant, tail);
    await previous;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      resolveMine();
      if (this.#tails.get(tenant) === tail) this.#tails.delete(tenant);
    };
  }
}
