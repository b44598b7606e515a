import { describe, expect, it } from 'vitest';
import { REQUEST_STATES, type BroadcastRequest, type Explanation } from '../../src/broadcast/types.js';
import {
  cancelledReply,
  decisionRefused,
  expiredReply,
  failedReply,
  rejectedReply,
  requesterNotice,
  sentReply,
  submittedNotice,
  unknownReply,
  type RefusalReason,
} from '../../views/result-messages.js';
import { allTexts, mrkdwnTexts, quota, request } from './fixtures.js';

const ex: Explanation = {
  code: 90047,
  title: 'Daily push quota used up',
  what: 'Tencent allows 100 all-member pushes a day for this app.',
  action: 'Wait for the reset at 00:00 Asia/Shanghai or ask Tencent for a higher quota.',
  retry: 'wait',
};

const sent = (): BroadcastRequest =>
  request({ state: 'sent', result: { kind: 'sent', taskId: 'TASK_123', attempts: 2, at: '2026-11-27T08:20:00.000Z' } });
const failed = (): BroadcastRequest =>
  request({ state: 'failed', result: { kind: 'failed', code: 90047, info: 'quota <limit>', explanation: ex, attempts: 1, at: '2026-11-27T08:20:00.000Z' } });
const unknown = (): BroadcastRequest =>
  request({
    state: 'unknown',
    sendingAt: '2026-11-27T08:20:00.000Z',
    result: {
      kind: 'unknown',
      reason: 'connection reset after sending',
      explanation: { code: null, title: 'No answer', what: 'The connection dropped.', action: 'Check the console.', retry: 'no' },
      attempts: 1,
      at: '2026-11-27T08:20:05.000Z',
    },
  });
const rejected = (): BroadcastRequest =>
  request({ state: 'rejected', decision: { by: 'UAPP2', at: '2026-11-27T08:25:00.000Z', reason: 'Typo <@U9> & date' } });

function all(m: { text: string; blocks: unknown[] }): string {
  return [m.text, ...allTexts(m.blocks)].join('\n');
}

describe('thread replies', () => {
  it('sentReply gives the TaskId and attempts', () => {
    const m = sentReply(sent());
    expect(m.text).toBe('🚀 Pushed. TaskId `TASK_123` (attempts 2).');
    expect(all(m)).toContain('Keep the TaskId for audits; Tencent delivers asynchronously, usually within a minute.');
  });

  it('failedReply explains the error and says nothing was pushed', () => {
    const t = all(failedReply(failed()));
    expect(t).toContain('error 90047');
    expect(t).toContain('Daily push quota used up');
    expect(t).toContain(ex.what);
    expect(t).toContain(ex.action);
    expect(t).toContain('Trying again can help later');
    expect(t).toContain('Nothing was pushed.');
    expect(t).toContain('quota &lt;limit&gt;');
  });

  it('failedReply says retrying will not help when it cannot', () => {
    const r = failed();
    if (r.result?.kind !== 'failed') throw new Error('fixture');
    r.result.explanation = { ...ex, retry: 'no' };
    expect(all(failedReply(r))).toContain('will not help');
  });

  it('unknownReply warns the push may have gone out and tells what to check', () => {
    const t = all(unknownReply(unknown()));
    expect(t).toContain('❓ Outcome unknown');
    expect(t).toContain('MAY have gone out');
    expect(t).toContain('<!date^1795767600^');
    expect(t).toContain('MsgRandom: `3141592653`');
    expect(t).toMatch(/Tencent Cloud IM console.*TaskId list/);
    expect(t).toContain('The app will not push this again by itself.');
    expect(t).not.toContain('Nothing was pushed');
  });

  it('failedReply on an unknown outcome does not claim nothing was pushed', () => {
    const r = { ...unknown(), state: 'failed' as const };
    expect(all(failedReply(r))).not.toContain('Nothing was pushed');
  });

  it('rejectedReply names the approver and the escaped reason', () => {
    const t = all(rejectedReply(rejected()));
    expect(t).toContain('🚫 Rejected by <@UAPP2>: Typo &lt;@U9&gt; &amp; date');
    expect(t).not.toContain('<@U9>');
  });

  it('expired and cancelled replies say nothing was pushed', () => {
    expect(all(expiredReply(request({ state: 'expired' })))).toMatch(/⌛ Expired[\s\S]*Nothing was pushed/);
    const c = all(cancelledReply(request({ state: 'cancelled', decision: { by: 'UREQ1', at: '2026-11-27T08:10:00.000Z' } })));
    expect(c).toMatch(/🗑️ Cancelled by <@UREQ1>[\s\S]*Nothing was pushed/);
  });
});

