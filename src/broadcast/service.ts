import { randomBytes, randomInt } from 'node:crypto';
import type { ExplainContext } from '../tim/errors.js';
import type { PushAttempt } from '../tim/client.js';
import type { ImPushBody } from '../tim/push-body.js';
import { pushWithRetry, type PushOutcome, type RetryOptions } from '../tim/push-with-retry.js';
import { silentLogger, type Logger } from '../logger.js';
import { checkDraft, payloadHash, type FieldError } from './draft.js';
import { Quota } from './quota.js';
import { RequestStore } from './request-store.js';
import { StoreUnavailableError, type AtomicKv } from './store/atomic-kv.js';
import type {
  BroadcastDraft,
  BroadcastRequest,
  NotifyTarget,
  PendingNotification,
  PushResultRecord,
  QuotaStatus,
  RequestState,
} from './types.js';

/** Why a click changed nothing. */
export type Refusal =
  | 'not_approver'
  | 'is_requester'
  | 'already_decided'
  | 'unknown_request'
  | 'quota_exhausted'
  | 'store_unavailable';

export type DecisionResult =
  | { ok: true; request: BroadcastRequest }
  | { ok: false; refusal: Refusal; request?: BroadcastRequest; quota?: QuotaStatus };

export type ApproveResult =
  | { ok: true; request: BroadcastRequest; /** Settles with the final state once the push is done. */ sent: Promise<BroadcastRequest> }
  | { ok: false; refusal: Refusal; request?: BroadcastRequest; quota?: QuotaStatus };

export interface Pusher {
  push(body: ImPushBody): Promise<PushAttempt>;
}

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

export interface BroadcastServiceOptions {
  kv: AtomicKv;
  pusher: Pusher;
  dailyQuota: number;
  quotaTimeZone: string;
  /** Pushes must be MORE than 1 s apart (90024); a margin absorbs clock skew between instances. */
  minPushGapMs?: number;
  retry?: Omit<RetryOptions, 'beforeAttempt' | 'sleep' | 'explainContext'>;
  clock?: Clock;
  logger?: Logger;
  /** Who this instance is, for outbox leases. */
  instanceId?: string;
}

/** Which notifications each state owes, and to whom. */
const NOTIFY: Partial<Record<RequestState, NotifyTarget[]>> = {
  pending: ['card', 'requester'],
  approved: ['card'],
  sent: ['card', 'thread', 'requester'],
  failed: ['card', 'thread', 'requester'],
  unknown: ['card', 'thread', 'requester'],
  rejected: ['card', 'thread', 'requester'],
  expired: ['card', 'thread', 'requester'],
  cancelled: ['card', 'thread'],
};

const SENDING_LEFT_OVER =
  'The app stopped while this push was in flight, so it cannot know whether Tencent accepted it.';

/**
 * The broadcast domain: submit, approve, reject, send, recover. It knows nothing about Slack:
 * it stores requests, applies the lifecycle atomically and records what people must be told.
 */
export class BroadcastService {
  readonly requests: RequestStore;
  readonly quota: Quota;
  readonly instanceId: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly explainContext: ExplainContext;

  constructor(private readonly o: BroadcastServiceOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.logger ?? silentLogger;
    this.requests = new RequestStore(o.kv, () => this.clock.now());
    this.quota = new Quota(o.kv, o.dailyQuota, o.quotaTimeZone);
    this.instanceId = o.instanceId ?? `i-${randomBytes(4).toString('hex')}`;
    this.explainContext = { dailyQuota: o.dailyQuota, quotaTimezone: o.quotaTimeZone };
  }

  quotaStatus(): Promise<QuotaStatus> {
    return this.quota.status(this.clock.now());
  }

  get(id: string): Promise<BroadcastRequest | undefined> {
    return this.requests.get(id);
  }

