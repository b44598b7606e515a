// Retry policy for one approved push. Every attempt sends the SAME body (same MsgRandom), so
// Tencent's de-duplication keeps a retried push single. Once any attempt might have reached
// Tencent, the outcome can become 'sent' but never 'failed': a "failed" push invites someone to
// send it again, and that must not happen when it may already be out.
import type { PushAttempt } from './client.js';
import {
  RETRYABLE_CODES,
  explainError,
  explainTransportFailure,
  type ErrorExplanation,
  type ExplainContext,
} from './errors.js';
import type { ImPushBody } from './push-body.js';

export type PushOutcome =
  | { kind: 'sent'; taskId: string; attempts: number }
  | { kind: 'failed'; code: number | null; info: string; explanation: ErrorExplanation; attempts: number }
  | { kind: 'unknown'; reason: string; explanation: ErrorExplanation; attempts: number };

export interface RetryOptions {
  /** Default 4. */
  maxAttempts?: number;
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
  explainContext?: ExplainContext;
}

/**
 * Refusals that do not prove the push was dropped: 60008 is the REST gateway giving up on the
 * backend (Tencent's 3 s timeout), which may still have created the task. Retried like the
 * other transient codes, but treated as 'unknown' for the outcome.
 */
export const AMBIGUOUS_REFUSAL_CODES: ReadonlySet<number> = new Set([60008]);

const RATE_LIMIT_CODE = 90024;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function pushWithRetry(
  client: { push(body: ImPushBody): Promise<PushAttempt> },
  body: ImPushBody,
  o: RetryOptions = {},
): Promise<PushOutcome> {
  const maxAttempts = Math.max(1, Math.floor(o.maxAttempts ?? 4));
  const sleep = o.sleep ?? defaultSleep;
  const random = o.random ?? Math.random;
  let last: PushAttempt | undefined;
  let mayHaveBeenSent: string | undefined; // reason of the latest ambiguous attempt

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (o.beforeAttempt) {
      try {
        await o.beforeAttempt(attempt);
      } catch (err) {
        if (last === undefined) throw err;
        return finalOutcome(last, attempt - 1, mayHaveBeenSent, o.explainContext);
      }
    }
    const result = await safePush(client, body);
    last = result;
    o.onAttempt?.(attempt, result);
    if (result.kind === 'sent') return { kind: 'sent', taskId: result.taskId, attempts: attempt };
    const ambiguity = ambiguousReason(result);
    if (ambiguity !== undefined) mayHaveBeenSent = ambiguity;
    const delay = retryDelay(result, attempt, o, random);
    if (delay === undefined || attempt === maxAttempts) return finalOutcome(result, attempt, mayHaveBeenSent, o.explainContext);
    await sleep(delay);
  }
  // Unreachable: the loop always returns on its last attempt.
  throw new Error('pushWithRetry: no attempt was made');
}

/** A client that throws gives us no proof either way, so a throw counts as 'unknown'. */
async function safePush(client: { push(body: ImPushBody): Promise<PushAttempt> }, body: ImPushBody): Promise<PushAttempt> {
  try {
    return await client.push(body);
  } catch (err) {
    const name = err instanceof Error ? err.name : typeof err;
    return { kind: 'unknown', reason: `the push client failed unexpectedly (${name})` };
  }
}

function ambiguousReason(r: PushAttempt): string | undefined {
  if (r.kind === 'unknown') return r.reason;
  if (r.kind === 'refused' && AMBIGUOUS_REFUSAL_CODES.has(r.code)) return `Tencent answered ${r.code} (${r.explanation.title})`;
  return undefined;
}

/** Milliseconds to wait before the next attempt, or undefined when retrying cannot help. */
function retryDelay(r: PushAttempt, attempt: number, o: RetryOptions, random: () => number): number | undefined {
  if (r.kind === 'refused') {
    if (r.code === RATE_LIMIT_CODE) {
      const wait = o.rateLimitWaitMs ?? 1100;
      return wait + Math.floor(random() * wait * 0.1);
    }
    if (!RETRYABLE_CODES.has(r.code)) return undefined;
  }
  // Exponential backoff with full jitter.
  const cap = Math.min(o.maxDelayMs ?? 8000, (o.baseDelayMs ?? 500) * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}

function finalOutcome(
  last: PushAttempt,
  attempts: number,
  mayHaveBeenSent: string | undefined,
  ctx: ExplainContext | undefined,
): PushOutcome {
  if (last.kind === 'sent') return { kind: 'sent', taskId: last.taskId, attempts };
  if (mayHaveBeenSent !== undefined) {
    const reason = unknownReason(last, mayHaveBeenSent);
    return { kind: 'unknown', reason, explanation: explainTransportFailure('unknown', reason), attempts };
  }
  if (last.kind === 'refused') {
    // Re-explain with the caller's context when given; the client may not have had it.
    const explanation = ctx ? explainError(last.code, last.info, ctx) : last.explanation;
    return { kind: 'failed', code: last.code, info: last.info, explanation, attempts };
  }
  // Only 'not_sent' is left: 'unknown' always sets mayHaveBeenSent.
  const reason = last.kind === 'not_sent' ? last.reason : 'unknown';
  return { kind: 'failed', code: null, info: reason, explanation: explainTransportFailure('not_sent', reason), attempts };
}

/** The last error, plus why the push may be out when the last attempt itself proved nothing. */
function unknownReason(last: Exclude<PushAttempt, { kind: 'sent' }>, mayHaveBeenSent: string): string {
  if (last.kind === 'unknown') return last.reason;
  const lastError = last.kind === 'refused' ? `Tencent error ${last.code} (${last.explanation.title})` : last.reason;
  if (last.kind === 'refused' && AMBIGUOUS_REFUSAL_CODES.has(last.code)) return lastError;
  return `${lastError}; an earlier attempt may have reached Tencent (${mayHaveBeenSent})`;
}
