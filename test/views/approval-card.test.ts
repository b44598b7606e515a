import type { ActionsBlock, Button, KnownBlock, SectionBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { REQUEST_STATES, type BroadcastRequest, type Explanation } from '../../src/broadcast/types.js';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID, buildApprovalCard } from '../../views/approval-card.js';
import { NOW, allTexts, mrkdwnTexts, quota, request } from './fixtures.js';

const explanation: Explanation = {
  code: 90045,
  title: 'All-member push is not enabled',
  what: 'Your Tencent IM app does not have the all-member push feature turned on.',
  action: 'Enable it in the console under Feature Configuration, then request again.',
  retry: 'no',
};

function card(req: BroadcastRequest, q = quota()) {
  return buildApprovalCard({ request: req, quota: q, now: NOW });
}

function text(blocks: KnownBlock[]): string {
  return allTexts(blocks).join('\n');
}

function actions(blocks: KnownBlock[]): ActionsBlock[] {
  return blocks.filter((b): b is ActionsBlock => b.type === 'actions');
}

function buttons(blocks: KnownBlock[]): Button[] {
  return actions(blocks).flatMap((a) => a.elements.filter((e): e is Button => e.type === 'button'));
}

/** A request in the given state with the details that state carries. */
function inState(state: BroadcastRequest['state']): BroadcastRequest {
  const base = request({ state, approvals: [], sendingAt: '2026-11-27T08:20:00.000Z' });
  switch (state) {
    case 'approved':
    case 'sending':
      return { ...base, approvals: [{ userId: 'UAPP1', at: '2026-11-27T08:19:00.000Z', payloadHash: base.payloadHash }] };
    case 'sent':
      return {
        ...base,
        approvals: [{ userId: 'UAPP1', at: '2026-11-27T08:19:00.000Z', payloadHash: base.payloadHash }],
        result: { kind: 'sent', taskId: '1400123456_144115212910570789_4155518400_15723514', attempts: 1, at: '2026-11-27T08:20:01.000Z' },
      };
    case 'failed':
      return { ...base, result: { kind: 'failed', code: 90045, info: 'feature not open', explanation, attempts: 1, at: '2026-11-27T08:20:01.000Z' } };
    case 'unknown':
      return {
        ...base,
        result: { kind: 'unknown', reason: 'timeout after 10 s', explanation: { ...explanation, code: null, title: 'No answer', retry: 'no' }, attempts: 2, at: '2026-11-27T08:20:11.000Z' },
      };
    case 'rejected':
      return { ...base, decision: { by: 'UAPP2', at: '2026-11-27T08:25:00.000Z', reason: 'Wrong date in the text' } };
    case 'expired':
      return { ...base, decision: { by: 'system', at: '2026-11-28T08:00:00.000Z' } };
    case 'cancelled':
      return { ...base, decision: { by: 'UREQ1', at: '2026-11-27T08:10:00.000Z' } };
    default:
      return base;
  }
}

describe('approval card: handed back to pending', () => {
  it('says an earlier approval did not go through, and offers the buttons again', () => {
    const req = request({
      history: [
        { at: '2026-11-27T08:00:00.000Z', from: null, to: 'pending', by: 'UREQ1' },
        { at: '2026-11-27T08:10:00.000Z', from: 'pending', to: 'approved', by: 'UAPP1' },
        { at: '2026-11-27T08:11:00.000Z', from: 'approved', to: 'pending', note: 'the app restarted before the push left; approve again to send' },
      ],
    });
    const { blocks } = card(req);
    expect(text(blocks)).toContain('An earlier approval did not go through (the app restarted before the push left');
    expect(buttons(blocks).map((b) => b.action_id)).toEqual([APPROVE_ACTION_ID, REJECT_ACTION_ID]);
    expect(text(card(request()).blocks)).not.toContain('did not go through');
  });
});