  /** Check a draft against every push rule and, if it passes, store it as pending. */
  async submit(input: { requesterId: string; teamId?: string; draft: BroadcastDraft }): Promise<
    { ok: true; request: BroadcastRequest } | { ok: false; errors: FieldError[] }
  > {
    // One MsgRandom per broadcast, kept for its lifetime: retries reuse it so Tencent de-duplicates.
    const msgRandom = randomInt(1, 2 ** 32);
    const checked = checkDraft(input.draft, msgRandom);
    if (!checked.ok) return checked;
    const at = this.clock.now().toISOString();
    for (;;) {
      const request: BroadcastRequest = {
        id: newRequestId(),
        rev: 1,
        state: 'pending',
        requesterId: input.requesterId,
        ...(input.teamId ? { teamId: input.teamId } : {}),
        createdAt: at,
        updatedAt: at,
        draft: input.draft,
        body: checked.body,
        payloadHash: payloadHash(checked.body),
        approvals: [],
        history: [{ at, from: null, to: 'pending', by: input.requesterId }],
        outbox: [this.notification('pending')],
      };
      if (await this.requests.create(request)) {
        this.log.info('broadcast requested', { requestId: request.id, requester: request.requesterId, audience: request.draft.audience.kind });
        return { ok: true, request };
      }
    }
  }

  /** What a click by `userId` would be refused for, without changing anything. */
  async precheck(input: { requestId: string; userId: string; isApprover: boolean }): Promise<DecisionResult> {
    let request: BroadcastRequest | undefined;
    try {
      request = await this.requests.get(input.requestId);
    } catch (error) {
      return this.storeFailure(error);
    }
    if (!request) return { ok: false, refusal: 'unknown_request' };
    if (request.requesterId === input.userId) return { ok: false, refusal: 'is_requester', request };
    if (!input.isApprover) return { ok: false, refusal: 'not_approver', request };
    if (request.state !== 'pending') return { ok: false, refusal: 'already_decided', request };
    return { ok: true, request };
  }

  /**
   * Approve a pending request and start its push. Exactly one of any number of concurrent
   * approvals wins; the push is made once, with the MsgRandom stored at submission.
   */
  async approve(input: { requestId: string; userId: string; isApprover: boolean }): Promise<ApproveResult> {
    const pre = await this.precheck(input);
    if (!pre.ok) return pre;
    try {
      const quota = await this.quota.status(this.clock.now());
      if (quota.exhausted) return { ok: false, refusal: 'quota_exhausted', request: pre.request, quota };
      // Claim first: of any number of concurrent clicks exactly one wins, and only the winner
      // touches the quota, so the losers are told "already decided", never "quota used up".
      const at = this.clock.now().toISOString();
      const claimed = await this.requests.transition(
        input.requestId,
        ['pending'],
        'approved',
        (r) => ({
          approvals: [...r.approvals, { userId: input.userId, at, payloadHash: r.payloadHash }],
          decision: { by: input.userId, at },
          outbox: [...r.outbox, this.notification('approved')],
        }),
        { by: input.userId },
      );
      if (!claimed.ok) {
        return claimed.reason === 'not_found'
          ? { ok: false, refusal: 'unknown_request' }
          : { ok: false, refusal: 'already_decided', request: claimed.current };
      }
      let reserved: Awaited<ReturnType<Quota['reserve']>>;
      try {
        reserved = await this.quota.reserve(this.clock.now());
      } catch (error) {
        await this.handBack(input.requestId, 'the store failed before the push; approve again', { persist: true });
        throw error;
      }
      if (!reserved.ok) {
        const back = await this.handBack(input.requestId, 'the daily quota was used up', { persist: true });
        return { ok: false, refusal: 'quota_exhausted', request: back ?? claimed.request, quota: reserved.status };
      }
      // Record which day holds the slot; every way back to pending gives exactly that slot back.
      // (A crash right here leaks one slot: the count errs on the side of pushing less.)
      const held = await this.requests
        .updateIf(input.requestId, (r) => r.state === 'approved', () => ({ quotaDay: reserved.day }))
        .catch(async (error: unknown) => {
          await this.quota.release(reserved.day).catch(() => undefined);
          await this.handBack(input.requestId, 'the store failed before the push; approve again', { persist: true });
          throw error;
        });
      if (!held) {
        await this.quota.release(reserved.day);
        return { ok: false, refusal: 'already_decided', request: claimed.request };
      }
      this.log.info('broadcast approved', { requestId: input.requestId, approver: input.userId, quotaDay: reserved.day });
      const sent = this.track(this.send(input.requestId));
      return { ok: true, request: held, sent };
    } catch (error) {
      return this.storeFailure(error);
    }
  }

