import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TimClient } from '../../src/tim/client.js';
import { PushEmulator } from '../../src/tim/emulator.js';
import { AttributeNameCache, AudienceSizeCache, LookupCache, type LookupResult } from '../../src/tim/lookup-cache.js';
import { ADMIN, SDKAPPID, SECRET_KEY } from './helpers.js';

/** A fetch whose answers the test hands out one by one. */
function scriptedFetch<T>() {
  const pending: ((r: LookupResult<T> | Error) => void)[] = [];
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    fetch: () => {
      calls++;
      return new Promise<LookupResult<T>>((resolve, reject) => pending.push((r) => (r instanceof Error ? reject(r) : resolve(r))));
    },
    /** Answers the oldest open call and lets the cache see it. */
    async answer(r: LookupResult<T> | Error) {
      const next = pending.shift();
      if (!next) throw new Error('no open call');
      next(r);
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

let nowMs: number;
const now = () => nowMs;
beforeEach(() => {
  nowMs = 1_000_000;
});

describe('LookupCache', () => {
  it('on first use waits for a quick answer', async () => {
    const cache = new LookupCache(async () => ({ ok: true, value: 42 }), { ttlMs: 1000, now });
    expect(await cache.get()).toEqual({ kind: 'known', value: 42, checkedAt: nowMs });
  });

  it('on first use gives up after maxWaitMs and says unknown; the late answer is used next time', async () => {
    const f = scriptedFetch<number>();
    const cache = new LookupCache(f.fetch, { ttlMs: 1000, maxWaitMs: 10, now });
    expect(await cache.get()).toEqual({ kind: 'unknown', reason: 'Tencent has not answered yet' });
    await f.answer({ ok: true, value: 7 });
    expect(await cache.get()).toMatchObject({ kind: 'known', value: 7 });
    expect(f.calls).toBe(1);
  });

  it('concurrent first uses share one look-up', async () => {
    let calls = 0;
    const cache = new LookupCache(async () => ({ ok: true, value: ++calls }), { ttlMs: 1000, now });
    const results = await Promise.all([cache.get(), cache.get(), cache.get()]);
    expect(results.map((r) => r.kind === 'known' && r.value)).toEqual([1, 1, 1]);
    expect(calls).toBe(1);
  });

  it('within the TTL it does not ask again; after it, it answers the old value at once and refreshes', async () => {
    const f = scriptedFetch<number>();
    const cache = new LookupCache(f.fetch, { ttlMs: 1000, maxWaitMs: 10_000, now });
    const first = cache.get();
    await f.answer({ ok: true, value: 1 });
    expect(await first).toMatchObject({ kind: 'known', value: 1 });
    nowMs += 999;
    expect(await cache.get()).toMatchObject({ kind: 'known', value: 1 });
    expect(f.calls).toBe(1);
    nowMs += 1;
    // The refresh is still open, yet get() answers (it would hang for maxWaitMs otherwise).
    expect(await cache.get()).toMatchObject({ kind: 'known', value: 1 });
    expect(f.calls).toBe(2);
    await f.answer({ ok: true, value: 2 });
    expect(await cache.get()).toMatchObject({ kind: 'known', value: 2, checkedAt: nowMs });
  });

  it('remembers a failure for failureTtlMs and reports it as unknown', async () => {
    const f = scriptedFetch<number>();
    const cache = new LookupCache(f.fetch, { ttlMs: 3600_000, failureTtlMs: 60_000, maxWaitMs: 10_000, now });
    const first = cache.get();
    await f.answer({ ok: false, message: 'HTTP 502' });
    expect(await first).toEqual({ kind: 'unknown', reason: 'HTTP 502' });
    nowMs += 59_999;
    expect(await cache.get()).toEqual({ kind: 'unknown', reason: 'HTTP 502' });
    expect(f.calls).toBe(1);
    nowMs += 1;
    const again = cache.get();
    await f.answer({ ok: true, value: 5 });
    expect(await again).toMatchObject({ kind: 'known', value: 5 });
    expect(f.calls).toBe(2);
  });

  it('a failed refresh keeps a good answer until it is maxStaleMs old, then says unknown', async () => {
    const f = scriptedFetch<number>();
    const cache = new LookupCache(f.fetch, { ttlMs: 1000, failureTtlMs: 1000, maxStaleMs: 10_000, maxWaitMs: 10, now });
    const first = cache.get();
    await f.answer({ ok: true, value: 1 });
    await first;
    nowMs += 1000;
    expect(await cache.get()).toMatchObject({ kind: 'known', value: 1 });
    await f.answer({ ok: false, message: 'down' });
    expect(await cache.get()).toMatchObject({ kind: 'known', value: 1 }); // failure remembered, good answer still fresh enough
    expect(f.calls).toBe(2);
    nowMs += 9000; // the good answer is now 10 s old
    expect(await cache.get()).toEqual({ kind: 'unknown', reason: 'down' });
  });

  it('a look-up that throws counts as a failure', async () => {
    const cache = new LookupCache<number>(async () => Promise.reject(new Error('boom')), { ttlMs: 1000, now });
    expect(await cache.get()).toEqual({ kind: 'unknown', reason: 'the look-up failed unexpectedly' });
    const syncThrow = new LookupCache<number>(() => {
      throw new Error('boom');
    }, { ttlMs: 1000, now });
    expect(await syncThrow.get()).toEqual({ kind: 'unknown', reason: 'the look-up failed unexpectedly' });
  });

  it('peek never asks', () => {
    let calls = 0;
    const cache = new LookupCache(async () => ({ ok: true, value: ++calls }), { ttlMs: 1000, now });
    expect(cache.peek()).toEqual({ kind: 'unknown', reason: 'not looked up yet' });
    expect(calls).toBe(0);
  });
});

describe('AudienceSizeCache and AttributeNameCache against the emulator', () => {
  let emu: PushEmulator;
  let client: TimClient;

  beforeEach(async () => {
    emu = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, admin: ADMIN, attrNames: ['sex', 'city'] });
    client = new TimClient({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, admin: ADMIN, baseUrl: emu.url });
  });
  afterEach(async () => {
    await client.close();
    await emu.close();
  });

  const appInfoCalls = () => emu.requests.filter((r) => r.path === '/v4/openconfigsvr/getappinfo').length;

  it('the audience size is cached for 1 hour by default', async () => {
    const cache = new AudienceSizeCache(client, { now, maxWaitMs: 5000 });
    const first = await cache.get();
    expect(first).toMatchObject({ kind: 'known', value: { registeredUsers: 12345 } });
    expect(first.kind === 'known' && first.value.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    emu.setRegisteredUsers(20000);
    nowMs += 3599_999;
    expect(await cache.get()).toMatchObject({ kind: 'known', value: { registeredUsers: 12345 } });
    expect(appInfoCalls()).toBe(1);
    nowMs += 1;
    await cache.get(); // answers the old figure and refreshes in the background
    await expect.poll(() => cache.peek()).toMatchObject({ kind: 'known', value: { registeredUsers: 20000 } });
    expect(appInfoCalls()).toBe(2);
  });

  it('a failing getappinfo is reported as unknown with the reason, and not asked again at once', async () => {
    emu.failNext(1, { kind: 'http', status: 503 }, '/v4/openconfigsvr/getappinfo');
    const cache = new AudienceSizeCache(client, { now, maxWaitMs: 5000 });
    expect(await cache.get()).toEqual({ kind: 'unknown', reason: 'Could not read the number of registered users: HTTP 503.' });
    expect(await cache.get()).toMatchObject({ kind: 'unknown' });
    expect(appInfoCalls()).toBe(1);
  });

  it('attribute names: names() lists them, or [] while unknown', async () => {
    expect(await new AttributeNameCache(client, { now, maxWaitMs: 5000 }).names()).toEqual(['sex', 'city']);
    emu.failNext(1, { kind: 'error', code: 70500 }, '/v4/all_member_push/im_get_attr_name');
    const failing = new AttributeNameCache(client, { now, maxWaitMs: 5000 });
    expect(await failing.names()).toEqual([]);
    expect(await failing.get()).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('70500') });
  });
});
