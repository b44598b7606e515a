import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { owesDm } from '../../src/broadcast/lifecycle.js';
import type { BroadcastRequest, Refusal } from '../../src/broadcast/types.js';
import { SANDBOX_BANNER } from '../../views/context.js';
import { helpText, refusalText, requesterMessage, statusAnswer, statusList } from '../../views/replies.js';
import { messageProblems } from './block-kit.js';
import { ALL_STATES, APPROVER, NOW, PERMALINK, TASK_ID, allTexts, ctx, inState, literalTexts, quota, request } from './fixtures.js';

const text = (blocks: KnownBlock[]) => allTexts(blocks).join('\n');
const dm = (r: BroadcastRequest, c = ctx()) => requesterMessage(r, r.history.length - 1, c);
const lines = (blocks: KnownBlock[]) => (blocks.find((b) => b.type === 'section') as { text: { text: string } }).text.text.split('\n');

describe('direct messages to the requester', () => {
  const owed = ALL_STATES.map((s) => inState(s)).filter((r) => owesDm(r, r.history.length - 1));

  it('cover every event that owes one', () => {
    expect(owed.map((r) => r.history.at(-1)!.kind).sort()).toEqual(['expired', 'failed', 'marked_not_sent', 'rejected', 'scheduled', 'sent', 'submitted', 'unknown']);
  });

  it.each(owed.map((r) => [r.history.at(-1)!.kind, r] as const))('%s: one or two lines, links the card, within limits', (_kind, r) => {
    const m = dm(r);
    expect(messageProblems(m)).toEqual([]);
    expect(lines(m.blocks).length).toBeLessThanOrEqual(2);
    if (r.history.at(-1)!.kind !== 'cancelled') expect(text(m.blocks)).toContain(`<${PERMALINK}|`);
    expect(m.text).toContain('Your broadcast to everyone');
  });

  it('submitted: names who can approve (users and groups), links the card, promises only what comes', () => {
    const m = dm(request());
    const t = text(m.blocks);
    expect(t).toContain(`is waiting for approval in <#C0APPROVALS>: <${PERMALINK}|see its card>`);
    expect(t).toContain('It needs 1 approval from <@U0APP1> <@U0APP2> <!subteam^S0APPROVERS> (never your own)');
    expect(t).toContain('I’ll message you here when it is sent (with its TaskId), rejected, fails or expires.');
    expect(t).not.toMatch(/approved\b.*I’ll|when it is approved/);
  });

  it('failed: the code and a link to the thread; the operator’s instructions and Tencent’s words are not here', () => {
    const t = text(dm(inState('failed')).blocks);
    expect(t).toContain('failed with error 90045: All-member push is not enabled. Nothing was pushed.');
    expect(t).toContain(`What happened and what to do: <${PERMALINK}|the card’s thread>.`);
    expect(t).not.toMatch(/Tencent said|Feature Configuration/);
  });

  it('sent: the TaskId', () => {
    expect(text(dm(inState('sent')).blocks)).toContain(`TaskId \`${TASK_ID}\``);
  });

  it('scheduled: the time as a Slack date and "scheduled"', () => {
    expect(text(dm(inState('scheduled')).blocks)).toMatch(/it will be pushed <!date\^\d+\^.*\(scheduled\)/);
  });

  it('rejected: the reason as typed, literally', () => {
    const m = dm(inState('rejected'));
    expect(literalTexts(m.blocks)).toContain('Wrong date: it is *tomorrow* <!here>, not tonight.');
    expect(messageProblems(m)).toEqual([]);
  });

  it('cancelled by someone else: the requester is told who', () => {
    const s = inState('scheduled');
    const r = { ...s, state: 'cancelled' as const, decision: { by: APPROVER, at: NOW.toISOString() }, history: [...s.history, { kind: 'cancelled' as const, at: NOW.toISOString(), from: 'scheduled' as const, to: 'cancelled' as const, by: APPROVER }] };
    expect(owesDm(r, r.history.length - 1)).toBe(true);
    expect(text(dm(r).blocks)).toContain('was cancelled by <@U0APP1> <!date^');
  });

  it('sandbox: says so in the blocks and the fallback', () => {
    const m = dm(request(), ctx({ sandbox: true }));
    expect(text(m.blocks)).toContain(SANDBOX_BANNER);
    expect(m.text).toContain(SANDBOX_BANNER);
  });

  it('no card link yet: the words stay, no broken link', () => {
    const t = text(dm(request({ card: undefined })).blocks);
    expect(t).toContain('see its card');
    expect(t).not.toContain('<https');
  });
});

