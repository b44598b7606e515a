// Retry policy for one approved push: an attempt is repeated ONLY when it provably did not push.
// Tencent de-duplicates a repeated MsgRandom only "within the same second" (reference
// tencent-im-push.md §6 item 6) and our retries are further apart, so a retry after an attempt
// that may have reached Tencent could push twice. Such an attempt ends the push as 'unknown' at
// once. Provably not pushed:
//   - 'not_sent': the connection failed before the request was written;
//   - a refusal in RETRYABLE_CODES: Tencent says it did not carry the request out and advises a retry.
// Everything else that is not a success or a plain refusal is ambiguous (timeouts, dropped
// connections, HTTP 5xx, unreadable replies, OUTCOME_UNKNOWN_CODES such as 60008).
// Since the loop only goes on after a provably harmless attempt, every earlier attempt of a
// finished push is harmless too: the outcome is 'failed' only when no attempt can have pushed.
import type { PushAttempt, PushHooks } from './client.js';
import {
  OUTCOME_UNKNOWN_CODES,
  RATE_LIMIT_CODES,
  RETRYABLE_CODES,
  explainError,
  explainTransportFailure,
  mergeExplainContext,
  type ErrorExplanation,
  type ExplainContext,
} from './errors.js';
import type { ImPushBody } from './push-body.js';

export type PushOutcome =
  | { kind: 'sent'; taskId: string; attempts: number }
  | { kind: 'failed'; code: number | null; info: string; explanation: ErrorExplanation; attempts: number }
  | { kind: 'unknown'; reason: string; explanation: ErrorExplanation; attempts: number };

/** What pushWithRetry needs from a client. `explainContext` (the client's own facts) is optional. */
export interface PushClient {
  push(body: ImPushBody, hooks?: PushHooks): Promise<PushAttempt>;
  readonly explainContext?: ExplainContext;
}

export interface RetryOptions {
  /** Default 4. */
  maxAttempts?: number;
  /** Passed to every attempt (e.g. to learn when the request starts leaving). */
  hooks?: PushHooks;
  /** Default 500. */
  baseDelayMs?: number;
  /** Default 8000. */
  maxDelayMs?: number;
  /** Wait after 90024 (pushes must be > 1 s apart). Default 1100. */
  rateLimitWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Returns [0, 1). Default Math.random. */
  random?: () => number;
  /**
   * Awaited before each attempt (e.g. to renew a lease). If it throws, no further attempt is
   * made: on attempt 1 the error propagates (nothing was sent), later the outcome so far is returned.
   */
  beforeAttempt?: (attempt: number) => Promise<void>;
  onAttempt?: (attempt: number, result: PushAttempt) => void;
  /** Merged over the client's own `explainContext`. */
  explainContext?: ExplainContext;
}

/** What one attempt proves about whether the push happened. */
export type AttemptVerdict =
  | { kind: 'sent'; taskId: string }
  /** Provably not pushed; `retry` says whether trying again can help. */
  | { kind: 'not_pushed'; retry: boolean; attempt: HarmlessAttempt }
  | { kind: 'unknown'; reason: string };

/** An attempt that can be harmless: a refusal or a request that never left. */
export type HarmlessAttempt = Extract<PushAttempt, { kind: 'refused' | 'not_sent' }>;

export function judgeAttempt(r: PushAttempt): AttemptVerdict {
  switch (r.kind) {
    case 'sent':
      return { kind: 'sent', taskId: r.taskId };
    case 'not_sent':
      return { kind: 'not_pushed', retry: true, attempt: r };
    case 'unknown':
      return { kind: 'unknown', reason: r.reason };
    case 'refused':
      if (OUTCOME_UNKNOWN_CODES.has(r.code)) return { kind: 'unknown', reason: `Tencent answered ${r.code} (${r.explanation.title})` };
      return { kind: 'not_pushed', retry: RETRYABLE_CODES.has(r.code), attempt: r };
  }
}

const THROTTLE_CODE = 90024;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function pushWithRetry(client: PushClient, body: ImPushBody, o: RetryOptions = {}): Promise<PushOutcome> {
  const maxAttempts = Math.max(1, Math.floor(o.maxAttempts ?? 4));
  const sleep = o.sleep ?? defaultSleep;
  const random = o.random ?? Math.random;
  const ctx = mergeExplainContext(client.explainContext, o.explainContext);
  let last: HarmlessAttempt | undefined;

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (o.beforeAttempt) {
      try {
        await o.beforeAttempt(attempt);
      } catch (err) {
        if (last === undefined) throw err;
        return failed(last, attempt - 1, ctx);
      }
    }
    const result = await safePush(client, body, o.hooks);
    o.onAttempt?.(attempt, result);
    const verdict = judgeAttempt(result);
    if (verdict.kind === 'sent') return { kind: 'sent', taskId: verdict.taskId, attempts: attempt };
    if (verdict.kind === 'unknown') {
      return { kind: 'unknown', reason: verdict.reason, explanation: explainTransportFailure('unknown', verdict.reason, ctx), attempts: attempt };
    }
    last = verdict.attempt;
    if (!verdict.retry || attempt === maxAttempts) return failed(last, attempt, ctx);
    await sleep(retryDelay(result, attempt, o, random));
  }
  // Unreachable: the loop always returns on its last attempt.
  throw new Error('pushWithRetry: no attempt was made');
}

/** A client that throws gives us no proof either way, so a throw counts as 'unknown'. */
async function safePush(client: PushClient, body: ImPushBody, hooks: PushHooks | undefined): Promise<PushAttempt> {
  try {
    return await client.push(body, hooks);
  } catch (err) {
    const name = err instanceof Error ? err.name : typeof err;
    return { kind: 'unknown', reason: `the push client failed unexpectedly (${name})` };
  }
}

/** Milliseconds to wait before the next attempt. */
function retryDelay(r: PushAttempt, attempt: number, o: RetryOptions, random: () => number): number {
  if (r.kind === 'refused' && r.code === THROTTLE_CODE) {
    const wait = o.rateLimitWaitMs ?? 1100;
    return wait + Math.floor(random() * wait * 0.1);
  }
  const cap = Math.min(o.maxDelayMs ?? 8000, (o.baseDelayMs ?? 500) * 2 ** (attempt - 1));
  // Tencent asked us to slow down: never retry at once (equal jitter). Otherwise full jitter.
  if (r.kind === 'refused' && RATE_LIMIT_CODES.has(r.code)) return Math.floor(cap / 2 + random() * (cap / 2));
  return Math.floor(random() * cap);
}

/** Only reached when every attempt provably did not push. */
function failed(last: HarmlessAttempt, attempts: number, ctx: ExplainContext): PushOutcome {
  if (last.kind === 'refused') {
    // Re-explain with the merged context; the client may not have known the caller's facts.
    return { kind: 'failed', code: last.code, info: last.info, explanation: explainError(last.code, last.info, ctx), attempts };
  }
  const reason = last.reason;
  return { kind: 'failed', code: null, info: reason, explanation: explainTransportFailure('not_sent', reason, ctx), attempts };
}
