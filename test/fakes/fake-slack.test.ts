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
  fake.userStates.clear();
  fake.notInChannels.clear();
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

// ------------------------------------------------------------------ Slack's content rules

/** The Slack error (and its explanation) a call got. */
async function slackError(p: Promise<unknown>): Promise<{ error: string; messages: string[] }> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(WebAPIPlatformError);
  const data = (err as WebAPIPlatformError).data as { error: string; response_metadata?: { messages?: string[] } };
  return { error: data.error, messages: data.response_metadata?.messages ?? [] };
}

const plain = (text: string) => ({ type: 'plain_text' as const, text });
const mrkdwn = (text: string) => ({ type: 'mrkdwn' as const, text });
const button = (extra: Record<string, unknown> = {}) => ({ type: 'button', action_id: 'go', text: plain('Go'), value: 'v', ...extra });
const confirmDialog = (extra: Record<string, unknown> = {}) => ({
  title: plain('Sure?'),
  text: mrkdwn('This pushes to everyone.'),
  confirm: plain('Push'),
  deny: plain('Cancel'),
  ...extra,
});

describe('message blocks are checked like Slack does', () => {
  const cases: Array<{ name: string; blocks: unknown[]; pointer: string }> = [
    { name: 'section text over 3000', blocks: [{ type: 'section', text: mrkdwn('x'.repeat(3001)) }], pointer: '/blocks/0/text/text' },
    { name: 'empty section text', blocks: [{ type: 'section', text: mrkdwn('') }], pointer: '/blocks/0/text/text' },
    { name: 'section with neither text nor fields', blocks: [{ type: 'section' }], pointer: '/blocks/0' },
    { name: 'more than 10 fields', blocks: [{ type: 'section', fields: Array.from({ length: 11 }, () => mrkdwn('f')) }], pointer: '/blocks/0/fields' },
    { name: 'a field over 2000', blocks: [{ type: 'section', fields: [mrkdwn('ok'), mrkdwn('x'.repeat(2001))] }], pointer: '/blocks/0/fields/1/text' },
    { name: 'header over 150', blocks: [{ type: 'header', text: plain('x'.repeat(151)) }], pointer: '/blocks/0/text/text' },
    { name: 'header as mrkdwn', blocks: [{ type: 'header', text: mrkdwn('*bold*') }], pointer: '/blocks/0/text/type' },
    { name: 'context with 11 elements', blocks: [{ type: 'context', elements: Array.from({ length: 11 }, () => mrkdwn('c')) }], pointer: '/blocks/0/elements' },
    { name: 'button text over 75', blocks: [{ type: 'actions', elements: [button({ text: plain('x'.repeat(76)) })] }], pointer: '/blocks/0/elements/0/text/text' },
    { name: 'button text as mrkdwn', blocks: [{ type: 'actions', elements: [button({ text: mrkdwn('Go') })] }], pointer: '/blocks/0/elements/0/text/type' },
    { name: 'button value over 2000', blocks: [{ type: 'actions', elements: [button({ value: 'v'.repeat(2001) })] }], pointer: '/blocks/0/elements/0/value' },
    { name: 'action_id over 255', blocks: [{ type: 'actions', elements: [button({ action_id: 'a'.repeat(256) })] }], pointer: '/blocks/0/elements/0/action_id' },
    { name: 'block_id over 255', blocks: [{ type: 'divider', block_id: 'b'.repeat(256) }], pointer: '/blocks/0/block_id' },
    {
      name: 'accessibility_label over 75',
      blocks: [{ type: 'actions', elements: [button({ accessibility_label: 'l'.repeat(76) })] }],
      pointer: '/blocks/0/elements/0/accessibility_label',
    },
    {
      name: 'confirm title over 100',
      blocks: [{ type: 'actions', elements: [button({ confirm: confirmDialog({ title: plain('t'.repeat(101)) }) })] }],
      pointer: '/blocks/0/elements/0/confirm/title/text',
    },
    {
      name: 'confirm text over 300',
      blocks: [{ type: 'actions', elements: [button({ confirm: confirmDialog({ text: mrkdwn('t'.repeat(301)) }) })] }],
      pointer: '/blocks/0/elements/0/confirm/text/text',
    },
    {
      name: 'confirm button over 30',
      blocks: [{ type: 'actions', elements: [button({ confirm: confirmDialog({ confirm: plain('c'.repeat(31)) }) })] }],
      pointer: '/blocks/0/elements/0/confirm/confirm/text',
    },
    {
      name: 'deny button over 30',
      blocks: [{ type: 'section', text: mrkdwn('s'), accessory: button({ confirm: confirmDialog({ deny: plain('d'.repeat(31)) }) }) }],
      pointer: '/blocks/0/accessory/confirm/deny/text',
    },
    { name: 'more than 50 blocks', blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })), pointer: '/blocks' },
    { name: 'an unknown block type', blocks: [{ type: 'sectoin', text: mrkdwn('typo') }], pointer: '/blocks/0/type' },
    { name: 'a duplicate block_id', blocks: [{ type: 'divider', block_id: 'd' }, { type: 'divider', block_id: 'd' }], pointer: '/blocks/1/block_id' },
  ];

  it.each(cases)('$name → invalid_blocks, explained at $pointer, nothing posted', async ({ blocks, pointer }) => {
    const { error, messages } = await slackError(client.chat.postMessage({ channel: 'C1', text: 'fallback', blocks: blocks as never }));
    expect(error).toBe('invalid_blocks');
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.every((m) => /^\[ERROR\] .+ \[json-pointer:\/blocks.*\]$/.test(m))).toBe(true);
    expect(messages.some((m) => m.endsWith(`[json-pointer:${pointer}]`)), messages.join('\n')).toBe(true);
    expect(fake.messages()).toEqual([]);
  });

  it('blocks exactly at every limit are accepted', async () => {
    const blocks = [
      { type: 'header', text: plain('h'.repeat(150)) },
      { type: 'section', block_id: 'b'.repeat(255), text: mrkdwn('x'.repeat(3000)) },
      { type: 'section', fields: Array.from({ length: 10 }, () => mrkdwn('f'.repeat(2000))) },
      { type: 'context', elements: Array.from({ length: 10 }, () => mrkdwn('c')) },
      {
        type: 'actions',
        elements: [
          button({
            action_id: 'a'.repeat(255),
            text: plain('t'.repeat(75)),
            value: 'v'.repeat(2000),
            accessibility_label: 'l'.repeat(75),
            style: 'danger',
            confirm: confirmDialog({ title: plain('t'.repeat(100)), text: plain('t'.repeat(300)), confirm: plain('c'.repeat(30)), deny: plain('d'.repeat(30)) }),
          }),
        ],
      },
      ...Array.from({ length: 45 }, () => ({ type: 'divider' })),
    ];
    expect(blocks).toHaveLength(50);
    await expect(client.chat.postMessage({ channel: 'C1', text: 'fallback', blocks: blocks as never })).resolves.toMatchObject({ ok: true });
  });

  it('chat.update and chat.postEphemeral are checked too', async () => {
    const { ts } = await client.chat.postMessage({ channel: 'C1', text: 'x' });
    const bad = [{ type: 'header', text: plain('x'.repeat(151)) }];
    expect((await slackError(client.chat.update({ channel: 'C1', ts: ts!, text: 'y', blocks: bad as never }))).error).toBe('invalid_blocks');
    expect((await slackError(client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'y', blocks: bad as never }))).error).toBe('invalid_blocks');
    expect(fake.message('C1', ts!)?.text).toBe('x');
  });

  it('a top-level text over 40,000 characters is msg_too_long; 40,000 is fine', async () => {
    expect((await slackError(client.chat.postMessage({ channel: 'C1', text: 'x'.repeat(40_001) }))).error).toBe('msg_too_long');
    await expect(client.chat.postMessage({ channel: 'C1', text: 'x'.repeat(40_000) })).resolves.toMatchObject({ ok: true });
  });

  it('views are held to the same block rules (with the 100-block limit of a view)', async () => {
    const view = (blocks: unknown[]) => ({ type: 'modal', title: plain('T'), blocks }) as never;
    const { error, messages } = await slackError(client.views.open({ trigger_id: 't', view: view([{ type: 'section', text: mrkdwn('x'.repeat(3001)) }]) }));
    expect(error).toBe('invalid_arguments');
    expect(messages).toContain('[ERROR] must be less than 3001 characters [json-pointer:/view/blocks/0/text/text]');
    await expect(client.views.open({ trigger_id: 't', view: view(Array.from({ length: 100 }, () => ({ type: 'divider' }))) })).resolves.toMatchObject({
      ok: true,
    });
    expect((await slackError(client.views.open({ trigger_id: 't', view: view(Array.from({ length: 101 }, () => ({ type: 'divider' }))) }))).error).toBe(
      'invalid_arguments',
    );
  });
});

