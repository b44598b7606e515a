import type { AtomicKv } from './store/atomic-kv.js';
import type { QuotaStatus } from './types.js';

/** Local calendar date (YYYY-MM-DD) of `at` in `timeZone`. */
export function quotaDay(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** Offset of `timeZone` from UTC at `at`, in ms (positive east of Greenwich). */
function zoneOffsetMs(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(at);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant the quota day after `at` begins (next local midnight in `timeZone`). */
export function nextReset(at: Date, timeZone: string): Date {
  const [y, m, d] = quotaDay(at, timeZone).split('-').map(Number) as [number, number, number];
  const midnightAsUtc = Date.UTC(y, m - 1, d + 1);
  // Two passes settle the offset across a DST change.
  let guess = midnightAsUtc - zoneOffsetMs(new Date(midnightAsUtc), timeZone);
  guess = midnightAsUtc - zoneOffsetMs(new Date(guess), timeZone);
  return new Date(guess);
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The daily push quota, counted atomically in the store so that several instances
 * share one count. Tencent's own count is authoritative: a 90047 marks the day used up.
 */
export class Quota {
  constructor(
    private readonly kv: AtomicKv,
    readonly limit: number,
    readonly timeZone: string,
  ) {}

  private usedKey(day: string) {
    return `quota:${day}:used`;
  }
  private exhaustedKey(day: string) {
    return `quota:${day}:exhausted`;
  }

  async status(at: Date): Promise<QuotaStatus> {
    const day = quotaDay(at, this.timeZone);
    const [used, exhausted] = await Promise.all([this.kv.counter(this.usedKey(day)), this.kv.counter(this.exhaustedKey(day))]);
    return {
      day,
      used,
      limit: this.limit,
      exhausted: exhausted > 0 || used >= this.limit,
      timezone: this.timeZone,
      resetsAt: nextReset(at, this.timeZone).toISOString(),
    };
  }

  /** Count one push against today's quota, if any is left. */
  async reserve(at: Date): Promise<{ ok: true; day: string } | { ok: false; status: QuotaStatus }> {
    const day = quotaDay(at, this.timeZone);
    if ((await this.kv.counter(this.exhaustedKey(day))) === 0) {
      const used = await this.kv.incrementBelow(this.usedKey(day), this.limit);
      if (used !== null) return { ok: true, day };
    }
    return { ok: false, status: await this.status(at) };
  }

  /** Give back a reservation for a push that provably did not happen. */
  async release(day: string): Promise<void> {
    await this.kv.add(this.usedKey(day), -1);
  }

  /** Tencent answered 90047: nothing more can be pushed this day, whatever our count says. */
  async markExhausted(day: string): Promise<void> {
    await this.kv.add(this.exhaustedKey(day), 1);
  }
}
