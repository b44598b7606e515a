import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AtomicKv } from '../../src/broadcast/store/atomic-kv.js';
import { StoreUnavailableError } from '../../src/broadcast/store/atomic-kv.js';
import { openKv } from '../../src/broadcast/store/open.js';
import { SqliteKv } from '../../src/broadcast/store/sqlite-kv.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'tb-store-'));
let redis: RedisHandle;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const backends: Array<[string, () => string]> = [
  ['sqlite file', () => `sqlite://${join(dir, `s-${Math.random().toString(36).slice(2)}.sqlite`)}`],
  ['memory', () => 'memory://'],
  ['redis', () => redis.url],
];

describe.each(backends)('AtomicKv on %s', (_name, url) => {
  let kv: AtomicKv;
  beforeAll(async () => {
    kv = await openKv(url());
    // Redis is shared by the suite: start from a clean namespace per backend run.
    for (const { key } of await kv.scan('')) await kv.delete(key);
  });
  afterAll(async () => kv.close());

  it('creates once and reads back with rev 1', async () => {
    expect(await kv.create('a', { n: 1 })).toBe(true);
    expect(await kv.create('a', { n: 2 })).toBe(false);
    expect(await kv.get('a')).toEqual({ rev: 1, data: { n: 1 } });
    expect(await kv.get('missing')).toBeUndefined();
  });

  it('swaps only at the expected revision', async () => {
    await kv.create('b', { v: 'x' });
    expect(await kv.swap('b', 1, { v: 'y' })).toBe(true);
    expect(await kv.swap('b', 1, { v: 'z' })).toBe(false);
    expect(await kv.get('b')).toEqual({ rev: 2, data: { v: 'y' } });
    expect(await kv.swap('nope', 1, { v: 'z' })).toBe(false);
  });

  it('lets exactly one of 50 concurrent swaps win', async () => {
    await kv.create('race', { winner: null });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => kv.swap('race', 1, { winner: i })));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(await kv.get('race')).toEqual({ rev: 2, data: { winner } });
  });

  it('counts up to a limit atomically under concurrency', async () => {
    const got = await Promise.all(Array.from({ length: 30 }, () => kv.incrementBelow('quota', 10)));
    expect(got.filter((n) => n !== null).sort((a, b) => a! - b!)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await kv.counter('quota')).toBe(10);
    expect(await kv.add('quota', -1)).toBe(9);
    expect(await kv.incrementBelow('quota', 10)).toBe(10);
    expect(await kv.incrementBelow('zero', 0)).toBeNull();
    expect(await kv.add('floor', -5)).toBe(0);
  });

  it('reserves push slots at least the gap apart, across concurrent callers', async () => {
    const now = 1_700_000_000_000;
    const slots = await Promise.all(Array.from({ length: 5 }, () => kv.reserveSlot('slot', 1100, now)));
    const sorted = [...slots].sort((a, b) => a - b);
    expect(sorted).toEqual([now, now + 1100, now + 2200, now + 3300, now + 4400]);
    // Once time has moved past the last slot, the next caller may send at once.
    expect(await kv.reserveSlot('slot', 1100, now + 60_000)).toBe(now + 60_000);
  });

  it('scans by prefix only', async () => {
    await kv.create('req:1', { id: 1 });
    await kv.create('req:2', { id: 2 });
    await kv.create('other:1', { id: 3 });
    const found = await kv.scan<{ id: number }>('req:');
    expect(found.map((f) => f.key)).toEqual(['req:1', 'req:2']);
    expect(found[1]?.value.data.id).toBe(2);
  });
});

describe('SQLite store is single-instance', () => {
  it('refuses to open a file another instance holds', async () => {
    const file = join(dir, 'shared.sqlite');
    const first = await SqliteKv.open(file);
    await expect(SqliteKv.open(file)).rejects.toThrow(/in use by another running instance/);
    await first.close();
    const again = await SqliteKv.open(file);
    await again.close();
  });

  it('keeps data across a reopen (restart)', async () => {
    const file = join(dir, 'persist.sqlite');
    const first = await SqliteKv.open(file);
    await first.create('k', { kept: true });
    await first.close();
    const second = await SqliteKv.open(file);
    expect(await second.get('k')).toEqual({ rev: 1, data: { kept: true } });
    await second.close();
  });
});

describe('Redis down', () => {
  it('throws StoreUnavailableError instead of reading a missing key', async () => {
    const own = await startRedis();
    const kv = await openKv(own.url);
    await kv.create('x', { y: 1 });
    await own.kill();
    await expect(kv.get('x')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(kv.swap('x', 1, { y: 2 })).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(kv.incrementBelow('q', 10)).rejects.toBeInstanceOf(StoreUnavailableError);
    await kv.close().catch(() => undefined);
  });
});
