// HTTP client for the Tencent IM REST calls the app makes (im_push, im_get_attr_name, getappinfo).
// Its one job beyond sending: say honestly what an im_push attempt proves. 'not_sent' = the
// request never left; 'refused' = Tencent answered an error code (which codes prove nothing was
// carried out is decided in errors.ts / push-with-retry.ts); 'unknown' = no usable answer.
// Secrets: the URL carries the UserSig, so neither the URL nor the sig ever reaches a reason.
import { randomBytes } from 'node:crypto';
import { Pool, type Dispatcher } from 'undici';
import { z } from 'zod';
import { explainError, mergeExplainContext, type ErrorExplanation, type ExplainContext } from './errors.js';
import type { ImPushBody } from './push-body.js';
import { redactSecrets } from './redact.js';
import { UserSigCache } from './usersig.js';

export interface TimClientOptions {
  sdkAppId: number;
  secretKey: string;
  admin: string;
  baseUrl: string;
  /** Default 5000. */
  connectTimeoutMs?: number;
  /** Default 10000; must stay above Tencent's own 3 s backend timeout. undici fires it with ~0.5 s granularity. */
  responseTimeoutMs?: number;
  userSigs?: UserSigCache;
  /** Facts used in error explanations (quota, ...). SDKAppID, admin and domain are filled in from the options. */
  explainContext?: ExplainContext;
}

export type PushAttempt =
  | { kind: 'sent'; taskId: string }
  | { kind: 'refused'; code: number; info: string; explanation: ErrorExplanation }
  | { kind: 'not_sent'; reason: string }
  | { kind: 'unknown'; reason: string };

export interface PushHooks {
  onRequestStart?: () => void;
}

export const PUSH_PATH = '/v4/all_member_push/im_push';
export const GET_ATTR_NAME_PATH = '/v4/all_member_push/im_get_attr_name';
export const GET_APP_INFO_PATH = '/v4/openconfigsvr/getappinfo';

/** Registered users of the app, from the latest day of Tencent's operations data. */
export interface AppInfo {
  registeredUsers: number;
  /** The day the figure is for, YYYY-MM-DD (Tencent counts days in Beijing time). */
  date: string;
}

const ReplySchema = z.object({
  ActionStatus: z.enum(['OK', 'FAIL']),
  ErrorCode: z.int(),
  ErrorInfo: z.string().optional().default(''),
  TaskId: z.string().optional(),
});

const AttrNamesReplySchema = ReplySchema.extend({ AttrNames: z.record(z.string(), z.string()).optional() });

/** Tencent documents every operations figure as a String ("53091"); a number is accepted too. */
const Count = z.union([z.string().regex(/^\d{1,15}$/).transform(Number), z.int().nonnegative()]);

// The documented sample reply has no ActionStatus and ErrorInfo "OK"; both shapes are accepted.
const AppInfoReplySchema = z.object({
  ActionStatus: z.enum(['OK', 'FAIL']).optional(),
  ErrorCode: z.int(),
  ErrorInfo: z.string().optional().default(''),
  Result: z.array(z.object({ Date: z.string().regex(/^\d{8}$/), RegistUserNumTotal: Count.optional() })).optional(),
});

/** A Tencent reply is a few hundred bytes; anything huge is not one. */
const MAX_REPLY_BYTES = 1024 * 1024;

type Exchange =
  | { kind: 'reply'; status: number; text: string }
  | { kind: 'not_sent'; reason: string }
  | { kind: 'unknown'; reason: string };

export class TimClient {
  readonly #pool: Pool;
  readonly #pathPrefix: string;
  readonly #o: TimClientOptions;
  readonly #userSigs: UserSigCache;
  readonly #responseTimeoutMs: number;
  /** Public facts for error explanations: this client's SDKAppID, admin and domain, plus the caller's. */
  readonly explainContext: ExplainContext;
  /** The sig most recently put in a URL, so it can be scrubbed from any text we pass on. */
  #lastSig = '';