describe('requesterNotice', () => {
  const link = 'https://example.slack.com/archives/C1/p123';

  it('pending: submitted, waiting, with a link to the card', () => {
    const t = all(requesterNotice(request(), { cardPermalink: link }));
    expect(t).toContain('waiting for approval');
    expect(t).toContain(`<${link}|View the request>`);
  });

  it('does not turn a malformed permalink into a link', () => {
    const t = all(requesterNotice(request(), { cardPermalink: 'javascript:alert(1)|x>' }));
    expect(t).not.toContain('javascript:');
  });

  it('sent: TaskId', () => {
    expect(all(requesterNotice(sent()))).toContain('TaskId `TASK_123`');
  });

  it('failed: explanation', () => {
    const t = all(requesterNotice(failed()));
    expect(t).toContain('failed');
    expect(t).toContain(ex.action);
    expect(t).toContain('Nothing was pushed.');
  });

  it('unknown: may have gone out', () => {
    expect(all(requesterNotice(unknown()))).toContain('MAY have gone out');
  });

  it('rejected: who and why', () => {
    const t = all(requesterNotice(rejected()));
    expect(t).toContain('<@UAPP2> rejected your broadcast request');
    expect(t).toContain('Typo &lt;@U9&gt; &amp; date');
  });

  it('expired and cancelled', () => {
    expect(all(requesterNotice(request({ state: 'expired' })))).toContain('expired before anyone approved it');
    expect(all(requesterNotice(request({ state: 'cancelled', decision: { by: 'UADMIN', at: '2026-11-27T08:10:00.000Z' } })))).toContain(
      'was cancelled by <@UADMIN>',
    );
  });

  it('every state produces a non-empty message with sections ≤ 3000 characters', () => {
    for (const s of REQUEST_STATES) {
      const m = requesterNotice(request({ state: s }));
      expect(m.text.length, s).toBeGreaterThan(0);
      expect(m.blocks.length, s).toBeGreaterThan(0);
      for (const t of mrkdwnTexts(m.blocks)) expect(t.length).toBeLessThanOrEqual(3000);
    }
  });
});

describe('decisionRefused', () => {
  it('is_requester says why and who can', () => {
    expect(decisionRefused('is_requester')).toBe("You asked for this broadcast, so you can't approve it. Another approver must.");
  });

  it.each<[RefusalReason, RegExp]>([
    ['not_approver', /not one of the broadcast approvers/],
    ['unknown_request', /wasn't found/],
    ['quota_exhausted', /quota is used up/],
    ['store_unavailable', /couldn't reach its database/],
    ['stale_payload', /changed after this card was shown/],
    ['already_decided', /already decided/],
  ])('%s explains the reason', (reason, re) => {
    expect(decisionRefused(reason)).toMatch(re);
  });

  it('gives a distinct message for each reason', () => {
    const reasons: RefusalReason[] = [
      'not_approver',
      'is_requester',
      'already_decided',
      'unknown_request',
      'quota_exhausted',
      'store_unavailable',
      'stale_payload',
    ];
    expect(new Set(reasons.map((r) => decisionRefused(r))).size).toBe(reasons.length);
  });

  it('already_decided names who and the state', () => {
    const t = decisionRefused('already_decided', { state: 'sent', by: 'UAPP1' });
    expect(t).toContain('<@UAPP1>');
    expect(t).toContain('🚀 Sent');
  });

  it('quota_exhausted includes the quota line', () => {
    expect(decisionRefused('quota_exhausted', { quota: quota({ used: 100 }) })).toContain('100 of 100');
  });
});

describe('submittedNotice', () => {
  it('says where the request went', () => {
    const m = submittedNotice(request(), { channelId: 'C0APPROVALS' });
    expect(m.text).toBe('📨 Your broadcast request was sent for approval in <#C0APPROVALS>.');
    expect(all(m)).toContain('`req_01JABCDEF`');
  });
});
