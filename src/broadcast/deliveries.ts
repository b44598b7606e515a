import type { Clock } from './clock.js';
import { failedDelivery, nextOwed, outboxDueMs } from './outbox.js';
import { withEvent, type Requests } from './requests.js';
import type { BroadcastRequest, CardRef, Lease, NotifyTarget } from './types.js';

/** A delivery attempt that failed: Slack's error, whether it will never work, and Retry-After. */
export interface DeliveryFailure {
  error: string;
  /** The error will not fix itself (user_not_found, channel_not_found, invalid_blocks...). */
  permanent: boolean;
  /** A permanent error about the recipient rather than one message (no DM will ever work). */
  recipientGone?: boolean;
  retryAfterMs?: number;
}

/**
 * The outbox side of the domain, used by the notifier: which requests owe notifications, a lease
 * so one instance delivers a request at a time, and the bookkeeping of each delivered or failed
 * target. Targets are independent: a failing DM never holds up the card or the thread.
 */
export class Deliveries {
  constructor(
    private readonly o: { requests: Requests; clock: Clock; instanceId: string; leaseMs?: number },
  ) {}

  due(limit = 50): Promise<string[]> {
    return this.o.requests.store.due('outbox', this.o.clock.now().getTime(), limit);
  }

  /** Take the delivery lease of a request that owes something now; undefined when there is nothing to do or another instance holds it. */
  async claim(id: string): Promise<BroadcastRequest | undefined> {
    const now = this.o.clock.now();
    const res = await this.o.requests.update(
      id,
      (r) => {
        const lease = r.outbox.lease;
        if (lease && lease.owner !== this.o.instanceId && Date.parse(lease.until) > now.getTime()) return { refuse: 'leased' };
        if (!owesNow(r, now)) return { refuse: 'nothing' };
        const mine: Lease = { owner: this.o.instanceId, until: new Date(now.getTime() + (this.o.leaseMs ?? 30_000)).toISOString() };
        return { next: { ...r, outbox: { ...r.outbox, lease: mine } } };
      },
      { quiet: true },
    );
    return res.ok ? res.request : undefined;
  }

  async release(id: string): Promise<BroadcastRequest | undefined> {
    const res = await this.o.requests.update(
      id,
      (r) => {
        if (r.outbox.lease?.owner !== this.o.instanceId) return { refuse: 'not_mine' };
        const { lease: _l, ...outbox } = r.outbox;
        return { next: { ...r, outbox } };
      },
      { quiet: true },
    );
    return res.ok ? res.request : undefined;
  }

  /**
   * The write that settles the last owed target also gives up the lease, in the same atomic step:
   * an instance killed between that write and `release` would otherwise leave a lease on a request
   * that no one will ever claim again (nothing is owed), so the record never reads as settled.
   */
  private leaseDroppedWhenDone(r: BroadcastRequest): BroadcastRequest {
    if (r.outbox.lease?.owner !== this.o.instanceId) return r;
    const { lease: _l, ...outbox } = r.outbox;
    return outboxDueMs({ ...r, outbox }) === undefined ? { ...r, outbox } : r;
  }

  /** The card was posted or updated from a render with `mark`; `card` is set when it was first posted. */
  async cardDone(id: string, mark: string, card?: CardRef): Promise<BroadcastRequest | undefined> {
    return this.change(id, (r) => {
      const outbox = { ...r.outbox };
      if (outbox.card?.mark === mark) delete outbox.card;
      return { ...r, outbox, ...(card && !r.card ? { card } : {}) };
    });
  }

  async entryDone(id: string, target: 'thread' | 'dm', index: number): Promise<BroadcastRequest | undefined> {
    return this.change(id, (r) => {
      if (r.outbox[target].cursor > index) return r;
      return { ...r, outbox: { ...r.outbox, [target]: { cursor: index + 1 } } };
    });
  }

  async setPermalink(id: string, permalink: string): Promise<BroadcastRequest | undefined> {
    return this.change(id, (r) => (r.card ? { ...r, card: { ...r.card, permalink } } : r));
  }

  async failed(id: string, target: NotifyTarget, failure: DeliveryFailure, index?: number): Promise<BroadcastRequest | undefined> {
    const now = this.o.clock.now();
    return this.change(id, (r) => {
      const outbox = { ...r.outbox, ended: { ...r.outbox.ended } };
      if (!failure.permanent) {
        if (target === 'card') outbox.card = outbox.card ? { ...outbox.card, ...failedDelivery(outbox.card, now, failure.error, failure.retryAfterMs) } : undefined;
        else outbox[target] = { ...outbox[target], retry: failedDelivery(outbox[target].retry, now, failure.error, failure.retryAfterMs) };
        if (!outbox.card) delete outbox.card;
        return { ...r, outbox };
      }
      if (target === 'card') {
        outbox.ended.card = failure.error;
        delete outbox.card;
        // Without a card there is no thread to post in.
        if (!r.card) outbox.ended.thread = failure.error;
        return { ...r, outbox };
      }
      if (target === 'thread') {
        outbox.ended.thread = failure.error;
        return { ...r, outbox };
      }
      // A DM that cannot be delivered: skip it (or all DMs, when the requester is gone) and note it in the thread.
      if (failure.recipientGone) outbox.ended.dm = failure.error;
      outbox.dm = { cursor: Math.max(outbox.dm.cursor, (index ?? nextOwed(r, 'dm') ?? outbox.dm.cursor) + 1) };
      const noted = withEvent({ ...r, outbox }, 'delivery_ended', now, { target: 'dm', note: failure.error });
      return noted ?? { ...r, outbox };
    });
  }

  private async change(id: string, apply: (r: BroadcastRequest) => BroadcastRequest): Promise<BroadcastRequest | undefined> {
    const res = await this.o.requests.update(id, (r) => ({ next: this.leaseDroppedWhenDone(apply(r)) }), { quiet: true });
    return res.ok ? res.request : undefined;
  }
}

/** Does the request owe a delivery now (a target whose next attempt time has come)? */
export function owesNow(r: BroadcastRequest, now: Date): boolean {
  const t = now.getTime();
  const o = r.outbox;
  if (o.card && !o.ended?.card && Date.parse(o.card.nextAt) <= t) return true;
  for (const target of ['thread', 'dm'] as const) {
    if (nextOwed(r, target) === undefined) continue;
    const retry = o[target].retry;
    if (!retry || Date.parse(retry.nextAt) <= t) return true;
  }
  return false;
}