describe('message metadata', () => {
  const metadata = {
    event_type: 'broadcast_requested',
    event_payload: {
      requestId: 'r1',
      attempts: 2,
      urgent: false,
      tags: ['vip', 'beta'],
      audience: { kind: 'tags', count: 2 },
      decisions: [{ by: 'U0A', approved: true }],
    },
  } as never;

  it('is stored, returned by postMessage and by conversations.history with include_all_metadata only', async () => {
    const r = await client.chat.postMessage({ channel: 'C1', text: 'x', metadata });
    expect((r.message as { metadata?: unknown }).metadata).toEqual(metadata);
    expect(fake.message('C1', r.ts!)?.metadata).toEqual(metadata);
    const withMeta = await client.conversations.history({ channel: 'C1', include_all_metadata: true });
    expect(withMeta.messages?.[0]?.metadata).toEqual(metadata);
    const without = await client.conversations.history({ channel: 'C1' });
    expect(without.messages?.[0]).not.toHaveProperty('metadata');
  });

  it('chat.update replaces it', async () => {
    const { ts } = await client.chat.postMessage({ channel: 'C1', text: 'x', metadata });
    const next = { event_type: 'broadcast_sent', event_payload: { requestId: 'r1', taskId: 't-9' } };
    await client.chat.update({ channel: 'C1', ts: ts!, text: 'y', metadata: next });
    expect(fake.message('C1', ts!)?.metadata).toEqual(next);
  });

  it.each([
    { name: 'no event_type', value: { event_payload: { a: 1 } } },
    { name: 'an empty event_type', value: { event_type: '', event_payload: { a: 1 } } },
    { name: 'a payload that is not an object', value: { event_type: 'e', event_payload: ['a'] } },
    { name: 'an object nested in an object', value: { event_type: 'e', event_payload: { a: { b: { c: 1 } } } } },
    { name: 'an array inside an array', value: { event_type: 'e', event_payload: { a: [[1]] } } },
    { name: 'a nested object inside an array', value: { event_type: 'e', event_payload: { a: [{ b: { c: 1 } }] } } },
    { name: 'a null value', value: { event_type: 'e', event_payload: { a: null } } },
  ])('$name → invalid_metadata_format', async ({ value }) => {
    expect((await slackError(client.chat.postMessage({ channel: 'C1', text: 'x', metadata: value as never }))).error).toBe('invalid_metadata_format');
    expect(fake.messages()).toEqual([]);
  });

  it('metadata that is not JSON → invalid_metadata_format', async () => {
    const res = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${TOKEN}` },
      body: new URLSearchParams({ channel: 'C1', text: 'x', metadata: '{not json' }).toString(),
    });
    expect(await res.json()).toEqual({ ok: false, error: 'invalid_metadata_format' });
  });
});

describe('conversations.history and conversations.replies', () => {
  async function post(text: string, thread_ts?: string) {
    return (await client.chat.postMessage({ channel: 'C1', text, ...(thread_ts ? { thread_ts } : {}) })).ts!;
  }

  it('history lists top-level messages newest first, with thread counts, and no replies or ephemerals', async () => {
    const a = await post('a');
    const b = await post('b');
    await post('reply to a', a);
    const lastReply = await post('second reply to a', a);
    await client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'secret' });
    await client.chat.postMessage({ channel: 'C2', text: 'elsewhere' });
    const r = await client.conversations.history({ channel: 'C1' });
    expect(r.messages?.map((m) => m.text)).toEqual(['b', 'a']);
    expect(r.messages?.[0]).toMatchObject({ ts: b });
    expect(r.messages?.[0]).not.toHaveProperty('reply_count');
    expect(r.messages?.[1]).toMatchObject({ ts: a, thread_ts: a, reply_count: 2, latest_reply: lastReply });
    expect(r.has_more).toBe(false);
  });

  it('history pages with limit and cursor, and honours oldest/latest/inclusive', async () => {
    const ts: string[] = [];
    for (let i = 0; i < 5; i++) ts.push(await post(`m${i}`));
    const first = await client.conversations.history({ channel: 'C1', limit: 2 });
    expect(first.messages?.map((m) => m.text)).toEqual(['m4', 'm3']);
    expect(first.has_more).toBe(true);
    const second = await client.conversations.history({ channel: 'C1', limit: 2, cursor: first.response_metadata!.next_cursor! });
    expect(second.messages?.map((m) => m.text)).toEqual(['m2', 'm1']);
    const third = await client.conversations.history({ channel: 'C1', limit: 2, cursor: second.response_metadata!.next_cursor! });
    expect(third.messages?.map((m) => m.text)).toEqual(['m0']);
    expect(third.has_more).toBe(false);
    expect(third.response_metadata?.next_cursor).toBe('');

    const window = await client.conversations.history({ channel: 'C1', oldest: ts[1]!, latest: ts[3]! });
    expect(window.messages?.map((m) => m.text)).toEqual(['m2']);
    const inclusive = await client.conversations.history({ channel: 'C1', oldest: ts[1]!, latest: ts[3]!, inclusive: true });
    expect(inclusive.messages?.map((m) => m.text)).toEqual(['m3', 'm2', 'm1']);

    // The WebClient's own pagination walks every page.
    const all: string[] = [];
    for await (const page of client.paginate('conversations.history', { channel: 'C1', limit: 2 })) {
      all.push(...((page as { messages?: Array<{ text?: string }> }).messages ?? []).map((m) => m.text ?? ''));
    }
    expect(all).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
    expect((await slackError(client.conversations.history({ channel: 'C1', cursor: 'bm9wZQ==' }))).error).toBe('invalid_cursor');
  });

  it('replies returns the parent then its replies, oldest first, from the parent or a reply ts', async () => {
    const parent = await post('parent');
    const r1 = await post('one', parent);
    await post('two', parent);
    await post('unrelated');
    const fromParent = await client.conversations.replies({ channel: 'C1', ts: parent });
    expect(fromParent.messages?.map((m) => m.text)).toEqual(['parent', 'one', 'two']);
    expect(fromParent.messages?.[0]).toMatchObject({ reply_count: 2 });
    const fromReply = await client.conversations.replies({ channel: 'C1', ts: r1 });
    expect(fromReply.messages?.map((m) => m.text)).toEqual(['parent', 'one', 'two']);
    const paged = await client.conversations.replies({ channel: 'C1', ts: parent, limit: 2 });
    expect(paged.messages?.map((m) => m.text)).toEqual(['parent', 'one']);
    const rest = await client.conversations.replies({ channel: 'C1', ts: parent, limit: 2, cursor: paged.response_metadata!.next_cursor! });
    expect(rest.messages?.map((m) => m.text)).toEqual(['two']);
    expect((await slackError(client.conversations.replies({ channel: 'C1', ts: '1600000000.000001' }))).error).toBe('thread_not_found');
  });

  it('replies carries metadata only with include_all_metadata', async () => {
    const parent = (await client.chat.postMessage({ channel: 'C1', text: 'p', metadata: { event_type: 'e', event_payload: { k: 'v' } } })).ts!;
    expect((await client.conversations.replies({ channel: 'C1', ts: parent, include_all_metadata: true })).messages?.[0]?.metadata).toEqual({
      event_type: 'e',
      event_payload: { k: 'v' },
    });
    expect((await client.conversations.replies({ channel: 'C1', ts: parent })).messages?.[0]).not.toHaveProperty('metadata');
  });
});

describe('permalinks, membership and users', () => {
  it('chat.getPermalink answers https://fake-team.slack.com/archives/<channel>/p<ts without the dot>', async () => {
    const { ts } = await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'x' });
    const r = await client.chat.getPermalink({ channel: 'C0APPROVALS', message_ts: ts! });
    expect(r.permalink).toBe(`https://fake-team.slack.com/archives/C0APPROVALS/p${ts!.replace('.', '')}`);
  });

  it('chat.postEphemeral fails with not_in_channel on request (a fault)', async () => {
    fake.failNext('chat.postEphemeral', 1, { error: 'not_in_channel' });
    expect((await slackError(client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'x' }))).error).toBe('not_in_channel');
    await expect(client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'x' })).resolves.toMatchObject({ ok: true });
  });

  it('a channel the bot is not in answers not_in_channel to posts and reads, and survives reset()', async () => {
    fake.notInChannels.add('C0SECRET');
    fake.reset();
    expect((await slackError(client.chat.postMessage({ channel: 'C0SECRET', text: 'x' }))).error).toBe('not_in_channel');
    expect((await slackError(client.chat.postEphemeral({ channel: 'C0SECRET', user: 'U1', text: 'x' }))).error).toBe('not_in_channel');
    expect((await slackError(client.conversations.history({ channel: 'C0SECRET' }))).error).toBe('not_in_channel');
    await expect(client.chat.postMessage({ channel: 'C0OPEN', text: 'x' })).resolves.toMatchObject({ ok: true });
    fake.notInChannels.delete('C0SECRET');
    await expect(client.chat.postMessage({ channel: 'C0SECRET', text: 'x' })).resolves.toMatchObject({ ok: true });
  });

  it('a DM to a user that does not exist → user_not_found; to a deactivated one → account_inactive', async () => {
    fake.userStates.set('U0GHOST', 'not_found');
    fake.userStates.set('U0GONE', 'deactivated');
    expect((await slackError(client.chat.postMessage({ channel: 'U0GHOST', text: 'x' }))).error).toBe('user_not_found');
    expect((await slackError(client.chat.postMessage({ channel: 'U0GONE', text: 'x' }))).error).toBe('account_inactive');
    expect((await slackError(client.chat.postMessage({ channel: 'DU0GONE', text: 'x' }))).error).toBe('account_inactive');
    expect((await slackError(client.conversations.open({ users: 'U0GHOST' }))).error).toBe('user_not_found');
    expect((await slackError(client.conversations.open({ users: 'U0GONE' }))).error).toBe('user_disabled');
    expect((await slackError(client.users.info({ user: 'U0GHOST' }))).error).toBe('user_not_found');
    expect((await client.users.info({ user: 'U0GONE' })).user).toMatchObject({ id: 'U0GONE', deleted: true });
    expect((await slackError(client.chat.postEphemeral({ channel: 'C1', user: 'U0GONE', text: 'x' }))).error).toBe('user_not_in_channel');
    await expect(client.chat.postMessage({ channel: 'U0ALIVE', text: 'x' })).resolves.toMatchObject({ ok: true });
    expect(fake.messages().map((m) => m.channel)).toEqual(['U0ALIVE']);
  });
});

