/**
 * What people see, end to end: the real app (Bolt over HTTP) against the fake Slack and the
 * Tencent emulator, driven by signed requests. The form, the card's first post, refusals, the
 * audience size, the thread, the DM and the Home tab, as they reach Slack.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/tim/push-body.js';
import {
  APPROVAL_CHANNEL,
  APPROVER,
  FORMS,
  OUTSIDER,
  REQUESTER,
  cardOf,
  pushRequests,
  startHarness,
  threadOf,
  toldPrivately,
  type Harness,
} from '../helpers/harness.js';
import { appHomeOpenedBody, postSigned, valuesFromModal, viewActionBody } from '../helpers/slack-requests.js';
import { blockProblems, messageProblems, viewProblems } from '../views/block-kit.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ emulator: { registeredUsers: 4321, attrNames: ['city', 'level'] } });
});
afterAll(async () => {
  await h?.stop();
});

const texts = (node: unknown): string => JSON.stringify(node);

/** The first chat.postMessage of a card (its first post, before any update). */
function firstPost(requestId: string) {
  return h.fake.callsTo('chat.postMessage').find((a) => a['channel'] === APPROVAL_CHANNEL && !a['thread_ts'] && texts(a['blocks']).includes(requestId))!;
}

async function submitted(fields: Record<string, string | null>, userId = REQUESTER) {
  const res = await h.submit(fields, { userId });
  expect(res.json?.response_action, JSON.stringify(res.json)).toBeUndefined();
  const request = res.request!;
  await h.fake.waitFor(() => cardOf(h.fake, request.id) && threadOf(h.fake, request.id).length >= 1, { what: 'the card and its first thread entry' });
  return request;
}

describe('the approval card', () => {
  it('its first post names the approvers (users and the group), so Slack notifies them; the card carries metadata', async () => {
    const r = await submitted(FORMS.all);
    const post = firstPost(r.id);
    expect(String(post['text'])).toMatch(/^<@U0APPROVER1> <@U0APPROVER2> <!subteam\^S0APPROVERS>: a broadcast needs your approval\. Pending approval: broadcast to everyone from <@U0REQUESTER>/);
    const card = cardOf(h.fake, r.id)!;
    expect(messageProblems({ text: card.text ?? '', blocks: card.blocks, metadata: card.metadata as never })).toEqual([]);
    expect(card.metadata).toMatchObject({ event_type: 'broadcast_request', event_payload: { request_id: r.id, state: 'pending', payload_sha256: r.payloadHash, audience_kind: 'all' } });
    expect((card.blocks![0] as any).text.text).toBe('Pending approval ⏳ · Everyone · “Server maintenance tonight at 23:00.”');
  });

  it('for a push to everyone, shows the audience size Tencent’s getappinfo gives', async () => {
    const r = await submitted({ ...FORMS.all, message: 'Audience size, please' });
    expect(texts(cardOf(h.fake, r.id)!.blocks)).toContain('up to 4,321 registered users');
    expect(h.emulator.requests.some((q) => q.path.endsWith('/getappinfo'))).toBe(true);
    const tags = await submitted(FORMS.tagsAny);
    expect(texts(cardOf(h.fake, tags.id)!.blocks)).toContain('Tencent offers no count');
  });

  it('the thread starts with the exact body and its sha256; the requester’s DM names the approvers and links the card', async () => {
    const r = await submitted({ ...FORMS.all, message: 'Body in the thread "quoted" <!here>' });
    const entry = threadOf(h.fake, r.id)[0]!;
    const json = canonicalJson(r.body);
    expect(texts(entry.blocks)).toContain(JSON.stringify(json).slice(1, -1));
    expect(texts(entry.blocks)).toContain(createHash('sha256').update(json).digest('hex'));
    expect(blockProblems(entry.blocks, 50)).toEqual([]);
    const dm = await h.fake.waitFor(() => h.fake.dms(REQUESTER).find((m) => texts(m.blocks).includes('Body in the thread')), { what: 'the DM' });
    const permalink = (await h.request(r.id))!.card!.permalink!;
    expect(texts(dm.blocks)).toContain(`<${permalink}|see its card>`);
    expect(texts(dm.blocks)).toContain('<@U0APPROVER1> <@U0APPROVER2> <!subteam^S0APPROVERS>');
  });
});

