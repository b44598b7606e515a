/**
 * End-to-end flows through the REAL app (HTTP mode, signed requests) with the fake Slack Web API
 * and the Tencent push emulator: request → card → decision → exactly one push → replies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImPushBody } from '../../src/tim/push-body.js';
import type { BroadcastRequest } from '../../src/broadcast/types.js';
import {
  APPROVAL_CHANNEL,
  APPROVER,
  APPROVER_2,
  FORMS,
  GROUP_MEMBER,
  OUTSIDER,
  REQUESTER,
  startHarness,
  type Harness,
} from '../helpers/harness.js';
import { refusalText } from '../../views/replies.js';
import {
  buttonsOf,
  privateCount,
  pushRequests,
  pushesOf,
  stateOf,
  submitOk,
  textOf,
  threadOf,
  waitForDm,
  waitForPrivate,
  waitForThreadReply,
} from './flow-helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

/** The im_push body a form must produce, with the MsgRandom fixed at submission. */
function expectedBody(request: BroadcastRequest, parts: Omit<ImPushBody, 'MsgRandom' | 'MsgBody'> & { text: string }): ImPushBody {
  const { text, ...rest } = parts;
  return { MsgRandom: request.body.MsgRandom, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }], ...rest };
}

/** Approve as `approver` and wait for the final thread reply (sent). Returns the accepted push. */
async function approveAndWaitSent(request: BroadcastRequest, approver = APPROVER) {
  const before = pushRequests(h).length;
  await h.click('approve', request.id, approver);
  const reply = await waitForThreadReply(h, request.id, /TaskId/);
  expect(await stateOf(h, request.id)).toBe('sent');
  expect(pushesOf(h, request), 'exactly one accepted push for this request').toHaveLength(1);
  expect(pushRequests(h).length - before, 'exactly one im_push call').toBe(1);
  return { push: pushesOf(h, request)[0]!, reply };
}

describe('request → approval card', () => {
  it('`/broadcast some text` pre-fills the message, and the card shows the audience, the quota and both buttons', async () => {
    const before = h.fake.views.length;
    await h.command({ text: 'Hello from the slash command' });
    const opened = await h.fake.waitFor(() => h.fake.views.slice(before).find((v) => v.method === 'views.open'), { what: 'the modal' });
    const messageBlock = opened.view.blocks.find((b: any) => b.block_id === 'message');
    expect(messageBlock.element.initial_value).toBe('Hello from the slash command');

    // Submitting without touching the message keeps the pre-filled text (what Slack sends back).
    const request = await submitOk(h, { audience: 'all', lifetime: '0' }, { text: 'Hello from the slash command' });
    expect(request.draft.message).toBe('Hello from the slash command');
    expect(request.state).toBe('pending');

    const card = h.card(request.id)!;
    const text = textOf(card);
    expect(text).toMatch(/every user/i);
    expect(text).toContain('Hello from the slash command');
    // First request of this harness: nothing pushed yet today.
    expect(text).toMatch(/0 of 100 pushes used today/);
    expect(text).toContain(request.id);
    // The first post's notification text names the approvers, so Slack notifies them.
    expect(card.text).toContain(`<@${APPROVER}>`);
    expect(card.text).toContain('<!subteam^S0APPROVERS>');

    // Every button names the request and the exact payload version on this card.
    const buttons = buttonsOf(card);
    expect(buttons.map((b) => b.action_id)).toEqual(expect.arrayContaining(['approve', 'reject', 'edit', 'cancel']));
    for (const b of buttons) expect(b.value).toBe(`${request.id}:${request.version}`);
    const approve = buttons.find((b) => b.action_id === 'approve')!;
    expect(approve.confirm.text.text).toMatch(/every user/i);

    const told = await waitForDm(h, REQUESTER, /waiting for approval/);
    expect(textOf(told)).toContain(`<#${APPROVAL_CHANNEL}>`);
    expect(textOf(told)).toContain(`<@${APPROVER}>`);
    expect(pushesOf(h, request)).toHaveLength(0);
  });

  it('the thread starts with the exact im_push body and its sha256', async () => {
    const request = await submitOk(h, FORMS.tagsAll);
    const first = await waitForThreadReply(h, request.id, /Submitted by/);
    const json = JSON.stringify(first.blocks);
    expect(json).toContain(request.payloadHash);
    const pre = (first.blocks as any[]).flatMap((b) => (b.type === 'rich_text' ? b.elements : [])).find((e: any) => e.type === 'rich_text_preformatted');
    const shown = pre.elements.map((e: any) => e.text).join('');
    expect(JSON.parse(shown)).toStrictEqual(request.body);
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(shown).digest('hex')).toBe(request.payloadHash);
  });

  it('a tag audience is spelled out on the card and in its confirm dialog', async () => {
    const request = await submitOk(h, FORMS.tagsAll);
    const card = h.card(request.id)!;
    expect(textOf(card)).toMatch(/vip/);
    expect(textOf(card)).toMatch(/beta/);
    expect(textOf(card)).not.toMatch(/EVERY user/);
    const approve = buttonsOf(card).find((b) => b.action_id === 'approve')!;
    expect(approve.confirm.text.text).toMatch(/tag/);
  });
});

