import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextReset, Quota, quotaDay } from '../../src/broadcast/quota.js';
import type { AtomicKv } from '../../src/broadcast/store/atomic-kv.js';
import { openKv } from '../../src/broadcast/store/open.js';

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
  });
});

describe('Quota', () => {
  let kv: AtomicKv;
  beforeAll(async () => {
    kv = await openKv('memory://');
  });
  afterAll(async () => kv.close());

  it('reserves up to the limit, releases, and stops at 90047', async () => {
    const quota = new Quota(kv, 2, 'Asia/Shanghai');
    const at = new Date('2026-11-27T02:00:00Z');
    expect(await quota.reserve(at)).toEqual({ ok: true, day: '2026-11-27' });
    expect(await quota.reserve(at)).toEqual({ ok: true, day: '2026-11-27' });
    const full = await quota.reserve(at);
    expect(full.ok).toBe(false);
    expect((await quota.status(at)).used).toBe(2);
    await quota.release('2026-11-27');
    expect((await quota.status(at)).used).toBe(1);
    await quota.markExhausted('2026-11-27');
    const status = await quota.status(at);
    expect(status.exhausted).toBe(true);
    expect((await quota.reserve(at)).ok).toBe(false);
    // The next day starts fresh.
    expect(await quota.reserve(new Date('2026-11-28T02:00:00Z'))).toEqual({ ok: true, day: '2026-11-28' });
  });
});