describe('approval card: pending', () => {
  const { blocks, text: fallback } = card(request());

  it('has Approve and Reject buttons whose value is the request id', () => {
    const acts = actions(blocks);
    expect(acts).toHaveLength(1);
    expect(acts[0]?.block_id).toBe('decision');
    const [approve, reject] = buttons(blocks);
    expect(approve?.action_id).toBe(APPROVE_ACTION_ID);
    expect(approve?.action_id).toBe('approve');
    expect(approve?.style).toBe('primary');
    expect(approve?.value).toBe('req_01JABCDEF');
    expect(reject?.action_id).toBe(REJECT_ACTION_ID);
    expect(reject?.action_id).toBe('reject');
    expect(reject?.style).toBe('danger');
    expect(reject?.value).toBe('req_01JABCDEF');
  });

  it('asks for confirmation before an EVERYONE push', () => {
    const c = buttons(blocks)[0]?.confirm;
    expect(c?.title?.text).toBe('Send this push?');
    expect(c?.text.text).toBe('This sends the message to EVERYONE (every user of the app). It cannot be recalled.');
    expect(c?.confirm?.text).toBe('Push now');
    expect(c?.deny?.text).toBe('Not yet');
  });

  it('warns prominently that it goes to every user', () => {
    expect(text(blocks)).toContain('⚠️ *This goes to EVERY user of the app.*');
  });

  it('shows the request details', () => {
    const t = text(blocks);
    expect(t).toContain('📣 Broadcast request — ⏳ Pending approval');
    expect(t).toContain('<@UREQ1>');
    expect(t).toContain('<!date^1795766400^{date_short_pretty} {time}|2026-11-27T08:00:00.000Z>');
    expect(t).toContain('1 day');
    expect(t).toContain('app admin');
    expect(t).toContain('`req_01JABCDEF`');
    expect(t).toContain('`9f86d081884c`');
    expect(t).not.toContain('9f86d081884c7');
    expect(t).toContain('`3141592653`');
    expect(t).toContain('> Maintenance tonight 22:00–23:00.');
    expect(t).toContain('12 of 100 pushes used today');
  });

  it('has a one-line fallback without the message', () => {
    expect(fallback).toBe('Broadcast request from <@UREQ1> to EVERYONE — pending approval');
    expect(fallback).not.toContain('Maintenance');
  });

  it('describes a tag audience in the confirm dialog and has no EVERYONE warning', () => {
    const req = request({ draft: { audience: { kind: 'tags', all: ['vip'], any: ['beta', 'gamma'] } } });
    const b = card(req).blocks;
    const confirm = buttons(b)[0]?.confirm?.text.text ?? '';
    expect(confirm).toBe(
      'This sends the message to users with ALL of these tags: "vip" AND at least one of: "beta", "gamma". It cannot be recalled.',
    );
    expect(text(b)).not.toContain('EVERY user');
    expect(card(req).text).toBe('Broadcast request from <@UREQ1> to users with 3 tags — pending approval');
  });

  it('keeps the confirm text within 300 characters for a large audience', () => {
    const tags = Array.from({ length: 10 }, (_, i) => `${'长'.repeat(16)}${i}`);
    const req = request({ draft: { audience: { kind: 'tags', all: tags, any: tags.map((t) => `${t}x`) } } });
    const confirm = buttons(card(req).blocks)[0]?.confirm;
    expect(confirm?.text.text.length).toBeLessThanOrEqual(300);
    expect(confirm?.text.text).toMatch(/It cannot be recalled\.$/);
  });

  it('warns when the push body has no condition although tags were requested', () => {
    const req = request({ draft: { audience: { kind: 'tags', all: ['vip'], any: [] } } });
    const bad: BroadcastRequest = { ...req, body: { ...req.body, Condition: undefined } };
    const b = card(bad).blocks;
    expect(text(b)).toContain('This goes to EVERY user of the app.');
    expect(text(b)).toContain('Do not approve');
    expect(buttons(b)[0]?.confirm?.text.text).toMatch(/EVERYONE/);
  });

  it('tells approvers when the quota is used up', () => {
    expect(text(card(request(), quota({ used: 100 })).blocks)).toContain('Approving now will not push');
  });

  it('flags an approval given for a different payload', () => {
    const req = request({ approvals: [{ userId: 'UAPP1', at: '2026-11-27T08:10:00.000Z', payloadHash: 'other' }] });
    expect(text(card(req).blocks)).toContain('for a different payload');
  });
});

