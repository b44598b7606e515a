// Cached answers to Tencent look-ups shown while Slack waits (a modal must open within 3 s, a
// card renders during an interaction): never wait long, refresh in the background, remember a
// failure briefly so a Tencent outage is not hammered, and say "unknown" rather than guess.
// Hand-written: lru-cache and friends cache values, not "wait at most N ms, then report unknown".
import type { AppInfo } from './client.js';

export type LookupResult<T> = { ok: true; value: T } | { ok: false; message: string };

export type Lookup<T> =
  | { kind: 'known'; value: T; /** Clock time of the answer. */ checkedAt: number }
  | { kind: 'unknown'; reason: string };

export interface LookupCacheOptions {
  /** A good answer is used this long before it is refreshed (in the background). */
  ttlMs: number;
  /** A failure is remembered this long before Tencent is asked again. Default 60 000. */
  failureTtlMs?: number;
  /** A good answer older than this is not shown, even when refreshing fails. Default 24 h. */
  maxStaleMs?: number;
  /** The longest get() waits when it has nothing to show (first use, after failures). Default 700. */
  maxWaitMs?: number;
  /** Milliseconds. Default Date.now. */
  now?: () => number;
}

export class LookupCache<T> {
  readonly #fetch: () => Promise<LookupResult<T>>;
  readonly #ttlMs: number;
  readonly #failureTtlMs: number;
  readonly #maxStaleMs: number;
  readonly #maxWaitMs: number;
  readonly #now: () => number;
  #good: { value: T; at: number } | undefined;
  #failure: { reason: string; at: number } | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(fetch: () => Promise<LookupResult<T>>, o: LookupCacheOptions) {
    this.#fetch = fetch;
    this.#ttlMs = o.ttlMs;
    this.#failureTtlMs = o.failureTtlMs ?? 60_000;
    this.#maxStaleMs = o.maxStaleMs ?? 24 * 3600_000;
    this.#maxWaitMs = o.maxWaitMs ?? 700;
    this.#now = o.now ?? Date.now;
  }

  /** The cached answer, refreshed when due; waits at most maxWaitMs, and only when nothing is usable. */
  async get(): Promise<Lookup<T>> {
    if (this.#refreshing === undefined && this.#isDue()) this.#refresh();
    if (this.#refreshing !== undefined && !this.#usable()) await waitAtMost(this.#refreshing, this.#maxWaitMs);
    return this.peek();
  }

  /** The cached answer, without asking Tencent. */
  peek(): Lookup<T> {
    if (this.#good !== undefined && this.#usable()) return { kind: 'known', value: this.#good.value, checkedAt: this.#good.at };
    if (this.#failure !== undefined) return { kind: 'unknown', reason: this.#failure.reason };
    return { kind: 'unknown', reason: this.#refreshing ? 'Tencent has not answered yet' : 'not looked up yet' };
  }

  #isDue(): boolean {
    const now = this.#now();
    const lastFailed = this.#failure !== undefined && (this.#good === undefined || this.#failure.at >= this.#good.at);
    if (lastFailed) return now - this.#failure!.at >= this.#failureTtlMs;
    return this.#good === undefined || now - this.#good.at >= this.#ttlMs;
  }

  #usable(): boolean {
    return this.#good !== undefined && this.#now() - this.#good.at < this.#maxStaleMs;
  }

  #refresh(): void {
    let started: Promise<LookupResult<T>>;
    try {
      started = this.#fetch();
    } catch (err) {
      started = Promise.reject(err);
    }
    this.#refreshing = started
      .catch((): LookupResult<T> => ({ ok: false, message: 'the look-up failed unexpectedly' }))
      .then((r) => {
        const at = this.#now();
        if (r.ok) {
          this.#good = { value: r.value, at };
          this.#failure = undefined;
        } else {
          this.#failure = { reason: r.message, at };
        }
      })
      .finally(() => {
        this.#refreshing = undefined;
      });
  }
}

async function waitAtMost(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Registered users of the app (getappinfo), the ceiling of an all-member push's audience.
 * Tencent's figures are per day, so an hour-old answer is as good as a fresh one.
 */
export class AudienceSizeCache extends LookupCache<AppInfo> {
  constructor(source: { getAppInfo(): Promise<({ ok: true } & AppInfo) | { ok: false; message: string }> }, o: Partial<LookupCacheOptions> = {}) {
    super(
      async () => {
        const r = await source.getAppInfo();
        return r.ok ? { ok: true, value: { registeredUsers: r.registeredUsers, date: r.date } } : r;
      },
      { ...o, ttlMs: o.ttlMs ?? 3600_000 },
    );
  }
}

/** The app's attribute names (im_get_attr_name), offered in the request form and checked before submission. */
export class AttributeNameCache extends LookupCache<string[]> {
  constructor(source: { getAttrNames(): Promise<{ ok: true; names: string[] } | { ok: false; message: string }> }, o: Partial<LookupCacheOptions> = {}) {
    super(
      async () => {
        const r = await source.getAttrNames();
        return r.ok ? { ok: true, value: r.names } : r;
      },
      { ...o, ttlMs: o.ttlMs ?? 600_000 },
    );
  }

  /** The names, or [] while they are unknown (the form then offers no hint). */
  async names(): Promise<string[]> {
    const r = await this.get();
    return r.kind === 'known' ? r.value : [];
  }
}