  constructor(o: TimClientOptions) {
    if (!Number.isSafeInteger(o.sdkAppId) || o.sdkAppId <= 0) throw new RangeError('TIM_SDKAPPID must be a positive whole number');
    if (!o.admin) throw new TypeError('TIM_ADMIN (the admin identifier) is empty');
    if (!URL.canParse(o.baseUrl)) throw new TypeError('The base URL is not a valid URL (check TIM_BASE_URL / TIM_REGION)');
    const url = new URL(o.baseUrl);
    this.#o = o;
    this.explainContext = mergeExplainContext({ sdkAppId: o.sdkAppId, admin: o.admin, domain: url.host }, o.explainContext);
    this.#pathPrefix = url.pathname.replace(/\/+$/, '');
    this.#responseTimeoutMs = o.responseTimeoutMs ?? 10_000;
    this.#userSigs = o.userSigs ?? new UserSigCache({ sdkAppId: o.sdkAppId, secretKey: o.secretKey, identifier: o.admin });
    this.#pool = new Pool(url.origin, {
      connect: { timeout: o.connectTimeoutMs ?? 5_000 },
      headersTimeout: this.#responseTimeoutMs,
      bodyTimeout: this.#responseTimeoutMs,
      keepAliveTimeout: 4_000,
      connections: 4,
    });
  }

  /** `hooks.onRequestStart`: the request is being written to the connection (it has left, or is leaving). */
  async push(body: ImPushBody, hooks: PushHooks = {}): Promise<PushAttempt> {
    const ex = await this.#post(PUSH_PATH, body, hooks);
    if (ex.kind !== 'reply') return ex;
    return this.#interpretPushReply(ex);
  }

  async getAttrNames(): Promise<{ ok: true; names: string[] } | { ok: false; message: string }> {
    const ex = await this.#post(GET_ATTR_NAME_PATH, {});
    if (ex.kind !== 'reply') return { ok: false, message: `Could not read the attribute names: ${ex.reason}.` };
    if (ex.status < 200 || ex.status > 299) return { ok: false, message: `Could not read the attribute names: HTTP ${ex.status}.` };
    const parsed = AttrNamesReplySchema.safeParse(parseJson(ex.text));
    if (!parsed.success) return { ok: false, message: 'Could not read the attribute names: the reply was not understood.' };
    const r = parsed.data;
    if (r.ActionStatus !== 'OK' || r.ErrorCode !== 0) {
      return { ok: false, message: this.#refusalMessage(r.ErrorCode, r.ErrorInfo) };
    }
    // Keys are the slot numbers "0".."9".
    const names = Object.entries(r.AttrNames ?? {})
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, name]) => name)
      .filter((n) => n !== '');
    return { ok: true, names };
  }

  /**
   * Registered users (RegistUserNumTotal) on the latest day of v4/openconfigsvr/getappinfo, which
   * reports the last 30 days. A ceiling for an all-member push: only accounts that logged in or
   * were imported receive it.
   */
  async getAppInfo(): Promise<({ ok: true } & AppInfo) | { ok: false; message: string }> {
    const what = 'Could not read the number of registered users';
    const ex = await this.#post(GET_APP_INFO_PATH, { RequestField: ['Date', 'RegistUserNumTotal'] });
    if (ex.kind !== 'reply') return { ok: false, message: `${what}: ${ex.reason}.` };
    if (ex.status < 200 || ex.status > 299) return { ok: false, message: `${what}: HTTP ${ex.status}.` };
    const parsed = AppInfoReplySchema.safeParse(parseJson(ex.text));
    if (!parsed.success) return { ok: false, message: `${what}: the reply was not understood.` };
    const r = parsed.data;
    if (r.ErrorCode !== 0 || r.ActionStatus === 'FAIL') {
      if (r.ErrorCode === 0) return { ok: false, message: `${what}: the reply was contradictory.` };
      return { ok: false, message: this.#refusalMessage(r.ErrorCode, r.ErrorInfo) };
    }
    let latest: { Date: string; RegistUserNumTotal: number } | undefined;
    for (const day of r.Result ?? []) {
      if (day.RegistUserNumTotal === undefined || !Number.isSafeInteger(day.RegistUserNumTotal)) continue;
      if (latest === undefined || day.Date > latest.Date) latest = { Date: day.Date, RegistUserNumTotal: day.RegistUserNumTotal };
    }
    if (!latest) return { ok: false, message: `${what}: Tencent has no operations data for the app yet.` };
    const d = latest.Date;
    return { ok: true, registeredUsers: latest.RegistUserNumTotal, date: `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  #interpretPushReply(ex: { status: number; text: string }): PushAttempt {
    if (ex.status < 200 || ex.status > 299) {
      return { kind: 'unknown', reason: `HTTP ${ex.status} from the server instead of a Tencent reply` };
    }
    const parsed = ReplySchema.safeParse(parseJson(ex.text));
    if (!parsed.success) return { kind: 'unknown', reason: 'the reply was not a valid Tencent response' };
    const r = parsed.data;
    if (r.ActionStatus === 'OK' && r.ErrorCode === 0) {
      if (r.TaskId) return { kind: 'sent', taskId: r.TaskId };
      return { kind: 'unknown', reason: 'Tencent answered OK but without a TaskId' };
    }
    if (r.ActionStatus === 'FAIL' && r.ErrorCode !== 0) {
      const info = this.#clean(r.ErrorInfo);
      return { kind: 'refused', code: r.ErrorCode, info, explanation: explainError(r.ErrorCode, info, this.explainContext) };
    }
    return { kind: 'unknown', reason: `the reply was contradictory (ActionStatus ${r.ActionStatus}, ErrorCode ${r.ErrorCode})` };
  }

  #post(path: string, body: unknown, hooks: PushHooks = {}): Promise<Exchange> {
    let sig: string;
    try {
      sig = this.#userSigs.get();
    } catch {
      return Promise.resolve({ kind: 'not_sent', reason: 'could not create the UserSig (check TIM_SDKAPPID, TIM_SECRET_KEY, TIM_ADMIN)' });
    }
    this.#lastSig = sig;
    const query = new URLSearchParams({
      usersig: sig,
      identifier: this.#userSigs.identifier,
      sdkappid: String(this.#o.sdkAppId),
      random: String(randomUint32()),
      contenttype: 'json',
    });
    return dispatchOnce(this.#pool, hooks, {
      method: 'POST',
      path: `${this.#pathPrefix}${path}?${query.toString()}`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      headersTimeout: this.#responseTimeoutMs,
      bodyTimeout: this.#responseTimeoutMs,
    }).then((ex) => (ex.kind === 'reply' ? ex : { ...ex, reason: this.#clean(ex.reason) }));
  }

  #refusalMessage(code: number, errorInfo: string): string {
    const e = explainError(code, this.#clean(errorInfo), this.explainContext);
    return `${e.title} (${code}): ${e.what} ${e.action}`;
  }

  /** Strips URLs, usersig-shaped tokens and the literal key/sig from any text we pass on. */
  #clean(text: string): string {
    return redactSecrets(text, [this.#o.secretKey, this.#lastSig]);
  }
}

export function randomUint32(): number {
  return randomBytes(4).readUInt32BE(0);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * One HTTP exchange, never retried by undici. undici calls onRequestStart just before it writes
 * the request to a connected socket, so an error before that point proves nothing was sent
 * (refused connection, DNS, connect timeout, TLS handshake); any error after it is 'unknown'.
 */
function dispatchOnce(pool: Dispatcher, hooks: PushHooks, opts: Dispatcher.DispatchOptions): Promise<Exchange> {
  return new Promise((resolve) => {
    let started = false;
    let status = 0;
    let size = 0;
    const chunks: Buffer[] = [];
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {
        started = true;
        hooks.onRequestStart?.();
      },
      onResponseStart(_controller, statusCode) {
        status = statusCode;
      },
      onResponseData(controller, chunk) {
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) controller.abort(new Error('reply too large'));
        else chunks.push(chunk);
      },
      onResponseEnd() {
        resolve({ kind: 'reply', status, text: Buffer.concat(chunks).toString('utf8') });
      },
      onResponseError(_controller, err) {
        const reason = describeNetworkError(err);
        resolve(started ? { kind: 'unknown', reason } : { kind: 'not_sent', reason });
      },
    };
    try {
      pool.dispatch(opts, handler);
    } catch (err) {
      resolve({ kind: 'not_sent', reason: describeNetworkError(err) });
    }
  });
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found (DNS)',
  EAI_AGAIN: 'DNS lookup failed temporarily',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ETIMEDOUT: 'network timeout',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  UND_ERR_HEADERS_TIMEOUT: 'no answer within the response timeout',
  UND_ERR_BODY_TIMEOUT: 'the answer stopped arriving within the response timeout',
  UND_ERR_SOCKET: 'connection closed by the other side',
  UND_ERR_CLOSED: 'the HTTP client was already closed',
  UND_ERR_DESTROYED: 'the HTTP client was destroyed',
  UND_ERR_ABORTED: 'request aborted',
};

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Short words from a code only; never the raw message, which may quote a URL. */
function describeNetworkError(err: unknown): string {
  const code = errorCode(err);
  if (code === undefined) return err instanceof Error && err.message === 'reply too large' ? 'the reply was too large' : 'network error';
  const words = NETWORK_WORDS[code] ?? (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(code) ? 'TLS error' : 'network error');
  return `${words} (${code})`;
}
