import type { InputBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { REJECT_MODAL_CALLBACK_ID, buildRejectModal, rejectSummary } from '../../views/reject-modal.js';
import { allTexts, request } from './fixtures.js';

describe('buildRejectModal', () => {
  const v = buildRejectModal({ requestId: 'req_1', summary: 'Broadcast from <@UREQ1> to *EVERYONE*' });

  it('has the reject chrome within Slack limits', () => {
    expect(v.callback_id).toBe(REJECT_MODAL_CALLBACK_ID);
    expect(v.callback_id).toBe('reject_reason');
    expect(v.title.text).toBe('Reject broadcast');
    expect(v.submit?.text).toBe('Reject');
    for (const t of [v.title.text, v.submit?.text ?? '', v.close?.text ?? '']) expect(t.length).toBeLessThanOrEqual(24);
  });

  it('carries the request id in private_metadata', () => {
    expect(JSON.parse(v.private_metadata ?? '')).toEqual({ requestId: 'req_1' });
  });

  it('asks for a required multiline reason of at most 1000 characters', () => {
    const input = v.blocks.find((b): b is InputBlock => b.type === 'input');
    expect(input?.block_id).toBe('reason');
    expect(input?.optional).toBe(false);
    const el = input?.element as { action_id?: string; multiline?: boolean; max_length?: number; type: string };
    expect(el.type).toBe('plain_text_input');
    expect(el.action_id).toBe('reason');
    expect(el.multiline).toBe(true);
    expect(el.max_length).toBe(1000);
  });

  it('shows the summary', () => {
    expect(allTexts(v.blocks)).toContain('Broadcast from <@UREQ1> to *EVERYONE*');
  });
});

describe('rejectSummary', () => {
  it('escapes the message and names requester and audience', () => {
    const s = rejectSummary(request({ draft: { message: 'Hi <!channel> & co' } }));
    expect(s).toContain('<@UREQ1>');
    expect(s).toContain('*EVERYONE*');
    expect(s).toContain('Hi &lt;!channel&gt; &amp; co');
    expect(s).not.toContain('<!channel>');
  });
});
