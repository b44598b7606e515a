import { createHash } from 'node:crypto';
import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { LIFECYCLE } from '../../src/broadcast/lifecycle.js';
import type { BroadcastRequest, EventKind, HistoryEntry } from '../../src/broadcast/types.js';
import { canonicalJson } from '../../src/tim/push-body.js';
import { SANDBOX_BANNER } from '../../views/context.js';
import { plainFallback, threadEntry } from '../../views/thread.js';
import { messageProblems } from './block-kit.js';
import { APPROVER, REQUESTER, TASK_ID, allTexts, ctx, inState, literalTexts, request } from './fixtures.js';

const text = (blocks: KnownBlock[]) => allTexts(blocks).join('\n');
const last = (r: BroadcastRequest) => threadEntry(r, r.history.length - 1, ctx());

/** A request whose history ends with one event of `kind` (and the record that event leaves). */
function withEvent(kind: EventKind): BroadcastRequest {
  const base = request();
  const e = (over: Partial<HistoryEntry>): BroadcastRequest => ({ ...base, history: [...base.history, { kind, at: '2026-11-27T08:40:00.000Z', from: 'pending', to: 'pending', ...over }] });
  switch (kind) {
    case 'submitted':
      return base;
    case 'edited':
      return e({ by: REQUESTER, version: base.version });
    case 'approval':
      return e({ by: APPROVER, version: base.version, count: 1, required: 2 });
    case 'approved':
      return inState('approved');
    case 'scheduled':
      return inState('scheduled');
    case 'sent':
      return inState('sent');
    case 'failed':
      return inState('failed');
    case 'unknown':
      return inState('unknown');
    case 'marked_not_sent':
      return inState('not_sent');
    case 'marked_sent': {
      const u = inState('unknown');
      return { ...u, state: 'sent', resolution: { kind: 'sent', by: APPROVER, at: '2026-11-27T08:40:00.000Z', taskId: TASK_ID }, history: [...u.history, { kind, at: '2026-11-27T08:40:00.000Z', from: 'unknown', to: 'sent', by: APPROVER, taskId: TASK_ID }] };
    }
    case 'rejected':
      return inState('rejected');
    case 'expired':
      return inState('expired');
    case 'cancelled':
      return inState('cancelled');
    case 'handed_back':
      return e({ note: 'the lease ran out before the push left' });
    case 'late':
      return e({ note: '4000' });
    case 'requested_again':
      return e({ by: REQUESTER, otherId: 'br-newone0000' });
    case 'delivery_ended':
      return e({ target: 'dm', note: 'user_not_found' });
    default:
      return e({ by: APPROVER });
  }
}

const OWED = (Object.keys(LIFECYCLE) as EventKind[]).filter((k) => LIFECYCLE[k].thread);

describe('thread entries: one per event, each with who and a Slack date', () => {
  it.each(OWED)('%s', (kind) => {
    const r = withEvent(kind);
    const m = last(r);
    expect(r.history.at(-1)!.kind).toBe(kind);
    expect(messageProblems(m)).toEqual([]);
    const t = text(m.blocks);
    expect(t).toMatch(/<!date\^\d+\^\{date_short_pretty\} \{time\}\|\d{4}-\d\d-\d\d \d\d:\d\d UTC>/);
    if (r.history.at(-1)!.by) expect(t).toContain(`<@${r.history.at(-1)!.by}>`);
    // The fallback is a whole sentence naming the request, no markup.
    expect(m.text).toContain(r.id);
    expect(m.text.replace(/“[^”]*”/g, '“…”')).not.toMatch(/<!date|\*|`/);
  });

  it('submitted: the exact body as canonical JSON, and the sha256 of exactly that text', () => {
    const r = request({ draft: { message: 'Line 1\n"quoted" <!channel> 界' } });
    const m = threadEntry(r, 0, ctx());
    const json = literalTexts(m.blocks).find((t) => t.startsWith('{'))!;
    expect(json).toBe(canonicalJson(r.body));
    expect(JSON.parse(json)).toEqual(r.body);
    const sha = createHash('sha256').update(json).digest('hex');
    expect(sha).toBe(r.payloadHash);
    expect(text(m.blocks)).toContain(`sha256 of the JSON above: \`${sha}\``);
    expect(text(m.blocks)).toContain(`payload version \`${r.version}\``);
  });

  it('edited: the new exact body; an entry whose version was replaced says so instead of showing a body it no longer has', () => {
    const r = withEvent('edited');
    expect(literalTexts(last(r).blocks)).toContain(canonicalJson(r.body));
    const stale = { ...r, history: r.history.map((h, i) => (i === 0 ? { ...h, version: 'older0000000' } : h)) };
    const first = threadEntry(stale, 0, ctx());
    expect(text(first.blocks)).toContain('the exact push is in the edit’s entry below');
    expect(literalTexts(first.blocks).some((t) => t.startsWith('{'))).toBe(false);
  });

  it('failed: the operator’s instructions are here, with "Tencent said" once', () => {
    const t = text(last(inState('failed')).blocks);
    expect(t).toContain('*What to do:* Turn it on in the Tencent Cloud IM console');
    expect(t.match(/Tencent said/g)).toHaveLength(1);
  });

  it('unknown: why, the MsgRandom to look for, and how an approver settles it', () => {
    const t = text(last(inState('unknown')).blocks);
    expect(t).toContain('MsgRandom `3141592653`');
    expect(t).toContain('“It went out” or “It did not go out”');
  });

  it('rejected: the reason exactly as typed, never interpreted; escaped in the fallback', () => {
    const m = last(inState('rejected'));
    expect(literalTexts(m.blocks)).toContain('Wrong date: it is *tomorrow* <!here>, not tonight.');
    expect(m.text).toContain('&lt;!here&gt;');
    expect(m.text).not.toContain('<!here>');
  });

  it('sent: the TaskId; approval: n of m and the payload version', () => {
    expect(text(last(inState('sent')).blocks)).toContain(`TaskId \`${TASK_ID}\``);
    expect(text(last(withEvent('approval')).blocks)).toMatch(/\*Approval 1 of 2\* by <@U0APP1> <!date\^.*payload version `[0-9a-f]{12}`/);
  });

  it('sandbox: every entry says so', () => {
    for (const kind of OWED) {
      const r = withEvent(kind);
      const m = threadEntry(r, r.history.length - 1, ctx({ sandbox: true }));
      expect(text(m.blocks)).toContain(SANDBOX_BANNER);
      expect(m.text).toContain(SANDBOX_BANNER);
    }
  });

  it('a body as big as the form allows still fits one message', () => {
    const r = request({ draft: { message: '"\n'.repeat(1500), offlinePush: { desc: '"'.repeat(1000), ext: JSON.stringify({ a: 'b'.repeat(1000) }) } } });
    expect(messageProblems(threadEntry(r, 0, ctx()))).toEqual([]);
  });
});

it('plainFallback: dates, links and marks to plain words', () => {
  expect(plainFallback('*Sent* <!date^1795767600^{time}|2026-11-27 08:20 UTC> <https://x.example/a|the card> `id`')).toBe('Sent 2026-11-27 08:20 UTC the card id');
});
