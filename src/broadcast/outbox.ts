import { randomBytes } from 'node:crypto';
import { owesDm, owesThread } from './lifecycle.js';
import type { BroadcastRequest, DeliveryState, NotifyTarget, Outbox } from './types.js';

// The transactional outbox of a request: what people are still owed, kept in the request itself so
// it is written in the same atomic step as the event it announces. Pure functions here; the
// notifier (src/slack/notifier.ts) delivers, and reports back through `Deliveries` (deliveries.ts).

export function newOutbox(): Outbox {
  return { thread: { cursor: 0 }, dm: { cursor: 0 } };
}

/** The card must be re-rendered: a new mark, so a render of an older version never clears it. */
export function withCardDue(outbox: Outbox, now: Date): Outbox {
  return { ...outbox, card: { attempts: 0, nextAt: now.toISOString(), mark: randomBytes(4).toString('hex') } };
}

/** The next history entry the thread or the DM owes, or undefined when it owes nothing. */
export function nextOwed(r: Pick<BroadcastRequest, 'history' | 'outbox' | 'requesterId'>, target: 'thread' | 'dm'): number | undefined {
  if (r.outbox.ended?.[target]) return undefined;
  const owes = target === 'thread' ? owesThread : owesDm;
  for (let i = r.outbox[target].cursor; i < r.history.length; i++) if (owes(r as BroadcastRequest, i)) return i;
  return undefined;
}

/** When the outbox next needs delivering (epoch ms), or undefined when nothing is owed. */
export function outboxDueMs(r: Pick<BroadcastRequest, 'history' | 'outbox' | 'requesterId' | 'card'>): number | undefined {
  const times: number[] = [];
  const o = r.outbox;
  if (o.card && !o.ended?.card) times.push(Date.parse(o.card.nextAt));
  for (const target of ['thread', 'dm'] as const) {
    const i = nextOwed(r, target);
    if (i === undefined) continue;
    const retry = o[target].retry;
    times.push(retry ? Date.parse(retry.nextAt) : Date.parse(r.history[i]!.at));
  }
  if (times.length === 0) return undefined;
  const due = Math.min(...times);
  // While an instance holds the delivery lease, others need not look before it runs out.
  return o.lease ? Math.max(due, Date.parse(o.lease.until)) : due;
}

/** Backoff of a failed delivery: Slack's Retry-After when given, else 1 s doubling up to 5 min. */
export function retryDelayMs(attempts: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0) return retryAfterMs;
  return Math.min(1000 * 2 ** Math.max(0, attempts - 1), 300_000);
}

export function failedDelivery(previous: DeliveryState | undefined, now: Date, error: string, retryAfterMs?: number): DeliveryState {
  const attempts = (previous?.attempts ?? 0) + 1;
  return { attempts, nextAt: new Date(now.getTime() + retryDelayMs(attempts, retryAfterMs)).toISOString(), lastError: error.slice(0, 300) };
}

export type { NotifyTarget };
