import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App, LogLevel } from '@slack/bolt';
import type { Logger } from '@slack/bolt';
import { FakeSlack } from '../fakes/fake-slack.js';
import {
  blockActionBody,
  postSigned,
  signBody,
  slashCommandBody,
  stateValue,
  valuesFromModal,
  viewSubmissionBody,
} from './slack-requests.js';

const TOKEN = 'xoxb-bolt-test';
const SECRET = 'test-signing-secret';

const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

let fake: FakeSlack;
let app: App;
let url: string;
const commands: { text: string; user_id: string; trigger_id: string }[] = [];
const actions: { value: string | undefined; user: string; channel: string | undefined; ts: string | undefined }[] = [];
const submissions: Record<string, Record<string, unknown>>[] = [];

beforeAll(async () => {
  fake = await FakeSlack.start({ botToken: TOKEN });
  app = new App({
    token: TOKEN,
    signingSecret: SECRET,
    logger: silentLogger,
    clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
  });
  app.command('/broadcast', async ({ ack, command }) => {
    commands.push({ text: command.text, user_id: command.user_id, trigger_id: command.trigger_id });
    await ack();
  });
  app.action('approve', async ({ ack, body, action, respond }) => {
    await ack();
    actions.push({
      value: action.type === 'button' ? action.value : undefined,
      user: body.user.id,
      channel: body.channel?.id,
      ts: body.type === 'block_actions' ? body.message?.ts : undefined,
    });
    await respond({ text: 'approved', replace_original: false });
  });
  app.view('broadcast_request', async ({ ack, view }) => {
    submissions.push(view.state.values as Record<string, Record<string, unknown>>);
    await ack();
  });
  const server = (await app.start(0)) as Server;
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
});

afterAll(async () => {
  await app.stop();
  await fake.close();
});

beforeEach(() => {
  commands.length = 0;
  actions.length = 0;
  submissions.length = 0;
});

describe('signBody', () => {
  it("matches Slack's documented example signature", () => {
    // Example from https://api.slack.com/authentication/verifying-requests-from-slack
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
      '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com' +
      '%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signBody('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618_000)).toEqual({
      'x-slack-request-timestamp': '1531420618',
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    });
  });
});

describe('signed requests to a real Bolt app', () => {
  it('a correctly signed slash command gets 200 and reaches the listener', async () => {
    const body = slashCommandBody({ text: 'hello world & more', userId: 'U0ALICE', triggerId: '1.2.abc', responseUrl: fake.responseUrl('c1') });
    const res = await postSigned(url, SECRET, body);
    expect(res.status).toBe(200);
    expect(commands).toEqual([{ text: 'hello world & more', user_id: 'U0ALICE', trigger_id: '1.2.abc' }]);
  });

  it('a wrong signature gets 401 and never reaches the listener', async () => {
    const body = slashCommandBody({ responseUrl: fake.responseUrl('c2') });
    const res = await postSigned(url, SECRET, body, { signature: `v0=${'0'.repeat(64)}` });
    expect(res.status).toBe(401);
    const wrongSecret = await postSigned(url, 'not-the-secret', body);
    expect(wrongSecret.status).toBe(401);
    expect(commands).toEqual([]);
  });

  it('a stale timestamp (6 minutes old) gets 401', async () => {
    const body = slashCommandBody({ responseUrl: fake.responseUrl('c3') });
    const res = await postSigned(url, SECRET, body, { nowMs: Date.now() - 6 * 60_000 });
    expect(res.status).toBe(401);
    expect(commands).toEqual([]);
  });

  it('a content-type with charset is not parsed as a form (the documented pitfall)', async () => {
    const body = slashCommandBody({ responseUrl: fake.responseUrl('c4') });
    const res = await postSigned(url, SECRET, body, { contentType: 'application/x-www-form-urlencoded;charset=UTF-8' });
    expect(res.status).toBe(400);
    expect(commands).toEqual([]);
  });

  it('a button click reaches the action listener and respond() lands on the fake response_url', async () => {
    const message = {
      type: 'message',
      ts: '1700000000.000100',
      text: 'request',
      blocks: [
        {
          type: 'actions',
          block_id: 'decision',
          elements: [{ type: 'button', action_id: 'approve', value: 'req-7', text: { type: 'plain_text', text: 'Approve' } }],
        },
      ],
    };
    const body = blockActionBody({
      userId: 'U0APPROVER',
      actionId: 'approve',
      value: 'req-7',
      channelId: 'C0APPROVALS',
      messageTs: message.ts,
      responseUrl: fake.responseUrl('a1'),
      message,
    });
    const payload = JSON.parse(new URLSearchParams(body).get('payload')!) as { actions: { block_id: string }[] };
    expect(payload.actions[0]?.block_id).toBe('decision');

    const res = await postSigned(url, SECRET, body);
    expect(res.status).toBe(200);
    expect(actions).toEqual([{ value: 'req-7', user: 'U0APPROVER', channel: 'C0APPROVALS', ts: message.ts }]);
    const responses = await fake.waitFor(() => fake.responses('a1').length > 0 && fake.responses('a1'), { what: 'respond() to a1' });
    expect(responses).toEqual([{ text: 'approved', replace_original: false }]);
  });

  it('a view submission built with valuesFromModal reaches the view listener', async () => {
    const values = valuesFromModal(requestModal, { message: 'Hello all', audience: 'all' });
    const res = await postSigned(url, SECRET, viewSubmissionBody({ userId: 'U0ALICE', callbackId: 'broadcast_request', values }));
    expect(res.status).toBe(200);
    expect(submissions).toHaveLength(1);
    expect(submissions[0]?.['message']).toEqual({ body: { type: 'plain_text_input', value: 'Hello all' } });
  });
});

