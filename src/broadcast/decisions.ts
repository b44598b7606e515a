import { randomBytes, randomInt } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import { checkDraft, duplicateKey, payloadHash, payloadVersion, type FieldError } from './draft.js';
import { canAskAgain } from './lifecycle.js';
import { newOutbox } from './outbox.js';
import type { PushRunner } from './push-runner.js';
import type { Quota } from './quota.js';
import { withEvent, type Change, type Requests, type UpdateResult } from './requests.js';
import { StoreUnavailableError } from './store/store.js';
import { inQuietHours, quietHoursEnd, type QuietHours } from './time.js';
import type { BroadcastDraft, BroadcastRequest, QuotaStatus, Refusal } from './types.js';

/** The furthest ahead a push may be scheduled. */
export const MAX_SCHEDULE_AHEAD_MS = 30 * 24 * 3600 * 1000;
/** How far back the duplicate guard looks. */
export const DUPLICATE_WINDOW_MS = 24 * 3600 * 1000;

export interface DecisionSettings {
  everyoneApprovals: number;
  targetedApprovals: number;
  requestTtlMs: number;
  quietHours?: QuietHours;
  timeZone: string;
}

/** Who is acting, as the signed Slack payload says, and whether they may approve. */
export interface Actor {
  userId: string;
  isApprover: boolean;
}

export type Refused = { ok: false; refusal: Refusal; request?: BroadcastRequest; quota?: QuotaStatus };
export type Decided = { ok: true; request: BroadcastRequest };
export type DecisionResult = Decided | Refused;
export type ApproveResult = (Decided & { /** Settles once the push (if one started) is done. */ pushed?: Promise<BroadcastRequest | undefined> }) | Refused;
export type SubmitResult = { ok: true; request: BroadcastRequest } | { ok: false; errors: FieldError[] } | Refused;

/** True when the request's approvals were all given for exactly its current payload and send time. */
export function isBoundToApproval(r: BroadcastRequest): boolean {
  return (
    r.approvals.length >= r.requiredApprovals &&
    r.approvals.every((a) => a.version === r.version) &&
    payloadHash(r.body) === r.payloadHash &&
    payloadVersion(r.payloadHash, r.draft.sendAt) === r.version
  );
}

/** A rejection given on a card that showed another version than the request has now (a bare id from an old card names none). */
function staleVersion(r: BroadcastRequest, version: string | undefined): Refusal | undefined {
  return version && version !== r.version ? 'stale_version' : undefined;
}

/** A push with no Condition reaches every user of the app. */
export function reachesEveryone(r: Pick<BroadcastRequest, 'body'>): boolean {
  return r.body.Condition === undefined;
}

const ID_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
function newRequestId(): string {
  let id = 'br-';
  for (const b of randomBytes(10)) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}

/**
 * What people decide about requests: submit, edit, approve (one or several approvers), reject,
 * cancel, settle an unknown outcome, ask again; and the expiry of requests nobody decided.
 * Every decision is one atomic event on the request; the clicker always comes from the signed
 * payload (the caller), never from a button value.
 */
export class Decisions {
  constructor(
    private readonly o: {
      requests: Requests;
      quota: Quota;
      runner: PushRunner;
      clock: Clock;
      log: Logger;
      settings: DecisionSettings;
    },
  ) {}

  private now(): Date {
    return this.o.clock.now();
  }

  private required(body: BroadcastRequest['body']): number {
    return body.Condition === undefined ? this.o.settings.everyoneApprovals : this.o.settings.targetedApprovals;
  }

  /** Field errors of a send time: in the past, too far ahead, or inside quiet hours. */
  sendAtErrors(draft: BroadcastDraft, now = this.now()): FieldError[] {
    if (!draft.sendAt) return [];
    const at = Date.parse(draft.sendAt);
    if (!Number.isFinite(at)) return [{ field: 'sendAt', message: 'Choose a valid date and time.' }];
    if (at <= now.getTime()) return [{ field: 'sendAt', message: 'This time has already passed. Choose a time in the future, or leave it empty to send as soon as it is approved.' }];
    if (at - now.getTime() > MAX_SCHEDULE_AHEAD_MS) return [{ field: 'sendAt', message: 'Choose a time at most 30 days ahead.' }];
    const q = this.o.settings.quietHours;
    if (q && inQuietHours(new Date(at), this.o.settings.timeZone, q)) {
      return [{ field: 'sendAt', message: 'This time is inside the quiet hours, when no push goes out. Choose a time outside them.' }];
    }
    return [];
  }

