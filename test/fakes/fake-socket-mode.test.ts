/**
 * The fake Socket Mode server, driven by the real @slack/socket-mode client (what Bolt uses) through the fake
 * Slack's apps.connections.open, and by raw WebSockets where the SDK would hide the detail.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LogLevel, SocketModeClient, type Logger } from '@slack/socket-mode';
import { WebAPIPlatformError, WebAPIRequestError, WebClient } from '@slack/web-api';
import { WebSocket } from 'ws';
import { FAKE_SLACK_DEFAULTS, FakeSlack } from './fake-slack.js';
import { FakeSocketMode, formFields, interactionPayload } from './fake-socket-mode.js';
import { blockActionBody, slashCommandBody } from '../helpers/slack-requests.js';

const quiet: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

let slack: FakeSlack;
let socket: FakeSocketMode;
let clients: SocketModeClient[] = [];

beforeAll(async () => {
  slack = await FakeSlack.start();
  socket = await FakeSocketMode.start({ slack });
});
afterAll(async () => {
  await socket.close();
  await slack.close();
});
beforeEach(() => {
  slack.reset();
  socket.reset();
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.disconnect()));
  clients = [];
  await socket.waitForNoLink();
});

/** The SDK client as Bolt builds it, pointed at the fakes; short ping timeout so its own reconnect is quick. */
function sdkClient(): SocketModeClient {
  const client = new SocketModeClient({
    appToken: FAKE_SLACK_DEFAULTS.appToken,
    logger: quiet,
    clientPingTimeout: 300,
    clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
  });
  clients.push(client);
  return client;
}

/**
 * The client's next 'connected' (it heard hello). Tests wait for this, not for the server's side of the link:
 * disconnecting an SDK 3.1.0 client while its reconnect waits for hello is the unhandled rejection the app avoids.
 */
function nextConnected(client: SocketModeClient): Promise<unknown> {
  return new Promise((resolve) => client.once('connected', resolve));
}