describe('refusals', () => {
  const ALL: Refusal[] = [
    'not_approver',
    'is_requester',
    'not_requester',
    'already_decided',
    'already_approved_by_you',
    'unknown_request',
    'quota_exhausted',
    'store_unavailable',
    'store_uncertain',
    'stale_version',
    'expired',
    'send_time_passed',
    'not_unknown',
  ];

  it.each(ALL)('%s: short, specific, says nothing changed', (refusal) => {
    const t = refusalText(refusal, { request: inState('sent'), quota: quota({ used: 100 }) });
    expect(t.length).toBeLessThan(250);
    expect(t).toMatch(/[Nn]othing (changed|was pushed)|no(t|thing) .*twice|cannot tell yet|out of date/);
  });

  it('already decided names the state and who decided', () => {
    expect(refusalText('already_decided', { request: inState('rejected') })).toBe('This request is already rejected (by <@U0APP2>), so nothing changed. A request is never pushed twice.');
    expect(refusalText('already_decided', { request: inState('expired') })).not.toContain('system');
  });

  it('quota: the numbers and when it resets', () => {
    expect(refusalText('quota_exhausted', { quota: quota({ used: 100 }) })).toContain('100 of 100 pushes used today (2026-11-27); resets at 00:00 Asia/Shanghai');
  });

  it('approved already: how many more are needed', () => {
    const r = { ...request({ requiredApprovals: 3 }), approvals: [{ userId: APPROVER, at: NOW.toISOString(), version: 'v' }] };
    expect(refusalText('already_approved_by_you', { request: r })).toContain('needs 2 more approvals');
  });
});

describe('/broadcast status', () => {
  it('one request: state, audience, who and when, TaskId, link, history', () => {
    const t = statusAnswer(inState('sent'), { now: NOW });
    expect(t).toContain(`*Request \`br-abcdefghjk\`*: Sent ✅ (<${PERMALINK}|card>)`);
    expect(t).toContain('Requested by <@U0REQ1> <!date^');
    expect(t).toContain('Approved by <@U0APP1> <!date^');
    expect(t).toContain(`TaskId \`${TASK_ID}\``);
    expect(t).toMatch(/\*History:\*\n• <!date\^.*submitted by <@U0REQ1>/);
    expect(t.length).toBeLessThanOrEqual(3000);
  });

  it('failed: the error explained; scheduled: when it goes out', () => {
    expect(statusAnswer(inState('failed'), { now: NOW })).toContain('error 90045: All-member push is not enabled');
    expect(statusAnswer(inState('scheduled'), { now: NOW })).toMatch(/Scheduled: it will be pushed <!date\^/);
  });

  it('a long history is summarised, never beyond Slack’s limit', () => {
    const r = inState('pending');
    const many = { ...r, history: Array.from({ length: 40 }, (_, i) => ({ ...r.history[0]!, kind: 'approval' as const, at: new Date(NOW.getTime() + i * 1000).toISOString(), by: APPROVER })) };
    const t = statusAnswer(many, { now: NOW });
    expect(t).toContain('25 earlier events');
    expect(t.length).toBeLessThanOrEqual(3000);
  });

  it('the asker’s recent requests; none yet', () => {
    const t = statusList([inState('sent'), inState('scheduled')]);
    expect(t).toContain('`br-abcdefghjk` Sent ✅: to *everyone*');
    expect(t).toMatch(/goes out <!date\^/);
    expect(t).toContain('`/broadcast status &lt;request id or TaskId&gt;`');
    expect(statusList([])).toContain('no broadcast requests yet');
  });
});

describe('/broadcast help', () => {
  it('escapes its own examples, names the approvers and links the channel', () => {
    const t = helpText(ctx());
    expect(t).toContain('`/broadcast &lt;text&gt;`');
    expect(t).not.toMatch(/<text>|<request id/);
    expect(t).toContain('Approvers: <@U0APP1> <@U0APP2> <!subteam^S0APPROVERS>. Approval cards go to <#C0APPROVALS>.');
    expect(helpText(ctx({ sandbox: true }))).toContain(SANDBOX_BANNER);
  });
});
