import { inflateSync } from 'node:zlib';
import official from 'tls-sig-api-v2';
import { describe, expect, it } from 'vitest';
import { UserSigCache, genUserSig, hmacSig, verifyUserSig } from '../../src/tim/usersig.js';
import { SDKAPPID, SECRET_KEY } from './helpers.js';

const T = 1700000000;
const EXPIRE = 86400 * 180;

/** The official package's decoding steps (base64url.unescape + base64 + zlib + JSON). */
function officialDecode(sig: string): Record<string, unknown> {
  const b64 = sig.replace(/_/g, '=').replace(/-/g, '/').replace(/\*/g, '+');
  return JSON.parse(inflateSync(Buffer.from(b64, 'base64')).toString('utf8')) as Record<string, unknown>;
}

describe('hmacSig', () => {
  it('matches the reference test vector', () => {
    expect(hmacSig({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, identifier: 'xiaojun', time: T, expire: EXPIRE })).toBe(
      'LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4=',
    );
  });

  it('equals the official package’s HMAC step', () => {
    const api = new official.Api(SDKAPPID, SECRET_KEY);
    expect(hmacSig({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, identifier: 'admin', time: T, expire: 60 })).toBe(
      api._hmacsha256('admin', T, 60, null),
    );
  });
});

describe('genUserSig', () => {
  it('embeds the reference TLS.sig for the reference inputs', () => {
    const sig = genUserSig({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, identifier: 'xiaojun', expireSeconds: EXPIRE, nowSeconds: T });
    expect(officialDecode(sig)['TLS.sig']).toBe('LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4=');
    expect(sig).not.toMatch(/[+/=]/);
  });

  it('round-trips through verifyUserSig', () => {
    const sig = genUserSig({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, identifier: 'admin', expireSeconds: 3600, nowSeconds: T });
    expect(verifyUserSig(sig, { sdkAppId: SDKAPPID, secretKey: SECRET_KEY, identifier: 'admin', nowSeconds: T + 10 })).toEqual({ ok: true });
  });

  it('emits the same JSON field names and types as the official package, and a sig the official HMAC reproduces', () => {
    const api = new official.Api(SDKAPPID, SECRET_KEY);
    const theirs = officialDecode(api.genUserSig('admin', 3600));
    const ours = officialDecode(genUserSig({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, identifier: 'admin', expireSeconds: 3600 }));
    const shape = (d: Record<string, unknown>) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, typeof v]));
    expect(shape(ours)).toEqual(shape(theirs));
    expect(ours['TLS.ver']).toBe('2.0');
    expect(ours['TLS.sig']).toBe(api._hmacsha256('admin', ours['TLS.time'] as number, ours['TLS.expire'] as number, null));
  });

  it('rejects bad inputs without echoing the key', () => {
    expect(() => genUserSig({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, identifier: 'a', expireSeconds: 0 })).toThrow(/expiry/);
    expect(() => genUserSig({ sdkAppId: SDKAPPID, secretKey: '', identifier: 'a', expireSeconds: 1 })).toThrow(/secret key is empty/);
    try {
      genUserSig({ sdkAppId: -1, secretKey: SECRET_KEY, identifier: 'a', expireSeconds: 1 });
      expect.unreachable();
    } catch (err) {
      expect(String(err)).not.toContain(SECRET_KEY);
    }
  });
});

describe('verifyUserSig', () => {
  const opts = { sdkAppId: SDKAPPID, secretKey: SECRET_KEY, identifier: 'admin' };

  it('accepts a sig from the official npm package', () => {
    const sig = new official.Api(SDKAPPID, SECRET_KEY).genUserSig('admin', 3600);
    expect(verifyUserSig(sig, opts)).toEqual({ ok: true });
  });

  const ourSig = genUserSig({ ...opts, expireSeconds: 100, nowSeconds: T });
  it.each([
    ['wrong key', ourSig, { ...opts, secretKey: 'another-key', nowSeconds: T }, 70009],
    ['wrong identifier', ourSig, { ...opts, identifier: 'someone', nowSeconds: T }, 70013],
    ['wrong sdkappid', ourSig, { ...opts, sdkAppId: 1400000001, nowSeconds: T }, 70014],
    ['expired', ourSig, { ...opts, nowSeconds: T + 101 }, 70001],
    ['garbage', 'not-a-sig', opts, 70003],
    ['truncated', ourSig.slice(0, 40), opts, 70003],
    ['empty', '', opts, 70003],
  ] as const)('%s → %i', (_name, sig, o, code) => {
    const r = verifyUserSig(sig, o);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(code);
      expect(r.reason).not.toContain(SECRET_KEY);
    }
  });

  it('is still valid at the last second', () => {
    expect(verifyUserSig(ourSig, { ...opts, nowSeconds: T + 100 })).toEqual({ ok: true });
  });
});

describe('UserSigCache', () => {
  it('reuses the sig, then refreshes it within refreshBeforeSeconds of expiry', () => {
    let nowMs = T * 1000;
    const cache = new UserSigCache({ ...{ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, identifier: 'admin' }, expireSeconds: 1000, refreshBeforeSeconds: 100, now: () => nowMs });
    const first = cache.get();
    nowMs += 899_000;
    expect(cache.get()).toBe(first);
    nowMs += 1_000; // 900 s in: 100 s left
    const second = cache.get();
    expect(second).not.toBe(first);
    expect(officialDecode(second)['TLS.time']).toBe(T + 900);
    expect(verifyUserSig(second, { sdkAppId: SDKAPPID, secretKey: SECRET_KEY, identifier: 'admin', nowSeconds: T + 900 })).toEqual({ ok: true });
  });

  it('defaults to a two-day sig', () => {
    const cache = new UserSigCache({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, identifier: 'admin', now: () => T * 1000 });
    expect(officialDecode(cache.get())['TLS.expire']).toBe(172800);
  });

  it('refuses a refresh window as long as the validity', () => {
    expect(() => new UserSigCache({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, identifier: 'a', expireSeconds: 60, refreshBeforeSeconds: 60 })).toThrow(RangeError);
  });
});