describe('approval card: other states', () => {
  it.each(REQUEST_STATES.filter((s) => s !== 'pending'))('%s has no buttons', (state) => {
    const { blocks } = card(inState(state));
    expect(actions(blocks)).toHaveLength(0);
    expect(buttons(blocks)).toHaveLength(0);
  });

  it('the header shows every state', () => {
    for (const s of REQUEST_STATES) {
      const header = card(inState(s)).blocks[0];
      expect(header?.type).toBe('header');
    }
    expect(allTexts(card(inState('sent')).blocks[0])).toEqual(['📣 Broadcast request — 🚀 Sent']);
  });

  it('approved / sending show who approved', () => {
    expect(text(card(inState('approved')).blocks)).toContain('✅ Approved by <@UAPP1> — sending…');
    expect(text(card(inState('sending')).blocks)).toContain('✅ Approved by <@UAPP1> — sending…');
    expect(text(card(inState('sending')).blocks)).toContain('Sending since <!date^');
  });

  it('sent shows the TaskId', () => {
    const { blocks, text: fallback } = card(inState('sent'));
    expect(text(blocks)).toContain('🚀 Sent — TaskId `1400123456_144115212910570789_4155518400_15723514`');
    expect(text(blocks)).toContain('attempts: 1');
    expect(fallback).toBe('Broadcast request from <@UREQ1> to EVERYONE — sent');
  });

  it('failed shows the code, explanation and what to do', () => {
    const t = text(card(inState('failed')).blocks);
    expect(t).toContain('❌ Failed — error 90045: All-member push is not enabled');
    expect(t).toContain(explanation.what);
    expect(t).toContain(explanation.action);
    expect(t).toContain('Nothing was pushed.');
  });

  it('unknown says the push may have gone out and shows MsgRandom', () => {
    const t = text(card(inState('unknown')).blocks);
    expect(t).toContain('❓ Outcome unknown — timeout after 10 s');
    expect(t).toContain('MAY have gone out');
    expect(t).toContain('MsgRandom `3141592653`');
    expect(t).toContain('will not push this again by itself');
  });

  it('rejected shows who and why', () => {
    const t = text(card(inState('rejected')).blocks);
    expect(t).toContain('🚫 Rejected by <@UAPP2>: Wrong date in the text');
  });

  it('rejection reasons are escaped', () => {
    const req = { ...inState('rejected'), decision: { by: 'UAPP2', at: '2026-11-27T08:25:00.000Z', reason: '<!channel> no & no' } };
    const t = text(card(req).blocks);
    expect(t).toContain('&lt;!channel&gt; no &amp; no');
    expect(t).not.toContain('<!channel>');
  });

  it('expired and cancelled say nothing was pushed', () => {
    expect(text(card(inState('expired')).blocks)).toMatch(/⌛ Expired — nobody approved it in time.*Nothing was pushed\./);
    expect(text(card(inState('cancelled')).blocks)).toMatch(/🗑️ Cancelled by <@UREQ1>.*Nothing was pushed\./);
  });
});

describe('approval card: user text is escaped everywhere', () => {
  const evil = '<!channel> & <@U1> <https://evil.example|click>';
  const req = request({
    draft: {
      message: `Hi ${evil}\nsecond line`,
      audience: { kind: 'tags', all: [evil], any: [] },
      sender: evil,
      note: evil,
      offlinePush: { title: evil, desc: evil, ext: evil, apnsSound: evil, androidSound: evil, apnsImage: evil, apnsSubtitle: evil },
    },
  });
  const { blocks, text: fallback } = card(req);

  it('no mrkdwn text contains a raw mention, broadcast or link from user input', () => {
    for (const t of mrkdwnTexts(blocks)) {
      expect(t).not.toContain('<!channel>');
      expect(t).not.toContain('<@U1>');
      expect(t).not.toContain('<https://evil');
    }
    expect(fallback).not.toContain('<!channel>');
  });

  it('shows the escaped text instead', () => {
    const t = text(blocks);
    expect(t).toContain('> Hi &lt;!channel&gt; &amp; &lt;@U1&gt;');
    expect(t).toContain('> second line');
    expect(t).toContain('*Note for the approvers* (not sent)\n&lt;!channel&gt;');
    expect(t).toContain('*Notification title:* &lt;!channel&gt;');
  });
});

