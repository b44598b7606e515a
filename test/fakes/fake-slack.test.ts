import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LogLevel, WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError, WebClient } from '@slack/web-api';
import type { Logger } from '@slack/web-api';
import { FakeSlack } from './fake-slack.js';

const TOKEN = 'xoxb-test-token';
// The WebClient logs Slack's [ERROR]/[WARN] response messages; keep test output quiet.
const logger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};
let fake: FakeSlack;
let client: WebClient;

function clientFor(token: string): WebClient {
  return new WebClient(token, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logger });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to reject, but it resolved');
}

beforeAll(async () => {
  fake = await FakeSlack.start({ botToken: TOKEN, teamId: 'T0TEST', botUserId: 'U0BOT', botId: 'B0BOT' });
  client = clientFor(TOKEN);
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  fake.usergroups.clear();
});

const blocks = [
  { type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text: '*Broadcast* request' } },
  {
    type: 'actions',
    block_id: 'decide',
    elements: [{ type: 'button', action_id: 'approve', value: 'req-1', text: { type: 'plain_text', text: 'Approve' }, style: 'primary' }],
  },
];

describe('FakeSlack via a real WebClient', () => {
  it('answers auth.test with the configured identity', async () => {
    const r = await client.auth.test();
    expect(r).toMatchObject({ ok: true, team_id: 'T0TEST', user_id: 'U0BOT', bot_id: 'B0BOT' });
    expect(typeof r.url).toBe('string');
    expect(fake.calls.map((c) => c.method)).toEqual(['auth.test']);
    expect(fake.calls[0]?.token).toBe(TOKEN);
  });

  it('postMessage, update and a thread reply are visible through messages()/threadReplies()', async () => {
    const posted = await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'pending', blocks });
    expect(posted.ok).toBe(true);
    expect(posted.channel).toBe('C0APPROVALS');
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    const ts = posted.ts!;

    const updated = await client.chat.update({ channel: 'C0APPROVALS', ts, text: 'approved', blocks: [blocks[0]!] });
    expect(updated).toMatchObject({ ok: true, channel: 'C0APPROVALS', ts, text: 'approved' });

    const reply = await client.chat.postMessage({ channel: 'C0APPROVALS', thread_ts: ts, text: 'pushed: task 42' });
    expect(Number(reply.ts)).toBeGreaterThan(Number(ts));

    const msg = fake.message('C0APPROVALS', ts);
    expect(msg).toMatchObject({ channel: 'C0APPROVALS', ts, text: 'approved', updates: 1 });
    expect(msg?.blocks).toEqual([blocks[0]]);
    expect(fake.threadReplies('C0APPROVALS', ts).map((m) => m.text)).toEqual(['pushed: task 42']);
    expect(fake.messages('C0APPROVALS')).toHaveLength(2);
    expect(fake.messages('C0OTHER')).toEqual([]);
  });

  it('round-trips blocks as objects in calls and stored messages', async () => {
    const r = await client.chat.postMessage({ channel: 'C1', text: 'fallback', blocks });
    const args = fake.callsTo('chat.postMessage')[0];
    expect(args?.['blocks']).toEqual(blocks);
    expect(args?.['text']).toBe('fallback');
    expect(args).not.toHaveProperty('token');
    expect(fake.message('C1', r.ts!)?.blocks).toEqual(blocks);
    expect((r.message as { blocks?: unknown }).blocks).toEqual(blocks);
  });

  it('hands out strictly increasing ts values', async () => {
    const tss: string[] = [];
    for (let i = 0; i < 5; i++) tss.push((await client.chat.postMessage({ channel: 'C1', text: `m${i}` })).ts!);
    const sorted = [...tss].sort((a, b) => Number(a) - Number(b));
    expect(tss).toEqual(sorted);
    expect(new Set(tss).size).toBe(5);
  });

  it('rejects a wrong token with invalid_auth', async () => {
    const err = await rejection(clientFor('xoxb-wrong').chat.postMessage({ channel: 'C1', text: 'x' }));
    expect(err).toBeInstanceOf(WebAPIPlatformError);
    expect((err as WebAPIPlatformError).data.error).toBe('invalid_auth');
    expect(fake.messages()).toEqual([]);
  });

  it('rejects a missing token with invalid_auth', async () => {
    const anon = new WebClient(undefined, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, logger });
    const err = await rejection(anon.auth.test());
    expect((err as WebAPIPlatformError).data.error).toBe('invalid_auth');
  });

  it('validates chat arguments like Slack', async () => {
    expect(((await rejection(client.chat.postMessage({ channel: 'C1' } as never))) as WebAPIPlatformError).data.error).toBe('no_text');
    expect(((await rejection(client.chat.update({ channel: 'C1', ts: '1.000001', text: 'x' }))) as WebAPIPlatformError).data.error).toBe(
      'message_not_found',
    );
    expect(((await rejection(client.apiCall('no.such.method'))) as WebAPIPlatformError).data.error).toBe('unknown_method');
  });

  it('stores ephemerals separately and refuses to update them', async () => {
    const r = await client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'only you' });
    expect(r.ok).toBe(true);
    expect(typeof r.message_ts).toBe('string');
    expect(fake.ephemerals('U1')).toMatchObject([{ channel: 'C1', user: 'U1', ephemeral: true, text: 'only you' }]);
    expect(fake.ephemerals('U2')).toEqual([]);
    const err = await rejection(client.chat.update({ channel: 'C1', ts: r.message_ts!, text: 'changed' }));
    expect((err as WebAPIPlatformError).data.error).toBe('message_not_found');
    const missingUser = await rejection(client.chat.postEphemeral({ channel: 'C1', text: 'x' } as never));
    expect(missingUser).toBeInstanceOf(WebAPIPlatformError);
  });

  it('opens DMs and collects them with dms()', async () => {
    const open = await client.conversations.open({ users: 'U0ALICE' });
    const dm = open.channel?.id;
    expect(dm).toBe('DU0ALICE');
    await client.chat.postMessage({ channel: dm!, text: 'via DM channel' });
    await client.chat.postMessage({ channel: 'U0ALICE', text: 'via user id' });
    await client.chat.postMessage({ channel: 'U0BOB', text: 'not alice' });
    expect(fake.dms('U0ALICE').map((m) => m.text)).toEqual(['via DM channel', 'via user id']);
  });

  it('returns permalinks only for existing messages', async () => {
    const { ts } = await client.chat.postMessage({ channel: 'C1', text: 'x' });
    const p = await client.chat.getPermalink({ channel: 'C1', message_ts: ts! });
    expect(p.permalink).toContain(`/archives/C1/p${ts!.replace('.', '')}`);
    const err = await rejection(client.chat.getPermalink({ channel: 'C1', message_ts: '1.1' }));
    expect((err as WebAPIPlatformError).data.error).toBe('message_not_found');
  });

  it('answers users.info with a Shanghai time zone', async () => {
    const r = await client.users.info({ user: 'U0ALICE' });
    expect(r.user).toMatchObject({ id: 'U0ALICE', tz: 'Asia/Shanghai' });
  });

  it('answers usergroups.users.list from the usergroups map', async () => {
    fake.usergroups.set('S0APPROVERS', ['U0ALICE', 'U0BOB']);
    const r = await client.usergroups.users.list({ usergroup: 'S0APPROVERS' });
    expect(r.users).toEqual(['U0ALICE', 'U0BOB']);
    const err = await rejection(client.usergroups.users.list({ usergroup: 'S0NOPE' }));
    expect(err).toBeInstanceOf(WebAPIPlatformError);
    expect((err as WebAPIPlatformError).data.error).toBe('no_such_subteam');
  });
});

