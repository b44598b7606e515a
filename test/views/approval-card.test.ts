import { createHash } from 'node:crypto';
import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { BroadcastRequest, RequestState } from '../../src/broadcast/types.js';
import { approverMentions, buildApprovalCard, cardFallbackText, firstWords, isDecided } from '../../views/approval-card.js';
import { ACTIONS, SANDBOX_BANNER, parseButtonValue } from '../../views/context.js';
import { messageProblems } from './block-kit.js';
import { ALL_STATES, APPROVER, APPROVER_2, NOW, REQUESTER, TASK_ID, allTexts, ctx, inState, literalTexts, mrkdwnTexts, quota, request } from './fixtures.js';

const text = (blocks: KnownBlock[]) => allTexts(blocks).join('\n');
const buttons = (blocks: KnownBlock[]) => blocks.filter((b): b is ActionsBlock => b.type === 'actions').flatMap((a) => a.elements as Button[]);
const actionIds = (blocks: KnownBlock[]) => buttons(blocks).map((b) => b.action_id);
const header = (blocks: KnownBlock[]) => (blocks[0] as { text: { text: string } }).text.text;

/** Plain sections joined: the message as the card shows it. */
function shownMessage(blocks: KnownBlock[]): string {
  return blocks
    .filter((b) => b.type === 'section' && (b as { text?: { type: string } }).text?.type === 'plain_text')
    .map((b) => (b as { text: { text: string } }).text.text)
    .join('');
}

const OPEN: RequestState[] = ['pending', 'scheduled'];

describe('approval card in every state', () => {
  it.each(ALL_STATES)('%s: within Slack limits, metadata scalar, fallback meaningful, message in full', (state) => {
    const req = inState(state);
    const card = buildApprovalCard(req, ctx());
    expect(messageProblems(card)).toEqual([]);
    expect(card.metadata.event_type).toBe('broadcast_request');
    expect(card.metadata.event_payload).toMatchObject({ request_id: req.id, state, requester: REQUESTER, audience_kind: 'all', payload_sha256: req.payloadHash, msg_random: req.body.MsgRandom });
    expect(shownMessage(card.blocks)).toBe(req.draft.message);
    // The state in words first, then its one emoji; then the audience and the first words.
    expect(header(card.blocks)).toMatch(/^[A-Z][a-z ,]+ \S+ · Everyone · “Server maintenance tonight/);
    expect(card.text).toContain('broadcast to everyone from <@U0REQ1>');
    // One context line at the bottom with the technical details.
    const last = card.blocks.at(-1)!;
    expect(last.type).toBe('context');
    expect(text([last])).toBe(`Request \`${req.id}\` · payload version \`${req.version}\` · MsgRandom \`${req.body.MsgRandom}\``);
  });

  it.each(ALL_STATES)('%s: a decided card keeps the record and drops what is about the future', (state) => {
    const all = text(buildApprovalCard(inState(state), ctx()).blocks);
    const future = ['This goes to every user of the app', 'Quota:', 'Notification preview', 'Audience size'];
    for (const words of future) {
      if (OPEN.includes(state)) {
        if (words !== 'Quota:' || state === 'pending') expect(all).toContain(words);
      } else expect(all).not.toContain(words);
    }
  });

  it('sandbox: the banner leads the card and the fallback says it', () => {
    for (const state of ALL_STATES) {
      const card = buildApprovalCard(inState(state), ctx({ sandbox: true }));
      expect(text(card.blocks.slice(1, 2))).toContain(SANDBOX_BANNER);
      expect(card.text).toContain(SANDBOX_BANNER);
      expect(card.metadata.event_payload.sandbox).toBe(true);
    }
    expect(text(buildApprovalCard(request(), ctx()).blocks)).not.toContain(SANDBOX_BANNER);
  });

  it('labels are words first, one emoji at most', () => {
    for (const state of ALL_STATES) {
      const h = header(buildApprovalCard(inState(state), ctx()).blocks);
      const label = h.split(' · ')[0]!;
      expect(label).toMatch(/^[A-Z][a-z]+/);
      expect([...label.matchAll(/\p{Extended_Pictographic}/gu)].length).toBeLessThanOrEqual(1);
    }
  });
});

