import type { Logger } from '../logger.js';
import type { PushAttempt, PushHooks } from '../tim/client.js';
import { explainError, type ExplainContext } from '../tim/errors.js';
import type { ImPushBody } from '../tim/push-body.js';
import { pushWithRetry, type PushOutcome, type RetryOptions } from '../tim/push-with-retry.js';
import type { Clock } from './clock.js';
import { isBoundToApproval } from './decisions.js';
import { isLeased } from './lifecycle.js';
import type { Quota } from './quota.js';
import { withEvent, type Requests } from './requests.js';
import { StoreUnavailableError, type WriteEffects } from './store/store.js';
import type { BroadcastRequest, Lease, PushResultRecord } from './types.js';

export interface Pusher {
  push(body: ImPushBody, hooks?: PushHooks): Promise<PushAttempt>;
}

export interface RunnerSettings {
  instanceId: string;
  /** How long a claim on a request lasts without renewal. */
  leaseMs: number;
  /** Pushes must be MORE than 1 s apart (90024); a margin absorbs clock skew between instances. */
  minPushGapMs: number;
  /** A scheduled push more than this late (every instance was down at the time) asks for a new approval. */
  maxLateMs: number;
  requestTtlMs: number;
  retry: Omit<RetryOptions, 'beforeAttempt' | 'sleep' | 'explainContext' | 'onAttempt'>;
  explainContext: ExplainContext;
  /** Single-instance store (SQLite): every lease found at start-up belongs to a dead process. */
  soleInstance: boolean;
}

const SLOT_KEY = 'push-slot';

/** A push outcome that is known but not yet in the store (printed if the process must stop first). */
export interface UnrecordedResult {
  requestId: string;
  outcome: PushOutcome;
}

/**
 * Runs pushes: one instance holds a lease on each request it works on (renewed while it works),
 * waits for the shared one-second push slot, stores `sending`, pushes once, and records the
 * outcome for as long as the process lives. The reaper, on every instance, touches only requests
 * whose lease ran out: a `sending` one becomes unknown (it may have been pushed), an `approved`
 * one goes back (it was not). Scheduled requests are claimed here when their time comes.
 */
export class PushRunner {
  private readonly working = new Map<string, Promise<BroadcastRequest | undefined>>();
  /** Resolves once the push of a request has left the 'approved' state (stored 'sending', or given up). */
  private readonly leaving = new Map<string, { done: Promise<void>; resolve: () => void }>();
  private readonly unrecorded = new Map<string, PushOutcome>();
  private claiming = true;
  private giveUp = false;

  constructor(
    private readonly o: {
      requests: Requests;
      quota: Quota;
      pusher: Pusher;
      clock: Clock;
      log: Logger;
      settings: RunnerSettings;
    },
  ) {}

  get instanceId(): string {
    return this.o.settings.instanceId;
  }

  leaseFor(now: Date): Lease {
    return { owner: this.o.settings.instanceId, until: new Date(now.getTime() + this.o.settings.leaseMs).toISOString() };
  }

  slotEffect(now: Date): NonNullable<WriteEffects['slot']> {
    return { key: SLOT_KEY, gapMs: this.o.settings.minPushGapMs, nowMs: now.getTime() };
  }

  /**
   * The effects of claiming a request for a push: count it against the quota of `day` and reserve
   * a push slot, in the same write; when the slot is free at once, that write already stores
   * 'sending' (the push then leaves without another store round trip).
   */
  claimEffects(claimed: BroadcastRequest, now: Date, day: string): WriteEffects {
    const slot = this.slotEffect(now);
    const ready = isBoundToApproval(claimed) ? withEvent(claimed, 'sending', now, {}, { sendingAt: now.toISOString(), lease: this.leaseFor(now) }) : undefined;
    if (ready) {
      const { rev: _rev, ...readyDoc } = ready;
      slot.readyDoc = readyDoc;
    }
    return { reserve: this.o.quota.reserveEffect(day), slot };
  }

  isWorking(id: string): boolean {
    return this.working.has(id);
  }

  isBusy(): boolean {
    return this.working.size > 0;
  }

  /** Push a request this instance has just claimed (approved, with our lease and a quota slot). */
  start(request: BroadcastRequest, slotAt: number | undefined): Promise<BroadcastRequest | undefined> {
    const existing = this.working.get(request.id);
    if (existing) return existing;
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    this.leaving.set(request.id, { done, resolve });
    const work = this.run(request, slotAt ?? this.o.clock.now().getTime() + this.o.settings.minPushGapMs).catch((error: unknown) => {
      this.o.log.error('push run failed', { requestId: request.id, error });
      return undefined;
    });
    this.working.set(request.id, work);
    void work.finally(() => {
      this.working.delete(request.id);
      this.leaving.get(request.id)?.resolve();
      this.leaving.delete(request.id);
    });
    return work;
  }

