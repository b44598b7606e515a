import { describe, expect, it } from 'vitest';
import { AttributeNames } from '../../src/slack/attribute-names.js';

describe('AttributeNames', () => {
  it('does not hold the form back when Tencent is slow, and uses the answer once it comes', async () => {
    let answer!: (v: { ok: true; names: string[] }) => void;
    const names = new AttributeNames(() => new Promise((r) => (answer = r)), { firstWaitMs: 10 });
    expect(await names.get()).toEqual([]);
    answer({ ok: true, names: ['city', 'level'] });
    await new Promise((r) => setImmediate(r));
    expect(await names.get()).toEqual(['city', 'level']);
  });

  it('keeps the last good list when a refresh fails, and refreshes after the TTL', async () => {
    let now = 0;
    let calls = 0;
    const replies = [{ ok: true as const, names: ['a'] }, { ok: false as const, message: 'down' }];
    const names = new AttributeNames(async () => replies[calls++] ?? { ok: true, names: ['b'] }, { ttlMs: 100, now: () => now });
    expect(await names.get()).toEqual(['a']);
    expect(await names.get()).toEqual(['a']);
    expect(calls).toBe(1);
    now = 200;
    await names.get();
    await new Promise((r) => setImmediate(r));
    expect(await names.get()).toEqual(['a']);
    expect(calls).toBe(2);
  });
});