describe('the message, as users will read it', () => {
  it('is plain text in full, never interpreted: markup, mentions and links stay as typed', () => {
    const message = '*bold* _it_ <!channel> <https://evil.example|click> & ~gone~ `code`\n'.repeat(60) + '末尾';
    const card = buildApprovalCard(request({ draft: { message } }), ctx());
    expect(shownMessage(card.blocks)).toBe(message);
    expect(messageProblems(card)).toEqual([]);
    // Nowhere in mrkdwn does the user's text become markup.
    for (const t of mrkdwnTexts(card.blocks)) expect(t).not.toMatch(/<!channel>|<https:\/\/evil/);
  });

  it('a message longer than a section is split at Slack’s limit (at a line break), nothing cut', () => {
    const message = `${'界'.repeat(1999)}\n${'😀'.repeat(1000)}`;
    const card = buildApprovalCard(request({ draft: { message } }), ctx());
    const parts = card.blocks.filter((b) => b.type === 'section' && (b as any).text.type === 'plain_text').map((b) => (b as any).text.text as string);
    expect(parts.length).toBe(2);
    expect(parts[0]).toBe(`${'界'.repeat(1999)}\n`);
    expect(parts.join('')).toBe(message);
    expect(messageProblems(card)).toEqual([]);
  });

  it('every notification field the push carries is shown in full, as pushed', () => {
    const ext = JSON.stringify({ url: 'app://news/1', note: 'x'.repeat(900) });
    const req = request({ draft: { offlinePush: { title: 'Heads up <!here>', desc: 'Down 22:00–23:00 *tonight*', ext, apnsBadgeMode: 1, apnsSound: 'alert.caf', androidSound: 'alert', apnsImage: 'https://img.example/a.png' } } });
    const card = buildApprovalCard(req, ctx());
    const literal = literalTexts(card.blocks).join('');
    for (const row of [
      'Notification title: Heads up <!here>',
      'Notification text: Down 22:00–23:00 *tonight*',
      `Data for the app (JSON): ${ext}`,
      'iOS badge: not increased',
      'iOS sound: alert.caf',
      'Android sound: alert',
      'iOS image: https://img.example/a.png',
    ])
      expect(literal).toContain(row);
    expect(messageProblems(card)).toEqual([]);
  });
});

describe('notification preview on the card', () => {
  it('shows iPhone and Android as plain text, and warns where Desc replaces the text and the lock screen cuts', () => {
    const req = request({ draft: { message: 'M'.repeat(300), offlinePush: { title: 'Title', desc: 'Short desc' } } });
    const all = text(buildApprovalCard(req, ctx()).blocks);
    expect(all).toContain('iPhone: Title — Short desc');
    expect(all).toContain('Android: Title — Short desc');
    expect(all).toContain('shows the *notification text*, not the message');
    const long = text(buildApprovalCard(request({ draft: { message: 'Word '.repeat(80) } }), ctx()).blocks);
    expect(long).toMatch(/lock screen cuts the text: about 150 characters show on iPhones and 240 on Android/);
  });

  it('warns that a push not stored offline reaches only people online', () => {
    expect(text(buildApprovalCard(request({ draft: { lifetimeSeconds: 0 } }), ctx()).blocks)).toContain('only people online at that moment receive it');
  });
});