  /** Check a draft against every push rule and the send-time rules; the body it would push. */
  private check(draft: BroadcastDraft): { ok: true; body: BroadcastRequest['body'] } | { ok: false; errors: FieldError[] } {
    // One MsgRandom per version of a request: a new request or an edit gets a new one, never reused.
    const checked = checkDraft(draft, randomInt(1, 2 ** 32));
    const timeErrors = this.sendAtErrors(draft);
    if (!checked.ok) return { ok: false, errors: [...checked.errors, ...timeErrors] };
    if (timeErrors.length) return { ok: false, errors: timeErrors };
    return checked;
  }

  /** What a (new or edited) payload sets on its request: a fresh version, no approvals, a fresh expiry. */
  private async payloadFields(draft: BroadcastDraft, body: BroadcastRequest['body'], now: Date) {
    const hash = payloadHash(body);
    const duplicateOf = await this.duplicateOf(draft, now);
    return {
      draft,
      body,
      payloadHash: hash,
      version: payloadVersion(hash, draft.sendAt),
      dedupKey: duplicateKey(draft),
      requiredApprovals: this.required(body),
      approvals: [] as BroadcastRequest['approvals'],
      expiresAt: new Date(now.getTime() + this.o.settings.requestTtlMs).toISOString(),
      ...(duplicateOf ? { duplicateOf } : {}),
    };
  }

  private async duplicateOf(draft: BroadcastDraft, now: Date): Promise<BroadcastRequest['duplicateOf']> {
    const earlier = await this.o.requests.store.lastSent(duplicateKey(draft), now.getTime() - DUPLICATE_WINDOW_MS);
    if (!earlier) return undefined;
    const r = earlier.data;
    const sentAt = r.result?.kind === 'sent' ? r.result.at : (r.resolution?.at ?? r.updatedAt);
    const taskId = r.result?.kind === 'sent' ? r.result.taskId : r.resolution?.taskId;
    return { id: r.id, sentAt, ...(taskId ? { taskId } : {}), ...(r.card ? { card: r.card } : {}) };
  }

  async submit(input: { requesterId: string; teamId?: string; draft: BroadcastDraft; againOf?: string }): Promise<SubmitResult> {
    const checked = this.check(input.draft);
    if (!checked.ok) return checked;
    const now = this.now();
    const at = now.toISOString();
    const payload = await this.payloadFields(input.draft, checked.body, now);
    const { version } = payload;
    for (;;) {
      const request: BroadcastRequest = {
        id: newRequestId(),
        rev: 1,
        state: 'pending',
        requesterId: input.requesterId,
        ...(input.teamId ? { teamId: input.teamId } : {}),
        createdAt: at,
        updatedAt: at,
        ...payload,
        ...(input.againOf ? { againOf: input.againOf } : {}),
        history: [
          { kind: 'submitted', at, from: null, to: 'pending', by: input.requesterId, version, ...(input.againOf ? { otherId: input.againOf } : {}) },
        ],
        outbox: { ...newOutbox(), card: { attempts: 0, nextAt: at, mark: 'new' } },
      };
      if (await this.o.requests.create(request)) {
        this.o.log.info('broadcast requested', { requestId: request.id, requester: request.requesterId, audience: request.draft.audience.kind, version });
        if (input.againOf) await this.linkAgain(input.againOf, request.id, input.requesterId);
        return { ok: true, request };
      }
    }
  }

  /** The old request's thread links to the new one. Best effort: the new request already links back. */
  private async linkAgain(oldId: string, newId: string, by: string): Promise<void> {
    await this.o.requests
      .update(oldId, (r) => {
        const next = withEvent(r, 'requested_again', this.now(), { by, otherId: newId }, { againAs: [...(r.againAs ?? []), newId] });
        return next ? { next } : { refuse: 'not_final' };
      })
      .catch((error: unknown) => this.o.log.warn('could not link the earlier request to its new one', { requestId: oldId, newId, error }));
  }