describe('views', () => {
  const modal = {
    type: 'modal' as const,
    callback_id: 'broadcast_request',
    title: { type: 'plain_text' as const, text: 'New broadcast' },
    submit: { type: 'plain_text' as const, text: 'Request' },
    blocks: [
      {
        type: 'input' as const,
        block_id: 'message',
        label: { type: 'plain_text' as const, text: 'Message' },
        element: { type: 'plain_text_input' as const, action_id: 'text' },
      },
    ],
  };

  it('views.open without trigger_id fails with invalid_arguments', async () => {
    const err = await rejection(client.views.open({ view: modal } as never));
    expect(err).toBeInstanceOf(WebAPIPlatformError);
    expect((err as WebAPIPlatformError).data.error).toBe('invalid_arguments');
    expect(fake.views).toEqual([]);
  });

  it('views.open returns a view id and hash and records the view', async () => {
    const r = await client.views.open({ trigger_id: '123.456.abc', view: modal });
    expect(r.view?.id).toMatch(/^V/);
    expect(typeof r.view?.hash).toBe('string');
    expect(r.view?.callback_id).toBe('broadcast_request');
    expect(fake.views).toHaveLength(1);
    expect(fake.views[0]).toMatchObject({ method: 'views.open', trigger_id: '123.456.abc', view_id: r.view?.id });
    expect(fake.views[0]?.view).toEqual(modal);
  });

  it('rejects a modal whose title is too long or that has inputs but no submit', async () => {
    const longTitle = await rejection(
      client.views.open({ trigger_id: 't', view: { ...modal, title: { type: 'plain_text', text: 'x'.repeat(25) } } }),
    );
    expect((longTitle as WebAPIPlatformError).data.error).toBe('invalid_arguments');
    const { submit: _submit, ...noSubmit } = modal;
    const err = await rejection(client.views.open({ trigger_id: 't', view: noSubmit }));
    expect((err as WebAPIPlatformError).data.error).toBe('invalid_arguments');
  });

  it('views.update honours hash like Slack (stale hash → hash_conflict)', async () => {
    const opened = await client.views.open({ trigger_id: 't', view: modal });
    const id = opened.view!.id!;
    const first = await client.views.update({ view_id: id, hash: opened.view!.hash!, view: { ...modal, callback_id: 'v2' } });
    expect(first.view?.id).toBe(id);
    expect(first.view?.hash).not.toBe(opened.view?.hash);
    const stale = await rejection(client.views.update({ view_id: id, hash: opened.view!.hash!, view: modal }));
    expect((stale as WebAPIPlatformError).data.error).toBe('hash_conflict');
    expect(fake.views.map((v) => v.method)).toEqual(['views.open', 'views.update']);
  });
});