  /**
   * While this instance is about to push a request, resolves once the push has left (or will not):
   * the notifier waits for it, so rendering the card never delays the push (undefined when nothing is pending).
   */
  untilSending(id: string): Promise<void> | undefined {
    return this.leaving.get(id)?.done;
  }

  private async run(claimed: BroadcastRequest, slotAt: number): Promise<BroadcastRequest | undefined> {
    const id = claimed.id;
    const log = this.o.log;
    const renew = setInterval(() => void this.renew(id), Math.max(200, Math.floor(this.o.settings.leaseMs / 3)));
    renew.unref();
    try {
      let sending: { ok: true; request: BroadcastRequest } | Awaited<ReturnType<Requests['update']>>;
      if (claimed.state === 'sending') {
        // The claim found the push slot free and already stored 'sending'.
        sending = { ok: true, request: claimed };
      } else {
        const wait = slotAt - this.o.clock.now().getTime();
        if (wait > 0) await this.o.clock.sleep(wait);
        try {
          sending = await this.o.requests.update(
            id,
            (r) => {
              if (r.state !== 'approved' || r.lease?.owner !== this.instanceId) return { refuse: 'lost' as const };
              // Approval is bound to the exact payload: a body that no longer matches its approval never leaves.
              if (!isBoundToApproval(r)) return { refuse: 'unbound' as const };
              const now = this.o.clock.now();
              const next = withEvent(r, 'sending', now, {}, { sendingAt: now.toISOString(), lease: this.leaseFor(now) });
              return next ? { next } : { refuse: 'lost' as const };
            },
            { known: claimed },
          );
        } catch (error) {
          // Nothing has left. If `sending` was stored after all, its lease runs out and it is reported
          // as unknown; if not, the lease runs out and it goes back to pending. Never a push here.
          log.error('could not store "sending"; not pushing', { requestId: id, error });
          return undefined;
        }
      }
      if (!sending.ok) {
        if (sending.reason === 'refused' && sending.refusal === 'unbound') {
          log.error('payload differs from what was approved; not pushing', { requestId: id });
          await this.handBack(id, 'the payload no longer matches what was approved');
        }
        return undefined;
      }
      // Only once the request is being written to Tencent may the notifier render cards: that CPU
      // work must never delay a push. (A pusher without the hook: after the first attempt.)
      const outcome = await this.push(sending.request, () => this.leaving.get(id)?.resolve());
      this.leaving.get(id)?.resolve();
      return await this.record(sending.request, outcome);
    } finally {
      clearInterval(renew);
    }
  }

  private async push(request: BroadcastRequest, leaving: () => void): Promise<PushOutcome> {
    const log = this.o.log;
    const outcome = await pushWithRetry(this.o.pusher, request.body, {
      ...this.o.settings.retry,
      hooks: { onRequestStart: leaving },
      sleep: (ms) => this.o.clock.sleep(ms),
      explainContext: this.o.settings.explainContext,
      // A retry (only where the push provably did not happen) respects the spacing too, across instances.
      beforeAttempt: async (attempt) => {
        if (attempt === 1) return;
        const now = this.o.clock.now().getTime();
        const slot = await this.o.requests.store.reserveSlot(SLOT_KEY, this.o.settings.minPushGapMs, now);
        if (slot > now) await this.o.clock.sleep(slot - now);
      },
      onAttempt: (attempt, result) =>
        log.info('push attempt', { requestId: request.id, attempt, result: result.kind, ...('code' in result ? { code: result.code } : {}) }),
    });
    // Logged the moment it is known, before any store write: if the store never answers, the log has it.
    log.info('push outcome', {
      requestId: request.id,
      outcome: outcome.kind,
      attempts: outcome.attempts,
      ...(outcome.kind === 'sent' ? { taskId: outcome.taskId } : {}),
      ...(outcome.kind === 'failed' ? { code: outcome.code } : {}),
      msgRandom: request.body.MsgRandom,
    });
    return outcome;
  }