describe('audience', () => {
  it('everyone: up to N registered users, from Tencent’s getappinfo', () => {
    expect(text(buildApprovalCard(request(), ctx({ audienceSize: { count: 4321, date: '2026-11-26' } })).blocks)).toContain('up to 4,321 registered users (Tencent’s count for 2026-11-26)');
    expect(text(buildApprovalCard(request(), ctx({ audienceSize: 'unknown' })).blocks)).toContain('Tencent did not say how many right now');
  });

  it('tags and attributes: every one in full, and Tencent offers no count', () => {
    const tags = request({ draft: { audience: { kind: 'tags', all: ['vip', 'beta'], any: ['城市-深圳'] } } });
    const t = text(buildApprovalCard(tags, ctx()).blocks);
    expect(t).toContain('users with *all* of these tags: `vip`, `beta` *and* at least one of: `城市-深圳`');
    expect(t).toContain('Tencent offers no count');
    expect(header(buildApprovalCard(tags, ctx()).blocks)).toContain(' · Users with tags · ');
    const name = 'n'.repeat(50);
    const attrs = request({ draft: { audience: { kind: 'attributes', all: { [name]: 'v'.repeat(50) }, any: {} } } });
    expect(text(buildApprovalCard(attrs, ctx()).blocks)).toContain(`\`${name} = ${'v'.repeat(50)}\``);
    expect(buildApprovalCard(attrs, ctx()).metadata.event_payload.audience_kind).toBe('attributes');
  });
});

describe('buttons', () => {
  it('pending: approve, reject, edit, cancel, each with an accessibility label and the payload version', () => {
    const req = request();
    const b = buttons(buildApprovalCard(req, ctx()).blocks);
    expect(b.map((x) => x.action_id)).toEqual([ACTIONS.approve, ACTIONS.reject, ACTIONS.edit, ACTIONS.cancel]);
    for (const x of b) {
      expect(parseButtonValue(x.value)).toEqual({ requestId: req.id, version: req.version });
      expect(x.accessibility_label).toContain(req.id);
    }
    expect(b[0]!.accessibility_label).toBe(`Approve broadcast ${req.id} to everyone`);
    expect(b[0]!.confirm?.text.text).toContain('every user of the app (up to 12,345 registered users)');
  });

  it('quota used up: no Approve button, and the card says until when', () => {
    const card = buildApprovalCard(request(), ctx({ quota: quota({ used: 100 }) }));
    expect(actionIds(card.blocks)).toEqual([ACTIONS.reject, ACTIONS.edit, ACTIONS.cancel]);
    expect(text(card.blocks)).toContain('It cannot be approved until the quota resets* at 00:00 Asia/Shanghai');
    // Tencent said 90047 although our count is lower: the same.
    expect(actionIds(buildApprovalCard(request(), ctx({ quota: quota({ used: 3, exhausted: true }) })).blocks)).not.toContain(ACTIONS.approve);
    // A scheduled request counts against the day it goes out: it can still be approved.
    expect(actionIds(buildApprovalCard(request({ draft: { sendAt: '2026-11-28T01:00:00.000Z' } }), ctx({ quota: quota({ used: 100 }) })).blocks)).toContain(ACTIONS.approve);
  });

  it('quiet hours: approve holds, and a second button sends now with its own confirm', () => {
    const card = buildApprovalCard(request(), ctx({ quietHours: { startMinute: 0, endMinute: 23 * 60 + 59 } }));
    const b = buttons(card.blocks);
    expect(b.map((x) => x.action_id)).toEqual([ACTIONS.approve, ACTIONS.approveNow, ACTIONS.reject, ACTIONS.edit, ACTIONS.cancel]);
    expect(b[1]!.confirm?.title?.text).toBe('Send now anyway?');
  });

  it.each([
    ['scheduled', [ACTIONS.edit, ACTIONS.cancel]],
    ['approved', []],
    ['sending', []],
    ['sent', []],
    ['unknown', [ACTIONS.markSent, ACTIONS.markNotSent]],
    ['failed', [ACTIONS.requestAgain]],
    ['rejected', [ACTIONS.requestAgain]],
    ['expired', [ACTIONS.requestAgain]],
    ['cancelled', [ACTIONS.requestAgain]],
    ['not_sent', [ACTIONS.requestAgain]],
  ] as const)('%s: %j', (state, ids) => {
    expect(actionIds(buildApprovalCard(inState(state), ctx()).blocks)).toEqual(ids);
  });
});