describe('approval card: size limits', () => {
  const max = (n: number, c = 'x') => c.repeat(n);
  const fullDraft = (message: string) => ({
    message,
    audience: {
      kind: 'attributes' as const,
      all: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`${max(45)}${i}`, max(50, '&')])),
      any: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`${max(45, 'y')}${i}`, max(50, '<')])),
    },
    lifetimeSeconds: 604800,
    sender: max(200, '&'),
    note: max(1000, '<'),
    offlinePush: {
      title: max(200, '&'),
      desc: max(1000, '&'),
      ext: max(1024, '>'),
      apnsBadgeMode: 1 as const,
      apnsSound: max(200),
      apnsSubtitle: max(200),
      apnsImage: max(1000),
      androidSound: max(200),
    },
  });

  function checkLimits(blocks: KnownBlock[]) {
    expect(blocks.length).toBeLessThan(50);
    expect(JSON.stringify(blocks).length).toBeLessThan(12_000);
    for (const b of blocks) {
      if (b.type === 'section') {
        const s = b as SectionBlock;
        if (s.text) expect(s.text.text.length).toBeLessThanOrEqual(3000);
        expect(s.fields?.length ?? 0).toBeLessThanOrEqual(10);
        for (const f of s.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
      }
      if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(150);
      if (b.type === 'context') expect(b.elements.length).toBeLessThanOrEqual(10);
    }
    for (const btn of buttons(blocks)) {
      expect((btn.value ?? '').length).toBeLessThanOrEqual(2000);
      if (btn.confirm) {
        expect(btn.confirm.text.text.length).toBeLessThanOrEqual(300);
        expect(btn.confirm.title?.text.length ?? 0).toBeLessThanOrEqual(100);
      }
    }
  }

  it('a 3000-character message with every field at its maximum stays within limits, in every state', () => {
    const message = Array.from({ length: 30 }, (_, i) => `${String(i).padStart(2, '0')} ${max(96, '&')}`).join('\n').padEnd(3000, '&').slice(0, 3000);
    expect(message.length).toBe(3000);
    for (const state of REQUEST_STATES) {
      const req = { ...inState(state), draft: fullDraft(message) };
      const { blocks } = card(req);
      checkLimits(blocks);
      const t = text(blocks);
      expect(t).toContain('approving sends the FULL text');
      expect(t).toContain('3000 characters');
    }
  });

  it('says when the preview was truncated, and that the full text is sent', () => {
    const message = max(3000, '&');
    const { blocks } = card({ ...inState('pending'), draft: fullDraft(message) });
    checkLimits(blocks);
    const t = text(blocks);
    expect(t).toContain('(truncated; 3000 characters in full)');
    expect(t).toContain('Approving sends the FULL message: 3000 characters.');
  });

  it('shows an ordinary 3000-character message in full', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${String(i).padStart(2, '0')} ${max(91, 'm')}`);
    const message = lines.join('\n').slice(0, 3000);
    const { blocks } = card(request({ draft: { message } }));
    checkLimits(blocks);
    const t = text(blocks);
    expect(t).not.toContain('truncated');
    for (const l of message.split('\n')) expect(t).toContain(`> ${l}`);
  });

  it('splits a single 3000-character line over sections of ≤ 3000 characters', () => {
    const message = max(3000, 'Z');
    const { blocks } = card(request({ draft: { message } }));
    checkLimits(blocks);
    const shown = allTexts(blocks).filter((t) => t.startsWith('> Z')).join('').replace(/> /g, '');
    expect(shown).toBe(message);
  });
});
