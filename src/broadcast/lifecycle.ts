import { REQUEST_STATES, type BroadcastRequest, type EventKind, type RequestState } from './types.js';

/**
 * The request lifecycle, in one table: every event a request can go through, the states it may
 * happen in, the state it leads to, and what people are owed when it happens. Every change to a
 * request is one of these events, applied atomically (compare-and-swap on the record's revision),
 * so two clicks, two instances or a click and a sweep can never both win.
 *
 *   pending ─approval(k<n)─▶ pending
 *      │ ─approved──▶ approved ─sending─▶ sending ─▶ sent | failed | unknown ─marked_*─▶ sent | not_sent
 *      │ ─scheduled─▶ scheduled ─claimed─▶ approved          (a late result: unknown ─▶ sent | failed)
 *      │                 │ ─late / edited─▶ pending
 *      ├─rejected─▶ rejected   ├─expired─▶ expired   └─cancelled─▶ cancelled
 *   approved ─handed_back─▶ pending (nothing left; the lease ran out or the quota was gone)
 *
 * `sending` is written BEFORE the push request leaves: a `sending` whose owner is gone means "we
 * may have pushed" and becomes `unknown`, reported and never pushed again by itself.
 *
 * The card always re-renders; `thread` and `dm` say whether the event gets an entry in the card's
 * thread (the append-only audit) and a direct message to the requester.
 */
export interface EventRule {
  from: readonly (RequestState | null)[];
  /** The state after the event; 'same' keeps it. */
  to: RequestState | 'same';
  thread: boolean;
  dm: boolean | ((r: BroadcastRequest, entryIndex: number) => boolean);
}

const TERMINAL_FOR_AGAIN = ['rejected', 'failed', 'expired', 'cancelled', 'not_sent'] as const;
const ANY: readonly RequestState[] = REQUEST_STATES;

export const LIFECYCLE: Readonly<Record<EventKind, EventRule>> = {
  submitted: { from: [null], to: 'pending', thread: true, dm: true },
  edited: { from: ['pending', 'scheduled'], to: 'pending', thread: true, dm: false },
  approval: { from: ['pending'], to: 'same', thread: true, dm: false },
  approved: { from: ['pending'], to: 'approved', thread: true, dm: false },
  scheduled: { from: ['pending'], to: 'scheduled', thread: true, dm: true },
  // In the thread: when a scheduled push actually went out, how late, or who chose "send now anyway".
  claimed: { from: ['scheduled'], to: 'approved', thread: true, dm: false },
  handed_back: { from: ['approved'], to: 'pending', thread: true, dm: false },
  rescheduled: { from: ['approved'], to: 'scheduled', thread: false, dm: false },
  sending: { from: ['approved'], to: 'sending', thread: false, dm: false },
  // From unknown: the result arrived after the instance's lease ran out and the request was reported unknown.
  // From not_sent: Tencent's late answer proves it went out after someone marked it as not sent.
  sent: { from: ['sending', 'unknown', 'not_sent'], to: 'sent', thread: true, dm: true },
  // From scheduled: the quota of the day it was due was used up.
  failed: { from: ['sending', 'approved', 'scheduled', 'unknown'], to: 'failed', thread: true, dm: true },
  unknown: { from: ['sending'], to: 'unknown', thread: true, dm: true },
  marked_sent: { from: ['unknown'], to: 'sent', thread: true, dm: true },
  marked_not_sent: { from: ['unknown'], to: 'not_sent', thread: true, dm: true },
  rejected: { from: ['pending'], to: 'rejected', thread: true, dm: true },
  expired: { from: ['pending'], to: 'expired', thread: true, dm: true },
  // The requester is told only when someone else cancelled.
  cancelled: { from: ['pending', 'scheduled'], to: 'cancelled', thread: true, dm: (r, i) => r.history[i]?.by !== r.requesterId },
  late: { from: ['scheduled', 'approved'], to: 'pending', thread: true, dm: true },
  requested_again: { from: TERMINAL_FOR_AGAIN, to: 'same', thread: true, dm: false },
  delivery_ended: { from: ANY, to: 'same', thread: true, dm: false },
};

/** The state after `event` happens in `from`, or undefined when the event is not allowed there. */
export function nextState(from: RequestState | null, event: EventKind): RequestState | undefined {
  const rule = LIFECYCLE[event];
  if (!rule.from.includes(from)) return undefined;
  return rule.to === 'same' ? (from ?? undefined) : rule.to;
}

/** States a request never leaves (other than by linking or noting). */
export function isFinal(state: RequestState): boolean {
  return state === 'sent' || state === 'failed' || state === 'rejected' || state === 'expired' || state === 'cancelled' || state === 'not_sent';
}

/** States in which a push may already have reached users. */
export function mayHavePushed(state: RequestState): boolean {
  return state === 'sending' || state === 'sent' || state === 'unknown';
}

/** States a requester may ask again from (a new request, a new approval, a new MsgRandom). */
export function canAskAgain(state: RequestState): boolean {
  return (TERMINAL_FOR_AGAIN as readonly RequestState[]).includes(state);
}

/** Does history entry `i` owe a thread entry / a DM? */
export function owesThread(r: BroadcastRequest, i: number): boolean {
  const e = r.history[i];
  return Boolean(e && LIFECYCLE[e.kind].thread);
}

export function owesDm(r: BroadcastRequest, i: number): boolean {
  const e = r.history[i];
  if (!e) return false;
  const dm = LIFECYCLE[e.kind].dm;
  return typeof dm === 'function' ? dm(r, i) : dm;
}

/** States where an instance holds a lease while it works. */
export function isLeased(state: RequestState): boolean {
  return state === 'approved' || state === 'sending';
}