describe('happy path for each audience kind', () => {
  const cases: Array<{
    kind: string;
    form: Record<string, string>;
    audience: RegExp;
    body: Omit<ImPushBody, 'MsgRandom' | 'MsgBody'> & { text: string };
  }> = [
    {
      kind: 'everyone (no Condition at all), with sender and every notification field',
      form: {
        ...FORMS.all,
        sender: 'ops_bot',
        push_title: 'Maintenance',
        push_desc: 'Tonight at 23:00',
        push_ext: '{"page":"status","id":7}',
        badge_mode: '1',
      },
      audience: /EVERYONE/,
      body: {
        text: FORMS.all.message,
        MsgLifeTime: 3600,
        From_Account: 'ops_bot',
        OfflinePushInfo: { PushFlag: 0, Title: 'Maintenance', Desc: 'Tonight at 23:00', Ext: '{"page":"status","id":7}', ApnsInfo: { BadgeMode: 1 } },
      },
    },
    {
      kind: 'tags, all of',
      form: FORMS.tagsAll,
      audience: /users with 2 tags/,
      body: { text: FORMS.tagsAll.message, MsgLifeTime: 0, Condition: { TagsAnd: ['vip', 'beta'] } },
    },
    {
      kind: 'tags, any of, with a notification title',
      form: { ...FORMS.tagsAny, push_title: '限时优惠' },
      audience: /users with 2 tags/,
      body: { text: FORMS.tagsAny.message, MsgLifeTime: 86400, Condition: { TagsOr: ['city-sz', 'city-gz'] }, OfflinePushInfo: { PushFlag: 0, Title: '限时优惠' } },
    },
    {
      kind: 'attributes, all of, with a sender',
      form: { ...FORMS.attrsAll, sender: 'shenzhen_team' },
      audience: /users matching 2 attributes/,
      body: {
        text: FORMS.attrsAll.message,
        MsgLifeTime: 604800,
        From_Account: 'shenzhen_team',
        Condition: { AttrsAnd: { city: 'Shenzhen', level: 'gold' } },
      },
    },
    {
      kind: 'attributes, any of, with extra data and the badge switch',
      form: { ...FORMS.attrsAny, push_desc: '打开看看', push_ext: '{"url":"app://hi"}', badge_mode: '1' },
      audience: /users matching 2 attributes/,
      body: {
        text: FORMS.attrsAny.message,
        MsgLifeTime: 0,
        Condition: { AttrsOr: { sex: 'male', city: '深圳' } },
        OfflinePushInfo: { PushFlag: 0, Desc: '打开看看', Ext: '{"url":"app://hi"}', ApnsInfo: { BadgeMode: 1 } },
      },
    },
  ];

  it.each(cases)('$kind', async ({ form, body, audience }) => {
    const dmsBefore = h.fake.dms(REQUESTER).length;
    const request = await submitOk(h, form);
    expect(request.state).toBe('pending');

    const { push, reply } = await approveAndWaitSent(request);

    // The exact body Tencent received: what was stored (and hashed) at submission.
    const expected = expectedBody(request, body);
    expect(push.body).toStrictEqual(expected);
    expect(push.body).toStrictEqual(request.body);
    if (!body.Condition) expect(push.body).not.toHaveProperty('Condition');
    if (!body.OfflinePushInfo) expect(push.body).not.toHaveProperty('OfflinePushInfo');
    if (!body.From_Account) expect(push.body).not.toHaveProperty('From_Account');

    const stored = (await h.request(request.id))!;
    expect(stored.result).toMatchObject({ kind: 'sent', taskId: push.taskId, attempts: 1 });
    expect(stored.approvals.map((a) => a.userId)).toEqual([APPROVER]);

    // The card shows the sent state and has no buttons any more; its metadata carries the TaskId.
    const card = h.card(request.id)!;
    expect(card.updates).toBeGreaterThan(0);
    expect(textOf(card)).toMatch(/Sent/);
    expect(textOf(card)).toContain(push.taskId);
    expect(buttonsOf(card)).toHaveLength(0);
    expect(card.metadata).toMatchObject({ event_type: 'broadcast_request', event_payload: { request_id: request.id, state: 'sent', task_id: push.taskId } });

    // The thread reply carries the TaskId; the requester heard the outcome.
    expect(reply.thread_ts).toBe(card.ts);
    expect(textOf(reply)).toContain(push.taskId);
    await waitForDm(h, REQUESTER, new RegExp(push.taskId));
    expect(h.fake.dms(REQUESTER).length).toBeGreaterThan(dmsBefore);
    void audience;
  });
});