describe('faults', () => {
  it('failNext error surfaces as a platform error, then the method works again', async () => {
    fake.failNext('chat.postMessage', 1, { error: 'channel_not_found' });
    const err = await rejection(client.chat.postMessage({ channel: 'C1', text: 'x' }));
    expect(err).toBeInstanceOf(WebAPIPlatformError);
    expect((err as WebAPIPlatformError).data.error).toBe('channel_not_found');
    const ok = await client.chat.postMessage({ channel: 'C1', text: 'x' });
    expect(ok.ok).toBe(true);
    expect(fake.messages('C1')).toHaveLength(1);
  });

  it('429 surfaces as a rate-limited error carrying Retry-After', async () => {
    fake.failNext('chat.postMessage', 1, { status: 429, retryAfter: 7 });
    const err = await rejection(client.chat.postMessage({ channel: 'C1', text: 'x' }));
    expect(err).toBeInstanceOf(WebAPIRateLimitedError);
    expect((err as WebAPIRateLimitedError).retryAfter).toBe(7);
    expect(fake.calls.at(-1)).toMatchObject({ method: 'chat.postMessage', status: 429 });
  });

  it('HTTP 500 surfaces as an HTTP error', async () => {
    fake.failNext('chat.update', 1, { status: 500 });
    const err = await rejection(client.chat.update({ channel: 'C1', ts: '1.1', text: 'x' }));
    expect(err).toBeInstanceOf(WebAPIHTTPError);
    expect((err as WebAPIHTTPError).statusCode).toBe(500);
  });

  it('a dropped socket surfaces as a request error', async () => {
    fake.failNext('chat.postMessage', 1, { drop: true });
    const err = await rejection(client.chat.postMessage({ channel: 'C1', text: 'x' }));
    expect(err).toBeInstanceOf(WebAPIRequestError);
    expect(fake.messages()).toEqual([]);
  });

  it('fails exactly n calls and only of the named method', async () => {
    fake.failNext('chat.postMessage', 2, { error: 'fatal_error' });
    await expect(client.auth.test()).resolves.toMatchObject({ ok: true });
    await expect(client.chat.postMessage({ channel: 'C1', text: 'a' })).rejects.toBeInstanceOf(WebAPIPlatformError);
    await expect(client.chat.postMessage({ channel: 'C1', text: 'b' })).rejects.toBeInstanceOf(WebAPIPlatformError);
    await expect(client.chat.postMessage({ channel: 'C1', text: 'c' })).resolves.toMatchObject({ ok: true });
    expect(fake.messages().map((m) => m.text)).toEqual(['c']);
    expect(fake.callsTo('chat.postMessage').map((a) => a['text'])).toEqual(['a', 'b', 'c']);
  });
});

describe('raw HTTP, response_url, waitFor, reset', () => {
  it('accepts application/json bodies with a Bearer token', async () => {
    const res = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ channel: 'C9', text: 'json', blocks }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, channel: 'C9' });
    expect(fake.messages('C9')[0]?.blocks).toEqual(blocks);
  });

  it('records JSON posted to a response_url', async () => {
    const url = fake.responseUrl('cmd-1');
    expect(url).toBe(`${fake.origin}/respond/cmd-1`);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', text: 'queued' }),
    });
    expect(res.status).toBe(200);
    expect(fake.responses('cmd-1')).toEqual([{ response_type: 'ephemeral', text: 'queued' }]);
    expect(fake.responses('other')).toEqual([]);
  });

  it('waitFor resolves with the probe value once it becomes truthy', async () => {
    setTimeout(() => void client.chat.postMessage({ channel: 'C5', text: 'later' }), 30);
    const m = await fake.waitFor(() => fake.messages('C5')[0], { what: 'message in C5' });
    expect(m.text).toBe('later');
  });

  it('waitFor rejects naming what it waited for', async () => {
    await expect(fake.waitFor(() => false, { timeoutMs: 50, what: 'the approval message' })).rejects.toThrow(/the approval message/);
  });

  it('reset forgets calls, messages, views and responses', async () => {
    await client.chat.postMessage({ channel: 'C1', text: 'x' });
    fake.failNext('auth.test', 1, { error: 'fatal_error' });
    fake.reset();
    expect(fake.calls).toEqual([]);
    expect(fake.messages()).toEqual([]);
    await expect(client.auth.test()).resolves.toMatchObject({ ok: true });
  });
});
