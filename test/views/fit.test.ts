import { describe, expect, it } from 'vitest';
import { checkDraft } from '../../src/broadcast/draft.js';
import type { BroadcastDraft } from '../../src/broadcast/types.js';
import { buildApprovalCard } from '../../views/approval-card.js';
import { fitErrors, overBudget } from '../../views/fit.js';
import { threadEntry } from '../../views/thread.js';
import { messageProblems } from './block-kit.js';
import { ALL_STATES, ctx, inState, request } from './fixtures.js';

function bodyOf(draft: BroadcastDraft) {
  const checked = checkDraft(draft, 1);
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  return checked.body;
}

/** As much as every field of the form takes, in plain ASCII. */
const FULL: BroadcastDraft = {
  message: 'm'.repeat(3000),
  audience: { kind: 'tags', all: Array.from({ length: 5 }, (_, i) => `${i}`.repeat(50)), any: Array.from({ length: 5 }, (_, i) => `${i + 5}`.repeat(50)) },
  lifetimeSeconds: 86400,
  sender: 's'.repeat(100),
  note: 'n'.repeat(1000),
  offlinePush: {
    title: 't'.repeat(100),
    desc: 'd'.repeat(1000),
    ext: JSON.stringify({ e: 'e'.repeat(1010) }),
    apnsSound: 'a'.repeat(200),
    androidSound: 'b'.repeat(200),
    apnsImage: `https://i.example/${'x'.repeat(900)}`,
    apnsBadgeMode: 1,
  },
};

describe('can the card and the thread show the push in full?', () => {
  it('a usual request fits with room to spare', () => {
    const r = request();
    expect(fitErrors(r.draft, r.body, ctx())).toEqual([]);
    expect(overBudget(r.draft, r.body, ctx())).toBe(0);
  });

  it('every field of the form at its longest still fits, and every card and entry of it is within Slack’s limits', () => {
    const draft = FULL;
    const body = bodyOf(draft);
    expect(fitErrors(draft, body, ctx())).toEqual([]);
    const base = { ...request(), draft, body };
    for (const state of ALL_STATES) {
      const r = { ...inState(state, base), draft, body };
      expect(messageProblems(buildApprovalCard(r, ctx()))).toEqual([]);
      for (let i = 0; i < r.history.length; i++) expect(messageProblems(threadEntry(r, i, ctx()))).toEqual([]);
    }
  });

  it('a push too big to show is refused at its longest field, and shortening it by what is asked makes it fit', () => {
    // Control characters take six characters each in the body's JSON (and Tencent counts that JSON).
    const draft: BroadcastDraft = { ...FULL, message: 'm'.repeat(1400) + '\u0001'.repeat(1000), offlinePush: { ...FULL.offlinePush!, desc: '\u0001'.repeat(1000) } };
    const body = bodyOf(draft);
    const errors = fitErrors(draft, body, ctx());
    expect(errors.map((e) => e.field)).toEqual(['message']);
    const cut = Number(/at least (\d+) character/.exec(errors[0]!.message)![1]);
    expect(errors[0]!.message).toMatch(/^Too long for the approval card, which must show the whole push in one Slack message: shorten this by at least \d+ characters\.$/);
    const shorter = { ...draft, message: draft.message.slice(0, draft.message.length - cut) };
    expect(fitErrors(shorter, bodyOf(shorter), ctx())).toEqual([]);
    const notEnough = { ...draft, message: draft.message.slice(0, draft.message.length - cut + 1) };
    expect(fitErrors(notEnough, bodyOf(notEnough), ctx())).not.toEqual([]);
  });
});
