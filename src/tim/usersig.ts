// UserSig, TLSSigAPIv2 (HMAC-SHA256), same algorithm as tencentyun/tls-sig-api-v2-node and
// the Go library's VerifyUserSig. Reference: /work/shared/reference/tencent-im-push.md §4.
// Errors thrown here never contain the secret key or a signature.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';

interface SigFields {
  sdkAppId: number;
  secretKey: string;
  identifier: string;
  time: number;
  expire: number;
}

/** TLS.sig: standard base64 of HMAC-SHA256(secretKey as UTF-8, the fixed 4-line string). */
export function hmacSig(o: SigFields): string {
  const content =
    `TLS.identifier:${o.identifier}\n` +
    `TLS.sdkappid:${o.sdkAppId}\n` +
    `TLS.time:${o.time}\n` +
    `TLS.expire:${o.expire}\n`;
  return createHmac('sha256', o.secretKey).update(content, 'utf8').digest('base64');
}

export function genUserSig(o: {
  sdkAppId: number;
  secretKey: string;
  identifier: string;
  expireSeconds: number;
  nowSeconds?: number;
}): string {
  assertSigInputs(o);
  if (!Number.isInteger(o.expireSeconds) || o.expireSeconds <= 0) {
    throw new RangeError('UserSig expiry must be a positive whole number of seconds');
  }
  const time = o.nowSeconds ?? Math.floor(Date.now() / 1000);
  const doc = {
    'TLS.ver': '2.0',
    'TLS.identifier': o.identifier,
    'TLS.sdkappid': o.sdkAppId,
    'TLS.time': time,
    'TLS.expire': o.expireSeconds,
    'TLS.sig': hmacSig({ ...o, time, expire: o.expireSeconds }),
  };
  return escapeBase64(deflateSync(Buffer.from(JSON.stringify(doc), 'utf8')).toString('base64'));
}

function assertSigInputs(o: { sdkAppId: number; secretKey: string; identifier: string }): void {
  if (!Number.isSafeInteger(o.sdkAppId) || o.sdkAppId <= 0) throw new RangeError('SDKAppID must be a positive whole number');
  if (typeof o.secretKey !== 'string' || o.secretKey.length === 0) throw new TypeError('The secret key is empty');
  if (typeof o.identifier !== 'string' || o.identifier.length === 0) throw new TypeError('The identifier is empty');
}

// Tencent's URL-safe variant of base64: + → *, / → -, = → _.
function escapeBase64(b64: string): string {
  return b64.replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

function unescapeBase64(sig: string): string {
  return sig.replace(/_/g, '=').replace(/-/g, '/').replace(/\*/g, '+');
}

// ---------------------------------------------------------------------------------------------

export type UserSigCheck =
  | { ok: true }
  | { ok: false; code: 70001 | 70003 | 70009 | 70013 | 70014; reason: string };

interface SigDoc {
  identifier: string;
  sdkAppId: number;
  time: number;
  expire: number;
  sig: string;
}

/** A decoded UserSig is tiny; the cap keeps a hostile "zip bomb" from costing memory. */
const MAX_INFLATED_BYTES = 16 * 1024;

function decodeUserSig(sig: string): SigDoc | string {
  let json: unknown;
  try {
    const raw = inflateSync(Buffer.from(unescapeBase64(sig), 'base64'), { maxOutputLength: MAX_INFLATED_BYTES });
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return 'the UserSig could not be decoded (not base64/zlib/JSON; possibly truncated)';
  }
  if (typeof json !== 'object' || json === null) return 'the decoded UserSig is not a JSON object';
  const d = json as Record<string, unknown>;
  const [identifier, sdkAppId, time, expire, signature] = [
    d['TLS.identifier'],
    d['TLS.sdkappid'],
    d['TLS.time'],
    d['TLS.expire'],
    d['TLS.sig'],
  ];
  if (
    typeof identifier !== 'string' ||
    typeof sdkAppId !== 'number' ||
    typeof time !== 'number' ||
    typeof expire !== 'number' ||
    typeof signature !== 'string'
  ) {
    return 'the decoded UserSig lacks TLS.identifier, TLS.sdkappid, TLS.time, TLS.expire or TLS.sig';
  }
  // A userbuf sig is a TRTC PrivateMapKey, never a plain REST UserSig.
  if ('TLS.userbuf' in d) return 'the UserSig carries TLS.userbuf (a PrivateMapKey), not a plain UserSig';
  return { identifier, sdkAppId, time, expire, sig: signature };
}

/** Mirrors the Go library's VerifyUserSig, with the server's error codes. */
export function verifyUserSig(
  sig: string,
  o: { sdkAppId: number; secretKey: string; identifier: string; nowSeconds?: number },
): UserSigCheck {
  const doc = decodeUserSig(sig);
  if (typeof doc === 'string') return { ok: false, code: 70003, reason: doc };
  if (doc.sdkAppId !== o.sdkAppId) {
    return { ok: false, code: 70014, reason: `the UserSig was made for SDKAppID ${doc.sdkAppId}, not ${o.sdkAppId}` };
  }
  if (doc.identifier !== o.identifier) {
    return { ok: false, code: 70013, reason: 'the UserSig was made for a different identifier' };
  }
  const now = o.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (now > doc.time + doc.expire) return { ok: false, code: 70001, reason: 'the UserSig has expired' };
  const expected = Buffer.from(hmacSig({ ...o, time: doc.time, expire: doc.expire }), 'base64');
  const actual = Buffer.from(doc.sig, 'base64');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    return { ok: false, code: 70009, reason: 'the UserSig was not made with this secret key' };
  }
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------

/** One UserSig for the admin, reused until shortly before it expires. */
export class UserSigCache {
  readonly #o: { sdkAppId: number; secretKey: string; identifier: string };
  readonly #expireSeconds: number;
  readonly #refreshBeforeSeconds: number;
  readonly #now: () => number;
  #current: { sig: string; time: number } | undefined;

  constructor(o: {
    sdkAppId: number;
    secretKey: string;
    identifier: string;
    expireSeconds?: number;
    refreshBeforeSeconds?: number;
    now?: () => number;
  }) {
    assertSigInputs(o);
    this.#o = { sdkAppId: o.sdkAppId, secretKey: o.secretKey, identifier: o.identifier };
    this.#expireSeconds = o.expireSeconds ?? 86400 * 2;
    this.#refreshBeforeSeconds = o.refreshBeforeSeconds ?? 600;
    if (this.#refreshBeforeSeconds < 0 || this.#refreshBeforeSeconds >= this.#expireSeconds) {
      throw new RangeError('refreshBeforeSeconds must be at least 0 and less than expireSeconds');
    }
    this.#now = o.now ?? Date.now;
  }

  get identifier(): string {
    return this.#o.identifier;
  }

  get(): string {
    const nowSeconds = Math.floor(this.#now() / 1000);
    const c = this.#current;
    if (c && nowSeconds < c.time + this.#expireSeconds - this.#refreshBeforeSeconds && nowSeconds >= c.time) return c.sig;
    const sig = genUserSig({ ...this.#o, expireSeconds: this.#expireSeconds, nowSeconds });
    this.#current = { sig, time: nowSeconds };
    return sig;
  }
}