  /** The requester changes a pending (or scheduled) request: every approval so far is reset. */
  async edit(input: { requestId: string; userId: string; draft: BroadcastDraft }): Promise<SubmitResult> {
    const checked = this.check(input.draft);
    if (!checked.ok) return checked;
    const now = this.now();
    const payload = await this.payloadFields(input.draft, checked.body, now);
    return this.decide(input.requestId, (r) => {
      if (r.requesterId !== input.userId) return { refuse: 'not_requester' };
      if (r.state !== 'pending' && r.state !== 'scheduled') return { refuse: r.state === 'expired' ? 'expired' : 'already_decided' };
      const { duplicateOf: _old, scheduledFor: _s, holdReason: _h, ...rest } = r;
      const next = withEvent({ ...rest, rev: r.rev } as BroadcastRequest, 'edited', now, { by: input.userId, version: payload.version }, payload);
      return next ? { next } : { refuse: 'already_decided' };
    });
  }

  /**
   * An approver approves the version shown on their card. The requester never counts, nor does the
   * same approver twice. The last approval needed claims the request for this instance and counts
   * the push against the quota in the same atomic write; then the push runs once.
   * `sendNow`: the approver chose "send now anyway" during quiet hours.
   */
  async approve(input: Actor & { requestId: string; version: string; sendNow?: boolean }): Promise<ApproveResult> {
    const now = this.now();
    const settings = this.o.settings;
    const day = this.o.quota.day(now);
    const runner = this.o.runner;
    let quota: QuotaStatus | undefined;
    const result = await this.decideRaw(input.requestId, (r): Change<Refusal> => {
      const refusal = this.who(r, input) ?? this.pendingFor(r, input, now);
      if (refusal === 'held') {
        // "Send now anyway" on a request held for quiet hours: claim it at once.
        const next = withEvent(r, 'claimed', now, { by: input.userId, note: 'send now anyway' }, { lease: runner.leaseFor(now), quotaDay: day });
        return next ? { next, effects: runner.claimEffects(next, now, day) } : { refuse: 'already_decided' };
      }
      if (refusal) return { refuse: refusal };
      const approvals = [...r.approvals, { userId: input.userId, at: now.toISOString(), version: input.version }];
      if (approvals.length < r.requiredApprovals) {
        const next = withEvent(r, 'approval', now, { by: input.userId, version: r.version, count: approvals.length, required: r.requiredApprovals }, { approvals });
        return next ? { next } : { refuse: 'already_decided' };
      }
      const entry = { by: input.userId, version: r.version, count: approvals.length, required: r.requiredApprovals };
      if (r.draft.sendAt) {
        const next = withEvent(r, 'scheduled', now, entry, { approvals, scheduledFor: r.draft.sendAt, holdReason: 'send_at' });
        return next ? { next } : { refuse: 'already_decided' };
      }
      if (settings.quietHours && !input.sendNow && inQuietHours(now, settings.timeZone, settings.quietHours)) {
        const until = quietHoursEnd(now, settings.timeZone, settings.quietHours).toISOString();
        const next = withEvent(r, 'scheduled', now, { ...entry, note: 'quiet hours' }, { approvals, scheduledFor: until, holdReason: 'quiet_hours' });
        return next ? { next } : { refuse: 'already_decided' };
      }
      const next = withEvent(r, 'approved', now, { ...entry, ...(input.sendNow ? { note: 'send now anyway' } : {}) }, {
        approvals,
        lease: runner.leaseFor(now),
        quotaDay: day,
      });
      return next ? { next, effects: runner.claimEffects(next, now, day) } : { refuse: 'already_decided' };
    });
    if (!result.ok && result.refusal === 'quota_exhausted') quota = await this.o.quota.status(now).catch(() => undefined);
    if (!result.ok) return { ...result, ...(quota ? { quota } : {}) };
    const r = result.request;
    if (r.state !== 'approved' && r.state !== 'sending') {
      this.o.log.info(r.state === 'scheduled' ? 'broadcast approved for later' : 'approval recorded', {
        requestId: r.id,
        approver: input.userId,
        approvals: r.approvals.length,
        required: r.requiredApprovals,
        ...(r.scheduledFor ? { scheduledFor: r.scheduledFor } : {}),
      });
      return { ok: true, request: r };
    }
    this.o.log.info('broadcast approved', { requestId: r.id, approver: input.userId, quotaDay: day });
    return { ok: true, request: r, pushed: runner.start(r, result.slotAt) };
  }