  /**
   * Return an approved request that never left to pending and give its quota slot back.
   * Only the caller whose transition succeeds releases, so a slot is never given back twice.
   */
  private async handBack(requestId: string, note: string, o: { persist?: boolean } = {}): Promise<BroadcastRequest | undefined> {
    let heldDay: string | undefined;
    const attempt = () =>
      this.requests.transition(
        requestId,
        ['approved'],
        'pending',
        (r) => {
          heldDay = r.quotaDay;
          return { decision: undefined, approvals: [], quotaDay: undefined, outbox: [...r.outbox, this.notification('pending', ['card', 'thread'])] };
        },
        { note },
      );
    const back = o.persist ? await this.persistently('hand the request back to pending', attempt) : await attempt();
    if (!back.ok) return undefined;
    const day = heldDay;
    if (day) await this.persistently('release the quota', () => this.quota.release(day));
    return back.request;
  }

  async reject(input: { requestId: string; userId: string; isApprover: boolean; reason: string }): Promise<DecisionResult> {
    const pre = await this.precheck(input);
    if (!pre.ok) return pre;
    try {
      const at = this.clock.now().toISOString();
      const done = await this.requests.transition(
        input.requestId,
        ['pending'],
        'rejected',
        (r) => ({ decision: { by: input.userId, at, reason: input.reason }, outbox: [...r.outbox, this.notification('rejected')] }),
        { by: input.userId, note: input.reason },
      );
      if (!done.ok) {
        return done.reason === 'not_found'
          ? { ok: false, refusal: 'unknown_request' }
          : { ok: false, refusal: 'already_decided', request: done.current };
      }
      this.log.info('broadcast rejected', { requestId: input.requestId, by: input.userId });
      return { ok: true, request: done.request };
    } catch (error) {
      return this.storeFailure(error);
    }
  }

  /**
   * Push an approved request. `sending` is stored before the request leaves, so a crash
   * after this point is reported as "outcome unknown" and never pushed again by itself.
   */
  private async send(requestId: string): Promise<BroadcastRequest> {
    let sending;
    try {
      await this.waitForPushSlot();
      sending = await this.requests.transition(
        requestId,
        ['approved'],
        'sending',
        () => ({ sendingAt: this.clock.now().toISOString() }),
        {},
        // Approval is bound to the exact payload: a body that no longer matches its approval never leaves.
        isBoundToApproval,
      );
    } catch (error) {
      // Nothing left yet: give the approval and the quota back rather than strand the request.
      await this.handBack(requestId, 'the store failed before the push left; approve again', { persist: true });
      throw error;
    }
    if (!sending.ok) {
      if (sending.reason === 'wrong_state' && sending.current.state === 'approved') {
        this.log.error('payload differs from what was approved; not pushing', { requestId });
        await this.handBack(requestId, 'the payload no longer matches what was approved', { persist: true });
      }
      throw new Error(`request ${requestId} could not move from approved to sending`);
    }
    const outcome = await pushWithRetry(this.o.pusher, sending.request.body, {
      ...this.o.retry,
      sleep: (ms) => this.clock.sleep(ms),
      explainContext: this.explainContext,
      // Retries respect the spacing between pushes too, across instances.
      beforeAttempt: async (attempt) => {
        if (attempt > 1) await this.waitForPushSlot();
      },
      onAttempt: (attempt, result) =>
        this.log.info('push attempt', { requestId, attempt, result: result.kind, ...('code' in result ? { code: result.code } : {}) }),
    });
    return this.recordOutcome(sending.request, outcome);
  }

  private async recordOutcome(request: BroadcastRequest, outcome: PushOutcome): Promise<BroadcastRequest> {
    const quotaDay = request.quotaDay;
    const at = this.clock.now().toISOString();
    const result = toResultRecord(outcome, at);
    const to: RequestState = result.kind;
    // The push has happened (or may have): its result must not be lost to a store hiccup.
    const done = await this.persistently(`record the push result of ${request.id}`, () =>
      this.requests.transition(request.id, ['sending'], to, (r) => ({ result, outbox: [...r.outbox, this.notification(to)] })),
    );
    if (outcome.kind === 'failed' && quotaDay) {
      if (outcome.code === 90047) await this.persistently('mark the quota used up', () => this.quota.markExhausted(quotaDay));
      // Tencent refused, or the request never left: nothing was pushed, so the slot is given back.
      await this.persistently('release the quota', () => this.quota.release(quotaDay));
    }
    this.log.info('broadcast result', {
      requestId: request.id,
      result: result.kind,
      ...(result.kind === 'sent' ? { taskId: result.taskId } : {}),
      ...(result.kind === 'failed' ? { code: result.code } : {}),
    });
    if (!done.ok) throw new Error(`request ${request.id} was not in the sending state when its result arrived`);
    return done.request;
  }