describe('a failed push', () => {
  it('the DM is two lines with the code and a link to the thread; the instructions are in the thread, once; "Tencent said" once per message', async () => {
    const r = await submitted({ ...FORMS.all, message: 'This one fails' });
    h.emulator.failNext(1, { kind: 'error', code: 90045, info: 'all member push not open' });
    await h.click('approve', r.id, APPROVER);
    await h.fake.waitFor(() => threadOf(h.fake, r.id).some((m) => texts(m.blocks).includes('Failed')), { what: 'the failure in the thread' });
    const dm = await h.fake.waitFor(() => h.fake.dms(REQUESTER).find((m) => texts(m.blocks).includes('This one fails') && texts(m.blocks).includes('90045')), { what: 'the failure DM' });
    const section = (dm.blocks as any[]).find((b) => b.type === 'section').text.text as string;
    expect(section.split('\n')).toHaveLength(2);
    expect(section).toContain(`<${(await h.request(r.id))!.card!.permalink}|the card’s thread>`);
    expect(section).not.toMatch(/Tencent said|console/i);
    const failure = threadOf(h.fake, r.id).find((m) => texts(m.blocks).includes('Failed'))!;
    const card = cardOf(h.fake, r.id)!;
    expect(texts(failure.blocks)).toContain('What to do:');
    expect(texts(card.blocks)).not.toContain('What to do:');
    for (const m of [failure, card, dm]) expect(texts(m.blocks).match(/Tencent said/g)?.length ?? 0).toBeLessThanOrEqual(1);
    expect(card.metadata).toMatchObject({ event_payload: { state: 'failed', error_code: 90045 } });
  });
});

describe('refusals reach the clicker', () => {
  it('by an ephemeral message when the response_url does not answer', async () => {
    const r = await submitted({ ...FORMS.all, message: 'Ephemeral fallback' });
    h.fake.failNext('response_url', 1, { status: 500 });
    const seen = h.fake.ephemerals(OUTSIDER).length;
    await h.click('reject', r.id, OUTSIDER);
    expect(h.fake.ephemerals(OUTSIDER).slice(seen).map((m) => m.text).join('\n')).toContain('Only the broadcast approvers can do that');
  });

  it('through the response_url, even when chat.postEphemeral answers not_in_channel', async () => {
    const r = await submitted({ ...FORMS.all, message: 'Refusal path' });
    // (Left queued: the app never needs chat.postEphemeral while a response_url works.)
    h.fake.failNext('chat.postEphemeral', 10, { error: 'not_in_channel' });
    const ephemerals = h.fake.callsTo('chat.postEphemeral').length;
    const before = pushRequests(h.emulator).length;
    const answers = () => h.fake.responseUrls().filter((id) => id.startsWith(`click-${OUTSIDER}-`)).flatMap((id) => h.fake.responses(id));
    const seen = answers().length;
    await h.click('approve', r.id, OUTSIDER);
    expect(answers().slice(seen)).toEqual([
      { response_type: 'ephemeral', replace_original: false, text: 'Only the broadcast approvers can do that, and you are not one. Nothing changed.' },
    ]);
    expect(pushRequests(h.emulator).length).toBe(before);
    expect(h.fake.callsTo('chat.postEphemeral').length).toBe(ephemerals);
    expect((await h.request(r.id))!.state).toBe('pending');
    await h.click('approve', r.id, REQUESTER);
    expect(toldPrivately(h.fake, REQUESTER).join('\n')).toContain('You asked for this broadcast, so another approver must decide it.');
  });
});