  /** Record a push outcome; retried while the process lives, because the push has happened (or may have). */
  private async record(request: BroadcastRequest, outcome: PushOutcome): Promise<BroadcastRequest | undefined> {
    this.unrecorded.set(request.id, outcome);
    let known: BroadcastRequest | undefined = request;
    const done = await this.persistently(`record the push result of ${request.id}`, () => {
      const o = known ? { known } : {};
      known = undefined;
      return this.o.requests.update(request.id, (r) => {
        const mine = r.state === 'sending' && r.lease?.owner === this.instanceId;
        // Our lease ran out meanwhile and the request was reported unknown: a real answer settles it.
        const late = (r.state === 'unknown' && !r.resolution) || (r.state === 'not_sent' && outcome.kind === 'sent');
        if (!mine && !(late && outcome.kind !== 'unknown')) return { refuse: 'recorded' as const };
        const now = this.o.clock.now();
        const result = toResultRecord(outcome, now.toISOString());
        const effects: WriteEffects = {};
        // Tencent refused, or the request never left: nothing was pushed, so the slot comes back.
        if (result.kind === 'failed' && r.quotaDay) {
          effects.release = this.o.quota.releaseEffect(r.quotaDay);
          if (result.code === 90047) effects.flag = this.o.quota.exhaustEffect(r.quotaDay);
        }
        const next = withEvent(
          r,
          result.kind,
          now,
          {
            ...(result.kind === 'sent' ? { taskId: result.taskId } : {}),
            ...(result.kind === 'failed' ? { code: result.code } : {}),
            ...(mine ? {} : { note: 'late result: the answer arrived after this request was reported unknown' }),
          },
          { result, lease: undefined },
        );
        return next ? { next, effects } : { refuse: 'recorded' as const };
      }, o);
    });
    this.unrecorded.delete(request.id);
    if (!done.ok) {
      this.o.log.warn('push result not recorded: the request had moved on', { requestId: request.id, outcome: outcome.kind });
      return undefined;
    }
    this.o.log.info('broadcast result recorded', { requestId: request.id, state: done.request.state });
    return done.request;
  }

  private async renew(id: string): Promise<void> {
    await this.o.requests
      .update(
        id,
        (r) => (isLeased(r.state) && r.lease?.owner === this.instanceId ? { next: { ...r, lease: this.leaseFor(this.o.clock.now()) } } : { refuse: 'lost' }),
        { quiet: true },
      )
      .catch((error: unknown) => this.o.log.warn('could not renew the lease on a push in progress', { requestId: id, error }));
  }

  /** Give back an approval that never reached Tencent, with its quota slot. */
  private async handBack(id: string, note: string): Promise<void> {
    await this.o.requests
      .update(id, (r) => {
        if (r.state !== 'approved') return { refuse: 'moved' };
        const now = this.o.clock.now();
        const next = backFromApproved(r, now, note, this.o.settings.requestTtlMs);
        return next ? { next, ...(r.quotaDay ? { effects: { release: this.o.quota.releaseEffect(r.quotaDay) } } : {}) } : { refuse: 'moved' };
      })
      .catch((error: unknown) => this.o.log.error('could not hand the request back; its lease will', { requestId: id, error }));
  }

  /**
   * Settle requests whose owner is gone (its lease ran out): a `sending` one becomes unknown, an
   * `approved` one goes back. At start-up on a single-instance store every lease is a dead
   * process's, and so is a lease in our own name that we are not working on.
   */
  async reap(o: { atStart?: boolean } = {}): Promise<{ unknown: string[]; returned: string[] }> {
    const now = this.o.clock.now();
    const unknown: string[] = [];
    const returned: string[] = [];
    const horizon = o.atStart ? Number.MAX_SAFE_INTEGER : now.getTime();
    for (const id of await this.o.requests.store.due('lease', horizon, 100)) {
      if (this.working.has(id)) continue;
      const done = await this.o.requests.update(id, (r) => {
        if (!isLeased(r.state) || !r.lease) return { refuse: 'not_leased' as const };
        const expired = Date.parse(r.lease.until) <= now.getTime();
        const dead = o.atStart && (this.o.settings.soleInstance || r.lease.owner === this.instanceId);
        if (!expired && !dead) return { refuse: 'live' as const };
        if (r.lease.owner === this.instanceId && this.working.has(id)) return { refuse: 'live' as const };
        if (r.state === 'sending') {
          const result: PushResultRecord = {
            kind: 'unknown',
            reason: 'the app instance that was pushing stopped (or lost contact with the store) while the push was in flight',
            explanation: {
              code: null,
              title: 'Outcome unknown: interrupted mid-push',
              what: `The push request may have left at ${r.sendingAt ?? 'an unknown time'}, but its answer was never recorded.`,
              action:
                'Check the all-member push records in the Tencent Cloud IM console for that time, then press “It went out” or “It did not go out”. The app will not push this again by itself.',
              retry: 'no',
            },
            attempts: 0,
            at: now.toISOString(),
          };
          const next = withEvent(r, 'unknown', now, { note: 'lease expired while sending' }, { result, lease: undefined });
          return next ? { next } : { refuse: 'not_leased' as const };
        }
        const release = r.quotaDay ? { effects: { release: this.o.quota.releaseEffect(r.quotaDay) } } : {};
        if (r.holdReason) {
          const { quotaDay: _q, ...rest } = r;
          const next = withEvent({ ...rest, rev: r.rev } as BroadcastRequest, 'rescheduled', now, { note: 'the instance that claimed it stopped before pushing' }, { lease: undefined });
          return next ? { next, ...release } : { refuse: 'not_leased' as const };
        }
        const next = backFromApproved(r, now, 'the app stopped before the push left; approve again to send', this.o.settings.requestTtlMs);
        return next ? { next, ...release } : { refuse: 'not_leased' as const };
      });
      if (done.ok) (done.request.state === 'unknown' ? unknown : returned).push(id);
    }
    if (unknown.length || returned.length) this.o.log.warn('recovered interrupted requests', { unknown, returned });
    return { unknown, returned };
  }

