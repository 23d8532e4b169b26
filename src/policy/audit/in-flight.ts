/**
 * Audit chains extended by commits still in flight. A commit's audit records link to the hash of
 * the tenant's newest record — applied, or queued just before it — so one tenant's commits need
 * not wait for each other and share WAL groups (one write, one fsync; ADR 0020). If a commit
 * fails, every commit queued behind it that links to its records is refused by the log (its
 * `valid` answers false), so no gap is ever written; new commits build on what is still good.
 */
import type { ChainTip } from "./record.ts";

/** One commit's extension of one tenant's chain. */
export interface ChainLink {
  readonly tenant: string;
  /** The chain's tip once this commit is applied. */
  tip: ChainTip;
  /** The in-flight link this one builds on (null: the applied chain); cut once applied. */
  predecessor: ChainLink | null;
  state: "pending" | "applied" | "failed";
}

/** Every tenant's newest link. */
export class InFlightChains {
  readonly #newest = new Map<string, ChainLink>();
  /** Tenants that may have a failed link in flight: only their base needs a walk. */
  readonly #failing = new Set<string>();

  /**
   * The in-flight link a new commit of `tenant` builds on: the newest link of the oldest run of
   * unfailed links (everything after a failed link will be refused too), or null to build on the
   * applied chain. O(1) unless a link of the tenant failed while others were in flight.
   */
  baseOf(tenant: string): ChainLink | null {
    const newest = this.#newest.get(tenant) ?? null;
    if (!this.#failing.has(tenant)) return newest?.state === "pending" ? newest : null;
    const inFlight: ChainLink[] = [];
    for (let l = newest; l !== null && l.state !== "applied"; ) {
      inFlight.push(l);
      l = l.predecessor;
    }
    let base: ChainLink | null = null;
    for (let i = inFlight.length - 1; i >= 0; i--) {
      const link = inFlight[i] as ChainLink;
      if (link.state === "failed") return base;
      base = link;
    }
    this.#failing.delete(tenant);
    return base;
  }

  /** Records that a commit extends `tenant`'s chain from `base` to `tip`. */
  extend(tenant: string, base: ChainLink | null, tip: ChainTip): ChainLink {
    const link: ChainLink = { tenant, tip, predecessor: base, state: "pending" };
    this.#newest.set(tenant, link);
    return link;
  }

  /** Whether the commit of these links may still be written: none builds on a failed one. */
  static valid(links: readonly ChainLink[]): boolean {
    return links.every((l) => l.predecessor?.state !== "failed");
  }

  /** The outcome of the commit of these links. */
  settle(links: readonly ChainLink[], applied: boolean): void {
    for (const link of links) {
      link.state = applied ? "applied" : "failed";
      if (!applied) {
        this.#failing.add(link.tenant);
        continue;
      }
      link.predecessor = null;
      if (this.#newest.get(link.tenant) === link) this.#newest.delete(link.tenant);
    }
  }

  /** Tenants with a link in memory (tests: nothing is kept once every commit settled). */
  get size(): number {
    return this.#newest.size;
  }
}