  /** Identity checks that hold whatever the state: not the requester, an approver. */
  private who(r: BroadcastRequest, a: Actor): Refusal | undefined {
    if (r.requesterId === a.userId) return 'is_requester';
    if (!a.isApprover) return 'not_approver';
    return undefined;
  }

  /** Why a pending request cannot take this approval now ('held' = a quiet-hours hold to send now). */
  private pendingFor(r: BroadcastRequest, input: { userId: string; version: string; sendNow?: boolean }, now: Date): Refusal | 'held' | undefined {
    if (r.state === 'scheduled' && r.holdReason === 'quiet_hours' && input.sendNow) return input.version === r.version ? 'held' : 'stale_version';
    if (r.state === 'expired') return 'expired';
    if (r.state !== 'pending') return 'already_decided';
    if (Date.parse(r.expiresAt) <= now.getTime()) return 'expired';
    if (input.version !== r.version) return 'stale_version';
    if (r.approvals.some((a) => a.userId === input.userId)) return 'already_approved_by_you';
    if (r.draft.sendAt && Date.parse(r.draft.sendAt) <= now.getTime()) return 'send_time_passed';
    return undefined;
  }

  async reject(input: Actor & { requestId: string; reason: string; version?: string }): Promise<DecisionResult> {
    const now = this.now();
    return this.decide(input.requestId, (r) => {
      const refusal = this.who(r, input) ?? (r.state === 'expired' ? 'expired' : r.state !== 'pending' ? 'already_decided' : staleVersion(r, input.version));
      if (refusal) return { refuse: refusal };
      const next = withEvent(r, 'rejected', now, { by: input.userId, note: input.reason }, { decision: { by: input.userId, at: now.toISOString(), reason: input.reason } });
      return next ? { next } : { refuse: 'already_decided' };
    });
  }

  /** The requester withdraws a pending request; a scheduled one may be cancelled by the requester or any approver. */
  async cancel(input: Actor & { requestId: string }): Promise<DecisionResult> {
    const now = this.now();
    return this.decide(input.requestId, (r) => {
      const mine = r.requesterId === input.userId;
      if (r.state === 'pending' && !mine) return { refuse: 'not_requester' };
      if (r.state === 'scheduled' && !mine && !input.isApprover) return { refuse: 'not_approver' };
      if (r.state !== 'pending' && r.state !== 'scheduled') return { refuse: r.state === 'expired' ? 'expired' : 'already_decided' };
      const next = withEvent(r, 'cancelled', now, { by: input.userId }, { decision: { by: input.userId, at: now.toISOString() } });
      return next ? { next } : { refuse: 'already_decided' };
    });
  }

  /** An approver settles an unknown outcome from the Tencent console: it went out, or it did not. */
  async resolveUnknown(input: Actor & { requestId: string; wentOut: boolean; taskId?: string }): Promise<DecisionResult> {
    const now = this.now();
    return this.decide(input.requestId, (r) => {
      if (!input.isApprover) return { refuse: 'not_approver' };
      if (r.state !== 'unknown') return { refuse: 'not_unknown' };
      const resolution = { kind: input.wentOut ? 'sent' : 'not_sent', by: input.userId, at: now.toISOString(), ...(input.taskId ? { taskId: input.taskId } : {}) } as const;
      const next = withEvent(r, input.wentOut ? 'marked_sent' : 'marked_not_sent', now, { by: input.userId, ...(input.taskId ? { taskId: input.taskId } : {}) }, { resolution });
      if (!next) return { refuse: 'not_unknown' };
      // It did not go out: Tencent did not count it either, so the quota slot comes back.
      return { next, ...(!input.wentOut && r.quotaDay ? { effects: { release: this.o.quota.releaseEffect(r.quotaDay) } } : {}) };
    });
  }