describe('the request form', () => {
  it('an unknown attribute name is refused at its field, with the names Tencent knows; nothing is stored', async () => {
    const before = (await h.app.service.queries.recent(1000)).length;
    const res = await h.submit({ message: 'Attr check', audience: 'attributes', attrs_all: 'city=Shenzhen\ncountry=CN', lifetime: '3600' });
    expect(res.json).toEqual({ response_action: 'errors', errors: { attrs_all: '“country” is not an attribute name of this app. Known names: city, level.' } });
    expect(res.request).toBeUndefined();
    expect((await h.app.service.queries.recent(1000)).length).toBe(before);
    // The form itself lists the names.
    const form = h.fake.views.filter((v) => v.method === 'views.open').at(-1)!.view;
    expect(texts(form.blocks)).toContain('Attribute names of this app: city, level.');
    expect(viewProblems(form)).toEqual([]);
  });

  it('a bad tag and bad JSON in the notification data are reported in one answer', async () => {
    const res = await h.submit({ message: 'Two errors', audience: 'tags', tags_all: `vip, ${'长'.repeat(17)}`, push_ext: '{oops', lifetime: '3600' });
    expect(res.json.response_action).toBe('errors');
    expect(Object.keys(res.json.errors).sort()).toEqual(['push_ext', 'tags_all']);
  });

  it('“Update preview” redraws the form with the notification preview of what is typed, keeping the ids', async () => {
    const before = h.fake.views.length;
    await h.command({ text: '' });
    const opened = await h.fake.waitFor(() => h.fake.views.slice(before).find((v) => v.method === 'views.open'), { what: 'the form' });
    const hash = (h.fake.calls.filter((c) => c.method === 'views.open').at(-1)!.answer as any).view.hash;
    const values = valuesFromModal(opened.view, { message: 'Preview me please', push_title: 'Big news' });
    const res = await postSigned(
      h.url,
      h.config.SLACK_SIGNING_SECRET!,
      viewActionBody({ userId: REQUESTER, actionId: 'request_preview', blockId: 'preview_actions', view: opened.view, viewId: opened.view_id!, values, hash }),
    );
    expect(res.status).toBe(200);
    await h.settle();
    const updated = h.fake.views.slice(before).find((v) => v.method === 'views.update' && v.view_id === opened.view_id);
    expect(updated, 'views.update of the form').toBeDefined();
    expect(texts(updated!.view.blocks)).toContain('iPhone: Big news — Preview me please');
    expect(updated!.view.private_metadata).toBe(opened.view.private_metadata);
    expect(updated!.view.blocks.map((b: any) => b.block_id)).toEqual(opened.view.blocks.map((b: any) => b.block_id));
    expect(viewProblems(updated!.view)).toEqual([]);
  });
});

describe('App Home', () => {
  async function home(userId: string) {
    const before = h.fake.views.length;
    const res = await postSigned(h.url, h.config.SLACK_SIGNING_SECRET!, appHomeOpenedBody(userId), { contentType: 'application/json' });
    expect(res.status).toBe(200);
    await h.settle();
    return (await h.fake.waitFor(() => h.fake.views.slice(before).find((v) => v.method === 'views.publish' && v.user_id === userId), { what: `the Home of ${userId}` })).view;
  }

  it('an approver sees every request, with links to the cards; anyone else only their own and the quota', async () => {
    const mine = await submitted({ ...FORMS.all, message: 'Home: the requester’s' });
    const theirs = await submitted({ ...FORMS.all, message: 'Home: the outsider’s' }, OUTSIDER);
    const permalink = (await h.request(mine.id))!.card!.permalink!;

    const approverHome = await home(APPROVER);
    expect(viewProblems(approverHome)).toEqual([]);
    expect(texts(approverHome.blocks)).toContain(mine.id);
    expect(texts(approverHome.blocks)).toContain(theirs.id);
    expect(texts(approverHome.blocks)).toContain(`<${permalink}|`);
    expect(texts(approverHome.blocks)).toContain('New broadcast');
    expect(texts(approverHome.blocks)).toContain('You are an approver');

    const requesterHome = await home(REQUESTER);
    expect(viewProblems(requesterHome)).toEqual([]);
    expect(texts(requesterHome.blocks)).toContain(mine.id);
    expect(texts(requesterHome.blocks)).not.toContain(theirs.id);
    expect(texts(requesterHome.blocks)).not.toContain('Home: the outsider’s');
    expect(texts(requesterHome.blocks)).toMatch(/used, \d+ left\* today/);
  });
});