describe('response_url posts do what Slack does', () => {
  async function respond(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: await res.json() };
  }

  it('by default (and with replace_original:false / response_type ephemeral) the clicker sees an ephemeral message', async () => {
    const { ts } = await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'card', blocks });
    const url = fake.responseUrl('click-1', { channel: 'C0APPROVALS', user: 'U0CLICKER', messageTs: ts! });
    expect(await respond(url, { text: 'You are not an approver.' })).toEqual({ status: 200, json: { ok: true } });
    expect(await respond(url, { replace_original: false, response_type: 'ephemeral', text: 'Already approved by <@U0A>.' })).toMatchObject({ status: 200 });
    expect(fake.ephemerals('U0CLICKER').map((m) => [m.text, m.channel, m.viaResponseUrl])).toEqual([
      ['You are not an approver.', 'C0APPROVALS', 'click-1'],
      ['Already approved by <@U0A>.', 'C0APPROVALS', 'click-1'],
    ]);
    expect(fake.message('C0APPROVALS', ts!)).toMatchObject({ text: 'card', updates: 0 });
    expect(fake.responsePosts('click-1').map((p) => p.effect)).toEqual(['ephemeral', 'ephemeral']);
    expect(fake.responses('click-1')).toHaveLength(2);
  });

  it('replace_original:true replaces the message; delete_original deletes it; in_channel posts a new one', async () => {
    const { ts } = await client.chat.postMessage({ channel: 'C1', text: 'card', blocks });
    const url = fake.responseUrl('click-2', { channel: 'C1', user: 'U1', messageTs: ts! });
    await respond(url, { replace_original: true, text: 'card, approved', blocks: [blocks[0]] });
    expect(fake.message('C1', ts!)).toMatchObject({ text: 'card, approved', blocks: [blocks[0]], updates: 1 });
    await respond(url, { response_type: 'in_channel', text: 'for everyone' });
    expect(fake.messages('C1').map((m) => m.text)).toEqual(['card, approved', 'for everyone']);
    await respond(url, { delete_original: true });
    expect(fake.message('C1', ts!)).toBeUndefined();
    expect(fake.responsePosts('click-2').map((p) => p.effect)).toEqual(['replaced', 'in_channel', 'deleted']);
    expect(fake.ephemerals()).toEqual([]);
  });

  it('refuses invalid blocks and empty bodies with HTTP 400, changing nothing', async () => {
    const url = fake.responseUrl('click-3', { channel: 'C1', user: 'U1' });
    const bad = await respond(url, { text: 'x', blocks: [{ type: 'header', text: plain('x'.repeat(151)) }] });
    expect(bad).toMatchObject({ status: 400, json: { ok: false, error: 'invalid_blocks' } });
    expect(await respond(url, {})).toMatchObject({ status: 400, json: { ok: false, error: 'no_text' } });
    expect(fake.responsePosts('click-3').map((p) => [p.effect, p.error])).toEqual([
      ['rejected', 'invalid_blocks'],
      ['rejected', 'no_text'],
    ]);
    expect(fake.ephemerals()).toEqual([]);
  });

  it('without a context the body is only recorded (as before)', async () => {
    await respond(fake.responseUrl('plain'), { text: 'hi' });
    expect(fake.responses('plain')).toEqual([{ text: 'hi' }]);
    expect(fake.responsePosts('plain')).toMatchObject([{ effect: 'unplaced' }]);
    expect(fake.messages()).toEqual([]);
  });
});
