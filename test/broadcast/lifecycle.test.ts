import { describe, expect, it } from 'vitest';
import { canTransition, isTerminal, mayHavePushed, TRANSITIONS } from '../../src/broadcast/lifecycle.js';
import { REQUEST_STATES } from '../../src/broadcast/types.js';

describe('request lifecycle', () => {
  it('has an entry for every state', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...REQUEST_STATES].sort());
  });

  it('only reaches sending through approved', () => {
    const into = REQUEST_STATES.filter((s) => canTransition(s, 'sending'));
    expect(into).toEqual(['approved']);
  });

  it('never leaves a state where a push may have happened, except to record its result', () => {
    expect(TRANSITIONS.sending).toEqual(['sent', 'failed', 'unknown']);
    for (const s of ['sent', 'unknown'] as const) expect(isTerminal(s)).toBe(true);
    expect(REQUEST_STATES.filter(mayHavePushed)).toEqual(['sending', 'sent', 'unknown']);
  });

  it('lets a pending request be decided, expire or be cancelled, and nothing else', () => {
    expect([...TRANSITIONS.pending].sort()).toEqual(['approved', 'cancelled', 'expired', 'rejected']);
    expect(canTransition('rejected', 'approved')).toBe(false);
    expect(canTransition('failed', 'sending')).toBe(false);
  });
});