  /** Claim scheduled requests whose time has come, and push them (exactly one instance wins each). */
  async claimDue(limit = 20): Promise<number> {
    if (!this.claiming) return 0;
    const now = this.o.clock.now();
    const day = this.o.quota.day(now);
    let started = 0;
    for (const id of await this.o.requests.store.due('schedule', now.getTime(), limit)) {
      if (!this.claiming) break;
      const claim = await this.o.requests.update(id, (r) => {
        if (r.state !== 'scheduled' || !r.scheduledFor || Date.parse(r.scheduledFor) > now.getTime()) return { refuse: 'not_due' as const };
        const lateMs = now.getTime() - Date.parse(r.scheduledFor);
        if (lateMs > this.o.settings.maxLateMs) {
          const { scheduledFor: _s, holdReason: _h, ...rest } = r;
          const next = withEvent({ ...rest, rev: r.rev } as BroadcastRequest, 'late', now, { note: `${Math.round(lateMs / 1000)}` }, {
            approvals: [],
            expiresAt: new Date(now.getTime() + this.o.settings.requestTtlMs).toISOString(),
          });
          return next ? { next } : { refuse: 'not_due' as const };
        }
        const next = withEvent(r, 'claimed', now, lateMs >= 5000 ? { note: `${Math.round(lateMs / 1000)}` } : {}, {
          lease: this.leaseFor(now),
          quotaDay: day,
        });
        return next ? { next, effects: this.claimEffects(next, now, day) } : { refuse: 'not_due' as const };
      });
      if (claim.ok && (claim.request.state === 'approved' || claim.request.state === 'sending')) {
        started++;
        void this.start(claim.request, claim.slotAt);
      } else if (!claim.ok && claim.reason === 'limit') {
        await this.failForQuota(id, day);
      }
    }
    return started;
  }

  /** The quota of the day a scheduled push was due is used up: it fails, explained, and nothing is pushed. */
  private async failForQuota(id: string, day: string): Promise<void> {
    const now = this.o.clock.now();
    const explanation = explainError(90047, '', this.o.settings.explainContext);
    await this.o.requests.update(id, (r) => {
      if (r.state !== 'scheduled') return { refuse: 'moved' };
      const result: PushResultRecord = {
        kind: 'failed',
        code: 90047,
        info: `the daily quota of ${day} was used up when this scheduled push was due`,
        explanation: { ...explanation },
        attempts: 0,
        at: now.toISOString(),
      };
      const next = withEvent(r, 'failed', now, { code: 90047, note: 'quota used up on the sending day' }, { result });
      return next ? { next } : { refuse: 'moved' };
    });
    this.o.log.warn('scheduled push failed: the quota of its day is used up', { requestId: id, day });
  }

  /** Stop claiming new scheduled pushes (shutdown). */
  stopClaiming(): void {
    this.claiming = false;
  }

  /** The shutdown budget ran out: stop retrying store writes so the process can report and exit. */
  abandon(): void {
    this.giveUp = true;
  }

  /** Wait for every push in flight to finish and be recorded. */
  async drain(): Promise<void> {
    while (this.working.size) await Promise.allSettled([...this.working.values()]);
  }

  unrecordedResults(): UnrecordedResult[] {
    return [...this.unrecorded].map(([requestId, outcome]) => ({ requestId, outcome }));
  }

  private async persistently<T>(what: string, write: () => Promise<T>): Promise<T> {
    let delay = 200;
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (!(error instanceof StoreUnavailableError) || this.giveUp) throw error;
        this.o.log.error(`cannot ${what} yet; retrying`, { attempt, error });
        await this.o.clock.sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }
}

/** An approved request that never left goes back to pending: approvals reset, a fresh expiry. */
function backFromApproved(r: BroadcastRequest, now: Date, note: string, ttlMs: number): BroadcastRequest | undefined {
  const { quotaDay: _q, ...rest } = r;
  return withEvent({ ...rest, rev: r.rev } as BroadcastRequest, 'handed_back', now, { note }, {
    approvals: [],
    lease: undefined,
    expiresAt: new Date(Math.max(Date.parse(r.expiresAt), now.getTime() + Math.min(ttlMs, 3600_000))).toISOString(),
  });
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
