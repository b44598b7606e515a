/**
 * The app's own views.* calls, over real HTTP to the fake Slack: JSON bodies with the bot token in
 * the Authorization header, and every failure thrown as the @slack/web-api error its callers
 * already handle (platform error, 429 with Retry-After, other HTTP statuses, a dropped connection).
 */
import { ErrorCode } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackApi } from '../../src/slack/slack-api.js';
import { FakeSlack } from '../fakes/fake-slack.js';

const MODAL = {
  type: 'modal',
  callback_id: 'broadcast_request',
  title: { type: 'plain_text', text: 'Request a broadcast' },
  blocks: [{ type: 'section', block_id: 'warning', text: { type: 'mrkdwn', text: 'A push “cannot” be recalled & <b>' } }],
};

let fake: FakeSlack;
let api: SlackApi;

beforeAll(async () => {
  fake = await FakeSlack.start();
  api = new SlackApi({ token: fake.botToken, apiUrl: fake.apiUrl });
});
afterAll(async () => {
  await api.close();
  await fake.close();
});

const caught = async (p: Promise<unknown>) => p.then(() => expect.unreachable('the call succeeded'), (e: unknown) => e as Record<string, unknown> & Error);

describe('SlackApi', () => {
  it('opens a modal with the view as sent, and returns Slack’s answer', async () => {
    const before = fake.views.length;
    const res = await api.viewsOpen({ trigger_id: 'trig.1', view: MODAL });
    expect(res['ok']).toBe(true);
    const opened = fake.views.slice(before);
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ method: 'views.open', trigger_id: 'trig.1', view: MODAL });
    expect((res['view'] as { id?: string }).id).toBe(opened[0]!.view_id);
  });

  it('updates and publishes views', async () => {
    const opened = await api.viewsOpen({ trigger_id: 'trig.2', view: MODAL });
    const id = (opened['view'] as { id: string }).id;
    await expect(api.viewsUpdate({ view_id: id, view: { ...MODAL, title: { type: 'plain_text', text: 'Again' } } })).resolves.toMatchObject({ ok: true });
    await expect(api.viewsPublish({ user_id: 'U0REQUESTER', view: { type: 'home', blocks: MODAL.blocks } })).resolves.toMatchObject({ ok: true });
  });

  it('throws a platform error with Slack’s error code', async () => {
    fake.failNext('views.open', 1, { error: 'expired_trigger_id' });
    const e = await caught(api.viewsOpen({ trigger_id: 'trig.3', view: MODAL }));
    expect(e['code']).toBe(ErrorCode.PlatformError);
    expect((e['data'] as { error: string }).error).toBe('expired_trigger_id');
  });

  it('throws a platform error for a view Slack refuses', async () => {
    const e = await caught(api.viewsOpen({ trigger_id: 'trig.4', view: { type: 'modal', blocks: [] } }));
    expect(e['code']).toBe(ErrorCode.PlatformError);
    expect((e['data'] as { error: string }).error).toBe('invalid_arguments');
  });

  it('throws a rate-limit error carrying Retry-After in seconds', async () => {
    fake.failNext('views.open', 1, { status: 429, retryAfter: 7 });
    const e = await caught(api.viewsOpen({ trigger_id: 'trig.5', view: MODAL }));
    expect(e['code']).toBe(ErrorCode.RateLimitedError);
    expect(e['retryAfter']).toBe(7);
  });

  it('throws an HTTP error for another status, and a request error for a dropped connection', async () => {
    fake.failNext('views.open', 1, { status: 503 });
    const http = await caught(api.viewsOpen({ trigger_id: 'trig.6', view: MODAL }));
    expect(http['code']).toBe(ErrorCode.HTTPError);
    expect(http['statusCode']).toBe(503);
    fake.failNext('views.open', 1, { drop: true });
    const dropped = await caught(api.viewsOpen({ trigger_id: 'trig.7', view: MODAL }));
    expect(dropped['code']).toBe(ErrorCode.RequestError);
  });

  it('refuses a wrong token like Slack, and never puts the token in an error', async () => {
    const wrong = new SlackApi({ token: 'xoxb-not-the-right-one', apiUrl: fake.apiUrl });
    try {
      const e = await caught(wrong.viewsOpen({ trigger_id: 'trig.8', view: MODAL }));
      expect((e['data'] as { error: string }).error).toBe('invalid_auth');
      expect(JSON.stringify({ ...e, text: e.message, stack: e.stack })).not.toContain('xoxb-not-the-right-one');
    } finally {
      await wrong.close();
    }
  });
});
