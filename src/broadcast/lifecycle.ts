import type { RequestState } from './types.js';

/**
 * The request lifecycle. Every state change goes through `canTransition`,
 * and the store applies it with compare-and-swap, so two clicks cannot both win.
 *
 *   pending ──approve──▶ approved ──▶ sending ──▶ sent | failed | unknown
 *      │                    │
 *      │                    └─(quota refused, restart before send)─▶ pending
 *      ├──reject──▶ rejected
 *      ├──expire──▶ expired
 *      └──cancel──▶ cancelled
 *
 * `sending` is written BEFORE the push request leaves; a `sending` found at start-up
 * therefore means "we may have pushed" and becomes `unknown`, never a second push.
 */
export const TRANSITIONS: Readonly<Record<RequestState, readonly RequestState[]>> = {
  pending: ['approved', 'rejected', 'expired', 'cancelled'],
  approved: ['sending', 'pending'],
  sending: ['sent', 'failed', 'unknown'],
  sent: [],
  failed: [],
  rejected: [],
  expired: [],
  cancelled: [],
  unknown: [],
};

export function canTransition(from: RequestState, to: RequestState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(state: RequestState): boolean {
  return TRANSITIONS[state].length === 0;
}

/** States in which a push may already have reached users. */
export function mayHavePushed(state: RequestState): boolean {
  return state === 'sending' || state === 'sent' || state === 'unknown';
}
