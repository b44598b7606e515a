import { describe, expect, it } from 'vitest';
import { parseButtonValue } from '../../views/context.js';
import { MARK_SENT_CALLBACK_ID, MARK_SENT_TASK_ID, buildMarkSentModal } from '../../views/mark-sent-modal.js';
import { REJECT_MODAL_CALLBACK_ID, REJECT_REASON_ID, buildRejectModal, rejectSummary } from '../../views/reject-modal.js';
import { viewProblems } from './block-kit.js';
import { allTexts, inState, request } from './fixtures.js';

describe('reject modal', () => {
  it('asks for a reason the requester will see; a long or hostile message stays escaped and within limits', () => {
    const r = request({ draft: { message: '<!channel> *x* '.repeat(400) } });
    const v = buildRejectModal({ requestId: r.id, summary: rejectSummary(r) });
    expect(v.callback_id).toBe(REJECT_MODAL_CALLBACK_ID);
    expect(viewProblems(v as never)).toEqual([]);
    const t = allTexts(v.blocks).join('\n');
    expect(t).not.toContain('<!channel>');
    expect(t).toContain('The requester sees this reason');
    expect(v.blocks.some((b) => b.block_id === REJECT_REASON_ID)).toBe(true);
  });
});

describe('mark-sent modal', () => {
  it('names the request and its MsgRandom, carries the card’s value, and asks for an optional TaskId', () => {
    const r = inState('unknown');
    const v = buildMarkSentModal(r);
    expect(v.callback_id).toBe(MARK_SENT_CALLBACK_ID);
    expect(viewProblems(v as never)).toEqual([]);
    expect(allTexts(v.blocks).join('\n')).toContain('MsgRandom `3141592653`');
    expect(parseButtonValue(JSON.parse(v.private_metadata!).value)).toEqual({ requestId: r.id, version: r.version });
    expect(v.blocks.find((b) => b.block_id === MARK_SENT_TASK_ID)).toMatchObject({ optional: true });
  });
});