  /**
   * After a restart: a request left in `sending` may have been pushed, so it becomes `unknown`
   * (reported, never re-sent); one left in `approved` was not pushed, so it returns to `pending`.
   */
  async recover(): Promise<{ unknown: string[]; reverted: string[] }> {
    const unknown: string[] = [];
    const reverted: string[] = [];
    for (const r of await this.requests.list(['sending', 'approved'])) {
      if (r.state === 'sending') {
        const at = this.clock.now().toISOString();
        const result: PushResultRecord = {
          kind: 'unknown',
          reason: SENDING_LEFT_OVER,
          explanation: {
            code: null,
            title: 'Outcome unknown: the app restarted mid-push',
            what: `${SENDING_LEFT_OVER} The push request may have left at ${r.sendingAt ?? 'an unknown time'}.`,
            action:
              'Check the push records in the Tencent Cloud IM console for that time before asking again. The app will not push this again by itself; a resend needs a new request and a new approval.',
            retry: 'no',
          },
          attempts: 0,
          at,
        };
        const done = await this.requests.transition(r.id, ['sending'], 'unknown', (cur) => ({
          result,
          outbox: [...cur.outbox, this.notification('unknown')],
        }), { note: 'found in flight at start-up' });
        if (done.ok) unknown.push(r.id);
      } else if (await this.handBack(r.id, 'the app restarted before the push left; approve again to send')) {
        reverted.push(r.id);
      }
    }
    if (this.o.kv.kind === 'sqlite') {
      // One instance per SQLite file: every delivery lease found at start-up is a dead process's.
      for (const r of await this.requests.list()) {
        if (r.outboxLease) await this.requests.updateIf(r.id, (cur) => Boolean(cur.outboxLease), () => ({ outboxLease: undefined }));
      }
    }
    if (unknown.length || reverted.length) this.log.warn('recovered interrupted requests', { unknown, reverted });
    return { unknown, reverted };
  }

  /** Wait for every push in flight to finish and be recorded (for a clean shutdown). */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, (error) => {
      forget();
      this.log.error('push failed to complete', { error });
    });
    return work;
  }

  /** Sleep until this instance holds the next push slot (shared by all instances through the store). */
  private async waitForPushSlot(): Promise<void> {
    const now = this.clock.now().getTime();
    const slot = await this.o.kv.reserveSlot('push-slot', this.o.minPushGapMs ?? 1100, now);
    if (slot > now) await this.clock.sleep(slot - now);
  }

  private notification(event: RequestState, targets = NOTIFY[event] ?? []): PendingNotification {
    return { event, targets: [...targets], attempts: 0, nextAt: this.clock.now().toISOString() };
  }

  private storeFailure(error: unknown): { ok: false; refusal: Refusal } {
    if (error instanceof StoreUnavailableError) {
      this.log.error('store unavailable; nothing changed', { error });
      return { ok: false, refusal: 'store_unavailable' };
    }
    throw error;
  }

  /** Retry a store write with backoff while the process lives (bounded), for results that must not be lost. */
  private async persistently<T>(what: string, write: () => Promise<T>): Promise<T> {
    let delay = 200;
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (!(error instanceof StoreUnavailableError) || attempt >= 30) throw error;
        this.log.error(`cannot ${what} yet; retrying`, { attempt, error });
        await this.clock.sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }
}

/** True when the request's latest approval was given for exactly its current body. */
export function isBoundToApproval(request: BroadcastRequest): boolean {
  const approval = request.approvals.at(-1);
  return Boolean(approval) && approval!.payloadHash === request.payloadHash && payloadHash(request.body) === request.payloadHash;
}

function toResultRecord(outcome: PushOutcome, at: string): PushResultRecord {
  switch (outcome.kind) {
    case 'sent':
      return { kind: 'sent', taskId: outcome.taskId, attempts: outcome.attempts, at };
    case 'failed':
      return { kind: 'failed', code: outcome.code, info: outcome.info, explanation: { ...outcome.explanation }, attempts: outcome.attempts, at };
    case 'unknown':
      return { kind: 'unknown', reason: outcome.reason, explanation: { ...outcome.explanation }, attempts: outcome.attempts, at };
  }
}

const ID_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
function newRequestId(): string {
  const bytes = randomBytes(10);
  let id = 'br-';
  for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}
