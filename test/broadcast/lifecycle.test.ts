import { describe, expect, it } from 'vitest';
import { LIFECYCLE, isFinal, mayHavePushed, nextState } from '../../src/broadcast/lifecycle.js';
import { REQUEST_STATES, type EventKind, type RequestState } from '../../src/broadcast/types.js';

const EVENTS = Object.keys(LIFECYCLE) as EventKind[];
const into = (state: RequestState) => EVENTS.filter((e) => LIFECYCLE[e].to === state);

describe('the lifecycle table', () => {
  it('only reaches sending through an approved request, and only by the sending event', () => {
    expect(into('sending')).toEqual(['sending']);
    expect(LIFECYCLE.sending.from).toEqual(['approved']);
  });

  it('leaves a state where a push may have happened only to record what is known about it', () => {
    const leaving = (s: RequestState) => EVENTS.filter((e) => LIFECYCLE[e].from.includes(s) && LIFECYCLE[e].to !== 'same' && LIFECYCLE[e].to !== s);
    expect(leaving('sending').sort()).toEqual(['failed', 'sent', 'unknown']);
    expect(leaving('unknown').sort()).toEqual(['failed', 'marked_not_sent', 'marked_sent', 'sent']);
    expect(leaving('sent')).toEqual([]);
    expect(REQUEST_STATES.filter(mayHavePushed)).toEqual(['sending', 'sent', 'unknown']);
  });

  it('never lets an ended request be approved or pushed again', () => {
    for (const s of REQUEST_STATES.filter(isFinal)) {
      for (const e of ['approval', 'approved', 'scheduled', 'claimed', 'sending'] as const) expect(nextState(s, e)).toBeUndefined();
    }
  });

  it('lets a pending request be approved, scheduled, rejected, expired, cancelled or edited', () => {
    const from = EVENTS.filter((e) => LIFECYCLE[e].from.includes('pending')).sort();
    expect(from).toEqual(['approval', 'approved', 'cancelled', 'delivery_ended', 'edited', 'expired', 'rejected', 'scheduled']);
    expect(nextState('pending', 'approval')).toBe('pending');
    expect(nextState('rejected', 'approved')).toBeUndefined();
  });

  it('owes the requester a DM for outcomes, and a cancel only when someone else cancelled', () => {
    for (const e of ['sent', 'failed', 'unknown', 'rejected', 'expired', 'scheduled', 'marked_sent', 'marked_not_sent'] as const) expect(LIFECYCLE[e].dm).toBe(true);
    for (const e of ['approval', 'sending', 'claimed', 'edited'] as const) expect(LIFECYCLE[e].dm).toBe(false);
    const dm = LIFECYCLE.cancelled.dm as (r: { requesterId: string; history: Array<{ by?: string }> }, i: number) => boolean;
    expect(dm({ requesterId: 'U1', history: [{ by: 'U1' }] }, 0)).toBe(false);
    expect(dm({ requesterId: 'U1', history: [{ by: 'U2' }] }, 0)).toBe(true);
  });

  it('gives every event that changes what people see a thread entry (the audit), except the internal steps', () => {
    const silent = EVENTS.filter((e) => !LIFECYCLE[e].thread).sort();
    expect(silent).toEqual(['rescheduled', 'sending']);
  });
});