const requestModal = {
  type: 'modal',
  callback_id: 'broadcast_request',
  title: { type: 'plain_text', text: 'Broadcast' },
  submit: { type: 'plain_text', text: 'Request' },
  blocks: [
    { type: 'section', block_id: 'intro', text: { type: 'mrkdwn', text: 'Ask for an all-member push' } },
    { type: 'input', block_id: 'message', label: { type: 'plain_text', text: 'Message' }, element: { type: 'plain_text_input', action_id: 'body' } },
    {
      type: 'input',
      block_id: 'audience',
      label: { type: 'plain_text', text: 'Audience' },
      element: {
        type: 'radio_buttons',
        action_id: 'choice',
        options: [
          { text: { type: 'plain_text', text: 'Everyone' }, value: 'all' },
          { text: { type: 'plain_text', text: 'Tagged' }, value: 'tag' },
        ],
      },
    },
    {
      type: 'input',
      block_id: 'priority',
      optional: true,
      label: { type: 'plain_text', text: 'Priority' },
      element: {
        type: 'static_select',
        action_id: 'level',
        initial_option: { text: { type: 'plain_text', text: 'Normal' }, value: 'normal' },
        options: [
          { text: { type: 'plain_text', text: 'Normal' }, value: 'normal' },
          { text: { type: 'plain_text', text: 'High' }, value: 'high' },
        ],
      },
    },
    {
      type: 'input',
      block_id: 'platforms',
      optional: true,
      label: { type: 'plain_text', text: 'Platforms' },
      element: {
        type: 'checkboxes',
        action_id: 'picked',
        options: [
          { text: { type: 'plain_text', text: 'iOS' }, value: 'ios' },
          { text: { type: 'plain_text', text: 'Android' }, value: 'android' },
          { text: { type: 'plain_text', text: 'Web' }, value: 'web' },
        ],
      },
    },
  ],
};

describe('valuesFromModal', () => {
  it('builds the state value for each element type, keyed block_id → action_id', () => {
    const values = valuesFromModal(requestModal, { message: 'Hi', audience: 'tag', priority: 'high', platforms: 'ios, web' });
    expect(values).toEqual({
      message: { body: { type: 'plain_text_input', value: 'Hi' } },
      audience: { choice: { type: 'radio_buttons', selected_option: { text: { type: 'plain_text', text: 'Tagged' }, value: 'tag' } } },
      priority: { level: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: 'High' }, value: 'high' } } },
      platforms: {
        picked: {
          type: 'checkboxes',
          selected_options: [
            { text: { type: 'plain_text', text: 'iOS' }, value: 'ios' },
            { text: { type: 'plain_text', text: 'Web' }, value: 'web' },
          ],
        },
      },
    });
    expect(values).not.toHaveProperty('intro');
  });

  it('fills blocks not named like an untouched modal: initial value or empty', () => {
    const values = valuesFromModal(requestModal, { message: null });
    expect(values['message']).toEqual({ body: stateValue.text(null) });
    expect(values['audience']).toEqual({ choice: stateValue.radio(null) });
    expect((values['priority']?.['level'] as { selected_option: { value: string } }).selected_option.value).toBe('normal');
    expect(values['platforms']).toEqual({ picked: stateValue.checkboxes([]) });
  });

  it('throws clearly when a key names no input block or a value is not an option', () => {
    expect(() => valuesFromModal(requestModal, { nope: 'x' })).toThrow(/"nope" names no input block.*message/);
    expect(() => valuesFromModal(requestModal, { intro: 'x' })).toThrow(/"intro" names no input block/);
    expect(() => valuesFromModal(requestModal, { audience: 'everyone' })).toThrow(/"everyone" is not an option/);
  });
});

describe('stateValue', () => {
  it('has the shapes Slack sends', () => {
    expect(stateValue.text('a')).toEqual({ type: 'plain_text_input', value: 'a' });
    expect(stateValue.radio('x')).toMatchObject({ type: 'radio_buttons', selected_option: { value: 'x' } });
    expect(stateValue.radio(null)).toEqual({ type: 'radio_buttons', selected_option: null });
    expect(stateValue.select('y')).toMatchObject({ type: 'static_select', selected_option: { value: 'y' } });
    expect(stateValue.checkboxes(['a', 'b'])).toMatchObject({ type: 'checkboxes', selected_options: [{ value: 'a' }, { value: 'b' }] });
  });
});
