// The storage contract of the domain. Two kinds of data live in one store:
//  - requests: one JSON document each, plus index columns derived from it (state, times that make
//    a request due, requester, TaskId...). The indexes are native to each backend (SQL columns with
//    indexes; Redis sorted sets and hashes) and are written in the same atomic step as the document,
//    so periodic sweeps and user-facing lists cost the same after years of history as on day one.
//  - counters (quota, push spacing) and small values: Keyv's own storage layout, read through Keyv,
//    with the atomic operations Keyv lacks (it has no compare-and-swap or counters) done natively
//    on that layout. test/broadcast/store-contract.test.ts pins the layout.
import type { BroadcastRequest } from '../types.js';

export const NAMESPACE = 'tim-broadcast';

/** A request as stored: everything but its revision, which the store keeps. */
export type RequestDoc = Omit<BroadcastRequest, 'rev'>;

export interface Versioned<T> {
  rev: number;
  data: T;
}

/** The columns a request is found by. Absent = not in that index. */
export interface RequestIndex {
  state: string;
  createdMs: number;
  requester: string;
  taskId?: string;
  /** Message+audience fingerprint of a request that was pushed, and when (duplicate guard). */
  dedupKey?: string;
  sentMs?: number;
  /** When something becomes due: owed notifications, an expired lease, expiry, a scheduled push. */
  outboxDueMs?: number;
  leaseUntilMs?: number;
  expiresMs?: number;
  scheduleMs?: number;
}

export type DueIndex = 'outbox' | 'lease' | 'expiry' | 'schedule';

/** Counter changes made in the same atomic step as a request write. */
export interface WriteEffects {
  /** Count one against `key` if it is below `limit` and `unlessSet` (a flag counter) is 0; else the write fails with 'limit'. */
  reserve?: { key: string; limit: number; unlessSet?: string };
  /** Give one back (never below 0). */
  release?: { key: string };
  /** Add one to a flag counter. */
  flag?: { key: string };
  /**
   * Reserve the next send slot at least gapMs after the previous one; the result carries its time.
   * `readyDoc`: written instead of the document when the slot is free at once (one write instead
   * of two on the approval path: claimed and already 'sending').
   */
  slot?: { key: string; gapMs: number; nowMs: number; readyDoc?: RequestDoc };
}

export type WriteResult = { ok: true; slotAt?: number; /** readyDoc was written */ wroteReady?: boolean } | { ok: false; reason: 'conflict' | 'limit' };

export interface ListQuery {
  states?: readonly string[];
  requester?: string;
  limit: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'redis';
  /** Insert at rev 1 only if the id is free. */
  createRequest(doc: RequestDoc): Promise<boolean>;
  getRequest(id: string): Promise<Versioned<RequestDoc> | undefined>;
  /**
   * Replace the request read as `current` only if the stored rev is still `current.rev` (the new rev
   * is one more), with its effects, atomically.
   */
  writeRequest(current: Versioned<RequestDoc>, next: RequestDoc, effects?: WriteEffects): Promise<WriteResult>;
  /** Ids due in an index at `nowMs`, most overdue first. */
  due(index: DueIndex, nowMs: number, limit: number): Promise<string[]>;
  /** Newest first. */
  list(q: ListQuery): Promise<Array<Versioned<RequestDoc>>>;
  idByTaskId(taskId: string): Promise<string | undefined>;
  /** The latest request pushed with this fingerprint since `sinceMs`. */
  lastSent(dedupKey: string, sinceMs: number): Promise<Versioned<RequestDoc> | undefined>;
  /** Every request created in [sinceMs, untilMs), oldest first, read in pages (memory stays flat). */
  scan(sinceMs: number, untilMs: number, pageSize?: number): AsyncIterable<Versioned<RequestDoc>>;

  counter(key: string): Promise<number>;
  incrementBelow(key: string, limit: number): Promise<number | null>;
  /** Add `delta` (may be negative, never below 0); the new value. */
  add(key: string, delta: number): Promise<number>;
  /** Reserve the next send slot at least `gapMs` after the previous reservation; the epoch ms the caller may send at. */
  reserveSlot(key: string, gapMs: number, nowMs: number): Promise<number>;
  /** Small values through Keyv (caches shared by instances). */
  getValue<T>(key: string): Promise<T | undefined>;
  setValue<T>(key: string, value: T, ttlMs?: number): Promise<void>;

  /** Throws StoreUnavailableError when the store does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown when the store cannot be reached or refuses to work. Whether a write landed is then unknown. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export function storeError(what: string, error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  return new StoreUnavailableError(`${what}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}