function rawLink(url: string): Promise<{ hello: Record<string, unknown>; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('message', (data) => resolve({ hello: JSON.parse(data.toString()) as Record<string, unknown>, ws }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

describe('apps.connections.open', () => {
  it('answers the app-level token with a single-use ws:// link URL carrying a ticket', async () => {
    const r = await new WebClient(FAKE_SLACK_DEFAULTS.appToken, { slackApiUrl: slack.apiUrl }).apps.connections.open();
    expect(r.url).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:\\d+/link/\\?ticket=[0-9a-f-]+&app_id=${FAKE_SLACK_DEFAULTS.appId}$`));
    expect(slack.calls.at(-1)).toMatchObject({ method: 'apps.connections.open', token: FAKE_SLACK_DEFAULTS.appToken, status: 200 });
  });

  it('refuses the wrong kind of token both ways, like Slack', async () => {
    const asBot = new WebClient(FAKE_SLACK_DEFAULTS.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    await expect(asBot.apps.connections.open()).rejects.toMatchObject({ data: { error: 'not_allowed_token_type' } });
    const asApp = new WebClient(FAKE_SLACK_DEFAULTS.appToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    const err = await asApp.chat.postMessage({ channel: 'C1', text: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebAPIPlatformError);
    expect((err as WebAPIPlatformError).data.error).toBe('not_allowed_token_type');
    expect(slack.messages()).toEqual([]);
  });

  it('a `refuse` fault drops that call, then the port refuses connections until it listens again', async () => {
    const client = new WebClient(FAKE_SLACK_DEFAULTS.appToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    slack.failNext('apps.connections.open', 1, { refuse: true, forMs: 60_000 });
    await expect(client.apps.connections.open()).rejects.toBeInstanceOf(WebAPIRequestError);
    const refused = (await client.apps.connections.open().catch((e: unknown) => e)) as WebAPIRequestError;
    expect(refused).toBeInstanceOf(WebAPIRequestError);
    expect((refused.original as Error & { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
    await slack.acceptConnections();
    await expect(client.apps.connections.open()).resolves.toMatchObject({ ok: true });
    expect(slack.callsTo('apps.connections.open')).toHaveLength(2); // the refused one never reached it
  });
});

describe('links', () => {
  it('says hello like Slack when a link opens, and refuses an unknown or used ticket', async () => {
    const url = socket.issueUrl();
    const { hello, ws } = await rawLink(url);
    expect(hello).toMatchObject({ type: 'hello', num_connections: 1, connection_info: { app_id: FAKE_SLACK_DEFAULTS.appId } });
    expect(socket.openLinks()).toHaveLength(1);
    await expect(rawLink(url)).rejects.toThrow('HTTP 401');
    await expect(rawLink(url.replace(/ticket=[^&]+/, 'ticket=made-up'))).rejects.toThrow('HTTP 401');
    expect(socket.refusedTickets).toBe(2);
    ws.close();
    await socket.waitForNoLink();
    expect(socket.links[0]).toMatchObject({ closedBy: 'client' });
  });

  it('the SDK client connects through apps.connections.open and hears hello', async () => {
    const client = sdkClient();
    const connected = nextConnected(client);
    await client.start();
    await connected;
    const link = await socket.waitForLink({ count: 1 });
    expect(slack.callsTo('apps.connections.open')).toHaveLength(1);
    expect(link.ticket).toMatch(/^[0-9a-f-]+$/);
  });

  it('a refresh request makes the SDK client close the link and open a new one with a fresh ticket', async () => {
    const client = sdkClient();
    await client.start();
    await socket.waitForLink({ count: 1 });
    const reconnected = nextConnected(client);
    socket.requestRefresh();
    await reconnected;
    const second = await socket.waitForLink({ count: 2 });
    expect(socket.links[0]).toMatchObject({ closedBy: 'refresh' });
    expect(socket.links[0]!.closedAt).toBeDefined();
    expect(second.ticket).not.toBe(socket.links[0]!.ticket);
    expect(slack.callsTo('apps.connections.open')).toHaveLength(2);
  });

  it('a dropped link is noticed by the SDK client, which opens a new one', async () => {
    const client = sdkClient();
    await client.start();
    await socket.waitForLink({ count: 1 });
    const disconnected = new Promise((r) => client.once('disconnected', r));
    const reconnecting = new Promise((r) => client.once('reconnecting', r));
    const reconnected = nextConnected(client);
    socket.dropAll();
    await reconnecting;
    await reconnected;
    await socket.waitForLink({ count: 2 });
    expect(socket.links[0]).toMatchObject({ closedBy: 'drop' });
    // The SDK with auto-reconnect on never reports 'disconnected' for a drop it recovers from.
    const saw = await Promise.race([disconnected.then(() => 'disconnected'), new Promise((r) => setTimeout(() => r('none'), 50))]);
    expect(saw).toBe('none');
  });
});

describe('envelopes and acks', () => {
  it('delivers a slash command with the HTTP fields and records the ack payload', async () => {
    const client = sdkClient();
    const seen = new Promise<{ body: Record<string, unknown>; accepts: unknown }>((resolve) =>
      client.on('slash_commands', async ({ ack, body, accepts_response_payload }) => {
        await ack({ response_type: 'ephemeral', text: 'got it' });
        resolve({ body, accepts: accepts_response_payload });
      }),
    );
    await client.start();
    const fields = formFields(slashCommandBody({ text: 'hello', responseUrl: slack.responseUrl('sm-1') }));
    const id = await socket.slashCommand(fields);
    const { body, accepts } = await seen;
    expect(body).toMatchObject({ command: '/broadcast', text: 'hello', response_url: slack.responseUrl('sm-1') });
    expect(accepts).toBe(true);
    const ack = await socket.waitForAck(id);
    expect(ack.payload).toEqual({ response_type: 'ephemeral', text: 'got it' });
    expect(socket.envelopes).toMatchObject([{ envelope_id: id, type: 'slash_commands', accepts_response_payload: true }]);
  });

  it('delivers interactions (view_submission accepts a response payload, block_actions does not)', async () => {
    const client = sdkClient();
    const got: Array<{ type: unknown; accepts: unknown }> = [];
    client.on('interactive', async ({ ack, body, accepts_response_payload }) => {
      got.push({ type: body.type, accepts: accepts_response_payload });
      await ack(body.type === 'view_submission' ? { response_action: 'errors', errors: { message: 'Too long' } } : undefined);
    });
    await client.start();
    const click = interactionPayload(
      blockActionBody({ userId: 'U1', actionId: 'approve', value: 'r1', channelId: 'C1', messageTs: '1700000000.000100' }),
    );
    const clickId = await socket.interactive(click);
    const submitId = await socket.interactive({ type: 'view_submission', view: { id: 'V1', callback_id: 'x', state: { values: {} } } });
    expect((await socket.waitForAck(clickId)).payload).toEqual({});
    expect((await socket.waitForAck(submitId)).payload).toEqual({ response_action: 'errors', errors: { message: 'Too long' } });
    expect(got).toEqual([
      { type: 'block_actions', accepts: false },
      { type: 'view_submission', accepts: true },
    ]);
  });

  it('wraps an Events API event in an event_callback with retry fields', async () => {
    const client = sdkClient();
    const seen = new Promise<{ event: Record<string, unknown>; retry: unknown; reason: unknown }>((resolve) =>
      client.on('app_home_opened', async ({ ack, event, retry_num, retry_reason }) => {
        await ack();
        resolve({ event, retry: retry_num, reason: retry_reason });
      }),
    );
    await client.start();
    const id = await socket.eventsApi({ type: 'app_home_opened', user: 'U1', tab: 'home' }, { retryAttempt: 1, retryReason: 'timeout' });
    expect(await seen).toEqual({ event: { type: 'app_home_opened', user: 'U1', tab: 'home' }, retry: 1, reason: 'timeout' });
    await socket.waitForAck(id);
    expect(socket.envelopes[0]?.payload).toMatchObject({ type: 'event_callback', api_app_id: FAKE_SLACK_DEFAULTS.appId });
  });

  it('waitForAck names the envelope it waited for', async () => {
    const client = sdkClient();
    await client.start(); // no listener: nothing acks
    const id = await socket.slashCommand({ command: '/broadcast', text: '' });
    await expect(socket.waitForAck(id, { timeoutMs: 100 })).rejects.toThrow(id);
  });
});
