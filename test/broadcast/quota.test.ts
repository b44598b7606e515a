import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextReset, Quota, quotaDay } from '../../src/broadcast/quota.js';
import { openStore } from '../../src/broadcast/store/open.js';
import type { Store } from '../../src/broadcast/store/store.js';
import { formatQuietHours, inQuietHours, localClock, nextLocalMinute, quietHoursEnd } from '../../src/broadcast/time.js';

describe('quota day', () => {
  it('follows the quota time zone, not UTC', () => {
    // 2026-11-27 17:30 UTC is already 2026-11-28 01:30 in Shanghai.
    const at = new Date('2026-11-27T17:30:00Z');
    expect(quotaDay(at, 'Asia/Shanghai')).toBe('2026-11-28');
    expect(quotaDay(at, 'UTC')).toBe('2026-11-27');
  });

  it('resets at the next local midnight', () => {
    expect(nextReset(new Date('2026-11-27T17:30:00Z'), 'Asia/Shanghai').toISOString()).toBe('2026-11-28T16:00:00.000Z');
    expect(nextReset(new Date('2026-11-27T10:00:00Z'), 'UTC').toISOString()).toBe('2026-11-28T00:00:00.000Z');
  });

  it('handles a daylight-saving change', () => {
    // Europe/Berlin leaves summer time on 2026-10-25: midnight after is 23:00 UTC.
    expect(nextReset(new Date('2026-10-25T12:00:00Z'), 'Europe/Berlin').toISOString()).toBe('2026-10-25T23:00:00.000Z');
    // And enters it on 2026-03-29: the day is 23 hours long; midnight after is 22:00 UTC.
    expect(nextReset(new Date('2026-03-29T12:00:00Z'), 'Europe/Berlin').toISOString()).toBe('2026-03-29T22:00:00.000Z');
  });
});

describe('quiet hours', () => {
  const q = { startMinute: 22 * 60, endMinute: 8 * 60 };
  it('wrap midnight in the quota time zone', () => {
    expect(inQuietHours(new Date('2026-11-27T14:00:00Z'), 'Asia/Shanghai', q)).toBe(true); // 22:00
    expect(inQuietHours(new Date('2026-11-27T13:59:00Z'), 'Asia/Shanghai', q)).toBe(false); // 21:59
    expect(inQuietHours(new Date('2026-11-27T23:59:00Z'), 'Asia/Shanghai', q)).toBe(true); // 07:59
    expect(inQuietHours(new Date('2026-11-28T00:00:00Z'), 'Asia/Shanghai', q)).toBe(false); // 08:00
    expect(inQuietHours(new Date('2026-11-28T00:00:00Z'), 'Asia/Shanghai', undefined)).toBe(false);
  });

  it('a daytime window does not wrap', () => {
    const day = { startMinute: 12 * 60, endMinute: 13 * 60 };
    expect(inQuietHours(new Date('2026-11-27T04:30:00Z'), 'Asia/Shanghai', day)).toBe(true); // 12:30
    expect(inQuietHours(new Date('2026-11-27T05:00:00Z'), 'Asia/Shanghai', day)).toBe(false); // 13:00
  });

  it('end at the next local end time', () => {
    expect(quietHoursEnd(new Date('2026-11-27T15:00:00Z'), 'Asia/Shanghai', q).toISOString()).toBe('2026-11-28T00:00:00.000Z');
    expect(quietHoursEnd(new Date('2026-11-27T22:00:00Z'), 'Asia/Shanghai', q).toISOString()).toBe('2026-11-28T00:00:00.000Z');
    expect(nextLocalMinute(new Date('2026-11-28T00:00:00Z'), 8 * 60, 'Asia/Shanghai').toISOString()).toBe('2026-11-29T00:00:00.000Z');
    expect(localClock(new Date('2026-11-28T00:00:00Z'), 'Asia/Shanghai')).toBe('08:00');
    expect(formatQuietHours(q)).toBe('22:00–08:00');
  });
});

describe('Quota', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore('memory://');
  });
  afterAll(async () => store.close());

  it('counts per quota day and reports exhaustion, by count or by a 90047 flag', async () => {
    const quota = new Quota(store, 2, 'Asia/Shanghai');
    const at = new Date('2026-11-27T02:00:00Z');
    const day = quota.day(at);
    expect(day).toBe('2026-11-27');
    expect(await store.incrementBelow(quota.reserveEffect(day)!.key, 2)).toBe(1);
    expect((await quota.status(at)).exhausted).toBe(false);
    await store.add(quota.exhaustEffect(day)!.key, 1);
    const status = await quota.status(at);
    expect(status).toMatchObject({ used: 1, limit: 2, exhausted: true, resetsAt: '2026-11-27T16:00:00.000Z' });
    // The next day starts fresh.
    expect((await quota.status(new Date('2026-11-28T02:00:00Z'))).exhausted).toBe(false);
  });

  it('keeps the current day and its reset in step with the clock, across midnight and a DST change', async () => {
    const quota = new Quota(store, 2, 'Europe/Berlin');
    // 2026-10-25 is 25 hours long in Berlin (summer time ends).
    const evening = await quota.status(new Date('2026-10-25T21:00:00Z')); // 22:00 local
    expect(evening).toMatchObject({ day: '2026-10-25', resetsAt: '2026-10-25T23:00:00.000Z' });
    const early = await quota.status(new Date('2026-10-25T00:30:00Z')); // 02:30 local, same day, asked later
    expect(early).toMatchObject({ day: '2026-10-25', resetsAt: '2026-10-25T23:00:00.000Z' });
    const after = await quota.status(new Date('2026-10-25T23:00:00Z')); // 00:00 local, the next day
    expect(after).toMatchObject({ day: '2026-10-26', resetsAt: '2026-10-26T23:00:00.000Z' });
    expect(quota.day(new Date('2026-10-24T21:59:59Z'))).toBe('2026-10-24');
  });
});
