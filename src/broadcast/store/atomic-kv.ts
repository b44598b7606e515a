// The storage contract of the domain: a Keyv store plus the few atomic operations
// that Keyv itself lacks (it has no compare-and-swap or counters; see keyv issues #12, #756).
// Each backend implements them natively: SQL conditional writes for SQLite, Lua scripts for Redis.

/** A stored record and the revision it was read at. */
export interface Versioned<T> {
  rev: number;
  data: T;
}

export interface AtomicKv {
  readonly kind: 'sqlite' | 'redis';
  /** Read a record; undefined when absent. Throws when the store cannot be reached. */
  get<T>(key: string): Promise<Versioned<T> | undefined>;
  /** Insert at rev 1 only if the key is absent. */
  create<T>(key: string, data: T): Promise<boolean>;
  /** Replace only if the stored rev equals `expectedRev`; the new rev is expectedRev + 1. */
  swap<T>(key: string, expectedRev: number, data: T): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Add 1 to a counter if it is below `limit`; the new value, or null when the limit is reached. */
  incrementBelow(key: string, limit: number): Promise<number | null>;
  /** Add `delta` (may be negative, never below 0); the new value. */
  add(key: string, delta: number): Promise<number>;
  counter(key: string): Promise<number>;
  /**
   * Reserve the next send slot at least `gapMs` after the previous reservation.
   * Returns the epoch ms at which the caller may send (>= nowMs).
   */
  reserveSlot(key: string, gapMs: number, nowMs: number): Promise<number>;
  /** Every record whose key starts with `prefix`. */
  scan<T>(prefix: string): Promise<Array<{ key: string; value: Versioned<T> }>>;
  close(): Promise<void>;
}

/** Thrown when the store cannot be reached or refuses to work; nothing was changed by the caller. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export const NAMESPACE = 'tim-broadcast';
