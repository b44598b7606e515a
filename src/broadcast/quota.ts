import type { Store, WriteEffects } from './store/store.js';
import { instantAt, localDate, nextMidnight } from './time.js';
import type { QuotaStatus } from './types.js';

export { isValidTimeZone } from './time.js';

/** Local calendar date (YYYY-MM-DD) of `at` in `timeZone`: the quota day a push counts against. */
export function quotaDay(at: Date, timeZone: string): string {
  return localDate(at, timeZone);
}

/** The instant the quota day after `at` begins (next local midnight in `timeZone`). */
export function nextReset(at: Date, timeZone: string): Date {
  return nextMidnight(at, timeZone);
}

/**
 * The daily push quota, counted atomically in the store so that several instances share one count.
 * A reservation is made in the same atomic write as the request's claim (see `reserveEffect`), so a
 * slot can never leak between the two. Tencent's own count is authoritative: a 90047 marks the day used up.
 */
export class Quota {
  /** The current quota day and when it ends: asked on every command and card, computed once a day. */
  private window: { day: string; startMs: number; endMs: number } | undefined;

  constructor(
    private readonly store: Store,
    readonly limit: number,
    readonly timeZone: string,
  ) {}

  private dayWindow(at: Date): { day: string; startMs: number; endMs: number } {
    const t = at.getTime();
    const w = this.window;
    if (w && t >= w.startMs && t < w.endMs) return w;
    const day = quotaDay(at, this.timeZone);
    const [y, m, d] = day.split('-').map(Number) as [number, number, number];
    const start = instantAt(y, m, d, 0, this.timeZone).getTime();
    const fresh = { day, startMs: Math.min(start, t), endMs: nextReset(at, this.timeZone).getTime() };
    this.window = fresh;
    return fresh;
  }

  usedKey(day: string): string {
    return `quota:${day}:used`;
  }

  exhaustedKey(day: string): string {
    return `quota:${day}:exhausted`;
  }

  day(at: Date): string {
    return this.dayWindow(at).day;
  }

  async status(at: Date): Promise<QuotaStatus> {
    const { day, endMs } = this.dayWindow(at);
    const [used, exhausted] = await Promise.all([this.store.counter(this.usedKey(day)), this.store.counter(this.exhaustedKey(day))]);
    return {
      day,
      used,
      limit: this.limit,
      exhausted: exhausted > 0 || used >= this.limit,
      timezone: this.timeZone,
      resetsAt: new Date(endMs).toISOString(),
    };
  }

  /** Count one push against `day` in the same write as a request claim; the write fails with 'limit' when none is left. */
  reserveEffect(day: string): WriteEffects['reserve'] {
    return { key: this.usedKey(day), limit: this.limit, unlessSet: this.exhaustedKey(day) };
  }

  /** Give a reservation back, in the same write that records the push provably did not happen. */
  releaseEffect(day: string): WriteEffects['release'] {
    return { key: this.usedKey(day) };
  }

  /** Tencent answered 90047: nothing more can be pushed this day, whatever our count says. */
  exhaustEffect(day: string): WriteEffects['flag'] {
    return { key: this.exhaustedKey(day) };
  }
}