  /** May `userId` ask again from this request? Returns it to prefill the form. */
  async againSource(input: { requestId: string; userId: string }): Promise<DecisionResult> {
    const r = await this.read(input.requestId);
    if ('refusal' in r) return r;
    if (r.requesterId !== input.userId) return { ok: false, refusal: 'not_requester', request: r };
    if (!canAskAgain(r.state)) return { ok: false, refusal: 'already_decided', request: r };
    return { ok: true, request: r };
  }

  /** May `userId` edit this request now? Returns it to prefill the form. */
  async editSource(input: { requestId: string; userId: string; version?: string }): Promise<DecisionResult> {
    const r = await this.read(input.requestId);
    if ('refusal' in r) return r;
    if (r.requesterId !== input.userId) return { ok: false, refusal: 'not_requester', request: r };
    if (r.state === 'expired') return { ok: false, refusal: 'expired', request: r };
    if (r.state !== 'pending' && r.state !== 'scheduled') return { ok: false, refusal: 'already_decided', request: r };
    if (input.version && input.version !== r.version) return { ok: false, refusal: 'stale_version', request: r };
    return { ok: true, request: r };
  }

  /** May this approver reject the request shown? (Checked before the reason modal opens.) */
  async rejectable(input: Actor & { requestId: string; version?: string }): Promise<DecisionResult> {
    const r = await this.read(input.requestId);
    if ('refusal' in r) return r;
    const refusal = this.who(r, input) ?? (r.state === 'expired' ? 'expired' : r.state !== 'pending' ? 'already_decided' : staleVersion(r, input.version));
    return refusal ? { ok: false, refusal, request: r } : { ok: true, request: r };
  }

  /** Expire pending requests whose time ran out (periodic; every instance may run it, each expires once). */
  async expireDue(limit = 50): Promise<number> {
    const now = this.now();
    let n = 0;
    for (const id of await this.o.requests.store.due('expiry', now.getTime(), limit)) {
      const done = await this.o.requests.update(id, (r) => {
        if (r.state !== 'pending' || Date.parse(r.expiresAt) > now.getTime()) return { refuse: 'not_due' };
        const next = withEvent(r, 'expired', now, {}, { decision: { by: 'system', at: now.toISOString() } });
        return next ? { next } : { refuse: 'not_due' };
      });
      if (done.ok) {
        n++;
        this.o.log.info('broadcast request expired', { requestId: id });
      }
    }
    return n;
  }

  // ----------------------------------------------------------------------------------------------

  private async read(id: string): Promise<BroadcastRequest | Refused> {
    try {
      return (await this.o.requests.get(id)) ?? { ok: false, refusal: 'unknown_request' };
    } catch (error) {
      return this.storeError(error);
    }
  }

  private async decide(id: string, decide: (r: BroadcastRequest) => Change<Refusal>): Promise<DecisionResult> {
    return this.decideRaw(id, decide).then((r) => (r.ok ? { ok: true, request: r.request } : r));
  }

  private async decideRaw(id: string, decide: (r: BroadcastRequest) => Change<Refusal>): Promise<
    (Decided & { slotAt?: number }) | Refused
  > {
    let result: UpdateResult<Refusal>;
    try {
      result = await this.o.requests.update(id, decide);
    } catch (error) {
      return this.storeError(error);
    }
    if (result.ok) return { ok: true, request: result.request, ...(result.slotAt !== undefined ? { slotAt: result.slotAt } : {}) };
    if (result.reason === 'not_found') return { ok: false, refusal: 'unknown_request' };
    if (result.reason === 'limit') return { ok: false, refusal: 'quota_exhausted', request: result.request };
    return { ok: false, refusal: result.refusal, request: result.request };
  }

  private storeError(error: unknown): Refused {
    if (error instanceof StoreUnavailableError) {
      const uncertain = error.name === 'StoreUncertainError';
      this.o.log.error(uncertain ? 'store failed mid-write; the outcome is unknown until it answers' : 'store unavailable; nothing changed', { error });
      return { ok: false, refusal: uncertain ? 'store_uncertain' : 'store_unavailable' };
    }
    throw error;
  }
}