describe('decisions', () => {
  it('a non-approver is told privately why; the request stays pending and nothing is pushed', async () => {
    const request = await submitOk(h, FORMS.tagsAny);
    const seen = privateCount(h, OUTSIDER);
    const calls = pushRequests(h).length;
    await h.click('approve', request.id, OUTSIDER);
    await waitForPrivate(h, OUTSIDER, refusalText('not_approver'), seen);
    expect(await stateOf(h, request.id)).toBe('pending');
    expect(pushRequests(h).length).toBe(calls);
    expect(buttonsOf(h.card(request.id)).some((b) => b.action_id === 'approve')).toBe(true);
  });

  it('the requester cannot approve their own request, even as an approver', async () => {
    const request = await submitOk(h, FORMS.all, { userId: APPROVER });
    expect(request.requesterId).toBe(APPROVER);
    const seen = privateCount(h, APPROVER);
    const calls = pushRequests(h).length;
    await h.click('approve', request.id, APPROVER);
    await waitForPrivate(h, APPROVER, refusalText('is_requester'), seen);
    expect(await stateOf(h, request.id)).toBe('pending');
    expect((await h.request(request.id))!.approvals).toEqual([]);
    expect(pushRequests(h).length).toBe(calls);
  });

  it('a member of an approver user group can approve', async () => {
    const request = await submitOk(h, FORMS.tagsAll);
    const { push } = await approveAndWaitSent(request, GROUP_MEMBER);
    expect(push.body.Condition).toStrictEqual({ TagsAnd: ['vip', 'beta'] });
    const stored = (await h.request(request.id))!;
    expect(stored.approvals.map((a) => a.userId)).toEqual([GROUP_MEMBER]);
    expect(stored.approvals[0]!.version).toBe(stored.version);
  });

  it('a double click by the same approver pushes once; the other click is told it was already decided', async () => {
    const request = await submitOk(h, FORMS.attrsAll);
    const seen = privateCount(h, APPROVER);
    const calls = pushRequests(h).length;
    await Promise.all([h.click('approve', request.id, APPROVER), h.click('approve', request.id, APPROVER)]);
    await waitForThreadReply(h, request.id, /TaskId/);
    await waitForPrivate(h, APPROVER, /already/, seen);
    expect(await stateOf(h, request.id)).toBe('sent');
    expect(pushesOf(h, request)).toHaveLength(1);
    expect(pushRequests(h).length - calls).toBe(1);
    expect(privateCount(h, APPROVER) - seen).toBe(1);
    expect(threadOf(h, request.id).filter((m) => /TaskId/.test(textOf(m)))).toHaveLength(1);
  });

  it('a second approver after the first is told it was decided; still one push', async () => {
    const request = await submitOk(h, FORMS.attrsAny);
    await approveAndWaitSent(request, APPROVER);
    const seen = privateCount(h, APPROVER_2);
    await h.click('approve', request.id, APPROVER_2);
    const stored = (await h.request(request.id))!;
    await waitForPrivate(h, APPROVER_2, refusalText('already_decided', { request: stored }), seen);
    expect(stored.state).toBe('sent');
    expect(pushesOf(h, request)).toHaveLength(1);
  });

  it('a click on a card showing an older payload version is refused and pushes nothing', async () => {
    const request = await submitOk(h, FORMS.tagsAll);
    const calls = pushRequests(h).length;
    const seen = privateCount(h, APPROVER);
    await h.click('approve', request.id, APPROVER, `${request.id}:000000000000`);
    await waitForPrivate(h, APPROVER, refusalText('stale_version'), seen);
    // A card from before payload versions (the bare id) is out of date too.
    await h.click('approve', request.id, APPROVER, request.id);
    await waitForPrivate(h, APPROVER, refusalText('stale_version'), seen + 1);
    expect(await stateOf(h, request.id)).toBe('pending');
    expect(pushRequests(h).length).toBe(calls);
  });

  it('reject asks for a reason, records who and why everywhere, pushes nothing; a later approve is refused', async () => {
    const request = await submitOk(h, FORMS.tagsAny);
    const calls = pushRequests(h).length;
    const viewsBefore = h.fake.views.length;
    const reason = 'Wrong date in the text — it is Friday, not Thursday';
    const res = await h.rejectWithReason(request.id, APPROVER_2, reason);
    expect(res.status).toBe(200);
    expect(res.json).toBeUndefined();
    const modal = h.fake.views.slice(viewsBefore).find((v) => v.method === 'views.open')!;
    expect(modal.view.callback_id).toBe('reject_reason');
    // The reason is bound to the payload version of the card it was opened from.
    expect(JSON.parse(modal.view.private_metadata)).toEqual({ requestId: request.id, version: request.version });

    const reply = await waitForThreadReply(h, request.id, /Rejected/);
    expect(textOf(reply)).toContain(`<@${APPROVER_2}>`);
    expect(textOf(reply)).toContain(reason);
    const card = h.card(request.id)!;
    expect(textOf(card)).toMatch(/Rejected/);
    expect(textOf(card)).toContain(reason);
    expect(buttonsOf(card).map((b) => b.action_id)).toEqual(['request_again']);
    const dm = await waitForDm(h, REQUESTER, /Friday, not Thursday/);
    expect(textOf(dm)).toContain(`<@${APPROVER_2}>`);
    const stored = (await h.request(request.id))!;
    expect(stored.state).toBe('rejected');
    expect(stored.decision).toMatchObject({ by: APPROVER_2, reason });

    const seen = privateCount(h, APPROVER);
    await h.click('approve', request.id, APPROVER, `${request.id}:${request.version}`);
    await waitForPrivate(h, APPROVER, refusalText('already_decided', { request: stored }), seen);
    expect(await stateOf(h, request.id)).toBe('rejected');
    expect(pushRequests(h).length).toBe(calls);
  });

  it('a reject without a reason is refused in the modal and changes nothing', async () => {
    const request = await submitOk(h, FORMS.all);
    const res = await h.rejectWithReason(request.id, APPROVER, '   ');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ response_action: 'errors', errors: { reason: expect.any(String) } });
    expect(await stateOf(h, request.id)).toBe('pending');
  });

  it('a reject by a non-approver is refused privately and opens no modal', async () => {
    const request = await submitOk(h, FORMS.tagsAll);
    const viewsBefore = h.fake.views.length;
    const seen = privateCount(h, OUTSIDER);
    await h.click('reject', request.id, OUTSIDER);
    await waitForPrivate(h, OUTSIDER, refusalText('not_approver'), seen);
    expect(h.fake.views.slice(viewsBefore).filter((v) => v.method === 'views.open')).toHaveLength(0);
    expect(await stateOf(h, request.id)).toBe('pending');
  });
});

describe('work after the ack is tracked', () => {
  // h.click() = signed POST + h.settle() (app.idle()). No waitFor here on purpose: idle() must
  // already cover the decision, the push and the replies, so that stop() never cuts them off.
  it('when an approve click returns, the push and the replies are done', async () => {
    const request = await submitOk(h, FORMS.tagsAny);
    await h.click('approve', request.id, APPROVER);
    expect((await h.request(request.id))!.state).toBe('sent');
    expect(pushesOf(h, request)).toHaveLength(1);
    expect(threadOf(h, request.id).some((m) => /TaskId/.test(textOf(m)))).toBe(true);
  });

  it('when a refused click returns, the clicker has been told', async () => {
    const request = await submitOk(h, FORMS.tagsAny);
    const seen = privateCount(h, OUTSIDER);
    await h.click('reject', request.id, OUTSIDER);
    expect(privateCount(h, OUTSIDER)).toBe(seen + 1);
  });
});