describe('who, what, when and the outcome', () => {
  const of = (state: RequestState, req = inState(state)) => text(buildApprovalCard(req, ctx()).blocks);

  it('pending: requested by whom and when, approvals so far', () => {
    const req = { ...request({ requiredApprovals: 2 }), approvals: [{ userId: APPROVER, at: '2026-11-27T08:05:00.000Z', version: 'x' }] };
    const t = of('pending', req);
    expect(t).toContain('Requested by <@U0REQ1> <!date^');
    expect(t).toContain('*Approvals:* 1 of 2 — <@U0APP1> <!date^');
  });

  it('scheduled: the send time as a Slack date, and "scheduled"', () => {
    const t = of('scheduled');
    expect(t).toMatch(/\*Send time:\* <!date\^\d+\^[^|]+\|2026-11-28 01:00 UTC> \(scheduled/);
    expect(t).toMatch(/it will be pushed <!date\^/);
  });

  it('held for the quiet hours: says so, with the hours and when it goes out, and offers “send now anyway”', () => {
    const req = { ...inState('pending'), state: 'scheduled' as const, approvals: [{ userId: APPROVER, at: NOW.toISOString(), version: 'v' }], scheduledFor: '2026-11-28T00:00:00.000Z', holdReason: 'quiet_hours' as const };
    const card = buildApprovalCard(req, ctx({ quietHours: { startMinute: 22 * 60, endMinute: 8 * 60 } }));
    expect(text(card.blocks)).toMatch(/held for the quiet hours \(22:00–08:00 Asia\/Shanghai\): it will be pushed <!date\^\d+\^[^>]+>, when they end/);
    expect(actionIds(card.blocks)).toEqual([ACTIONS.approveNow, ACTIONS.edit, ACTIONS.cancel]);
  });

  it('sent: the TaskId and who approved', () => {
    const t = of('sent');
    expect(t).toContain(`TaskId \`${TASK_ID}\`. Approved by <@U0APP1>`);
    expect(buildApprovalCard(inState('sent'), ctx()).metadata.event_payload.task_id).toBe(TASK_ID);
    expect(buildApprovalCard(inState('sent'), ctx()).text).toContain(`TaskId ${TASK_ID}`);
  });

  it('failed: code and title, what happened with "Tencent said" once, what to do left to the thread', () => {
    const t = of('failed');
    expect(t).toContain('error 90045: All-member push is not enabled. Nothing was pushed.');
    expect(t.match(/Tencent said/g)).toHaveLength(1);
    expect(t).toContain('What to do is in the thread below.');
    expect(t).not.toContain('Feature Configuration');
    expect(buildApprovalCard(inState('failed'), ctx()).metadata.event_payload.error_code).toBe(90045);
  });

  it('rejected: who, when and the reason as typed', () => {
    const card = buildApprovalCard(inState('rejected'), ctx());
    expect(text(card.blocks)).toContain('by <@U0APP2> <!date^');
    expect(literalTexts(card.blocks)).toContain('Wrong date: it is *tomorrow* <!here>, not tonight.');
    expect(card.metadata.event_payload).toMatchObject({ decided_by: APPROVER_2 });
  });

  it('expired, cancelled, unknown, not sent', () => {
    expect(of('expired')).toContain('nobody approved it in time. Nothing was pushed.');
    expect(of('cancelled')).toContain('by <@U0REQ1> <!date^');
    expect(of('unknown')).toContain('the push *may* have gone out');
    expect(of('not_sent')).toContain('marked it as not sent');
  });

  it('edited and handed back: says so, approvals reset', () => {
    const base = request();
    const edited = { ...base, history: [...base.history, { kind: 'edited' as const, at: '2026-11-27T08:07:00.000Z', from: 'pending' as const, to: 'pending' as const, by: REQUESTER, version: base.version }] };
    expect(of('pending', edited)).toContain('Edited by <@U0REQ1> <!date^');
    const back = { ...base, history: [...base.history, { kind: 'handed_back' as const, at: '2026-11-27T08:09:00.000Z', from: 'approved' as const, to: 'pending' as const, note: 'the quota was used up' }] };
    expect(of('pending', back)).toContain('An earlier approval did not go through');
  });

  it('a duplicate of a recent push is flagged with a link to the earlier card, only while it is open', () => {
    const dup = { id: 'br-earlier0000', sentAt: '2026-11-26T09:00:00.000Z', taskId: 'T1', card: { channel: 'C0APPROVALS', ts: '1.2', permalink: 'https://team.slack.com/archives/C0APPROVALS/p12' } };
    expect(of('pending', request({ duplicateOf: dup }))).toContain('The same message was already pushed to this audience');
    expect(of('pending', request({ duplicateOf: dup }))).toContain('<https://team.slack.com/archives/C0APPROVALS/p12|its card>');
    expect(of('sent', { ...inState('sent'), duplicateOf: dup })).not.toContain('already pushed');
  });

  it('the approvers’ note is shown as typed, and marked as never sent', () => {
    const card = buildApprovalCard(request({ draft: { note: 'Ops asked <@U0BOSS> *today*' } }), ctx());
    expect(literalTexts(card.blocks)).toEqual(expect.arrayContaining(['Note for the approvers (not sent): ', 'Ops asked <@U0BOSS> *today*']));
  });
});

describe('metadata', () => {
  it('holds scalars only and no secret, for every state', () => {
    for (const state of ALL_STATES) {
      const p = buildApprovalCard(inState(state), ctx()).metadata.event_payload;
      for (const v of Object.values(p)) expect(['string', 'number', 'boolean']).toContain(typeof v);
      expect(JSON.stringify(p)).not.toMatch(/xox|secret|UserSig/i);
    }
  });

  it('names the approvers, the send time and the resolution when there are some', () => {
    expect(buildApprovalCard(inState('sent'), ctx()).metadata.event_payload.approvers).toBe(APPROVER);
    expect(buildApprovalCard(inState('scheduled'), ctx()).metadata.event_payload.send_at).toBe('2026-11-28T01:00:00.000Z');
    expect(buildApprovalCard(inState('not_sent'), ctx()).metadata.event_payload).toMatchObject({ resolved_as: 'not_sent', resolved_by: APPROVER_2 });
  });
});

describe('fallback text', () => {
  it('the first post names the approvers, users and groups, so they are notified', () => {
    const t = cardFallbackText(request(), approverMentions(ctx()), ctx());
    expect(t.startsWith('<@U0APP1> <@U0APP2> <!subteam^S0APPROVERS>: a broadcast needs your approval. Pending approval: broadcast to everyone from <@U0REQ1>')).toBe(true);
    expect(messageProblems({ text: t, blocks: [] })).toEqual([]);
  });

  it('escapes what the requester typed, so it can never notify anyone', () => {
    const t = buildApprovalCard(request({ draft: { message: '<!channel> look' } }), ctx()).text;
    expect(t).toContain('“&lt;!channel&gt; look”');
    expect(t).not.toContain('<!channel>');
  });

  it('first words: one line, cut with an ellipsis only when longer', () => {
    expect(firstWords('a\n b   c')).toBe('a b c');
    expect(firstWords('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});

it('isDecided: every state where the card keeps only the record', () => {
  expect(ALL_STATES.filter(isDecided)).toEqual(['sent', 'failed', 'rejected', 'expired', 'cancelled', 'unknown', 'not_sent']);
});

it('the sha256 in metadata is the sha256 of the body that is pushed', async () => {
  const { canonicalJson } = await import('../../src/tim/push-body.js');
  const req: BroadcastRequest = request();
  expect(buildApprovalCard(req, ctx({ now: NOW })).metadata.event_payload.payload_sha256).toBe(createHash('sha256').update(canonicalJson(req.body)).digest('hex'));
});
