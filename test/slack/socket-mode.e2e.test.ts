/**
 * The REAL app in Socket Mode (buildApp with SLACK_APP_TOKEN, Bolt's SocketModeReceiver, @slack/socket-mode)
 * against the fake Slack, the fake Socket Mode server and the push emulator: requests arrive as envelopes,
 * and the link survives refreshes, drops and a Slack that fails `apps.connections.open` for a while.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APPROVAL_CHANNEL, APPROVER, FORMS, REQUESTER } from '../helpers/harness.js';
import { linkFailures, startSocketHarness, type SocketHarness } from '../helpers/socket-harness.js';
import { textOf } from './flow-helpers.js';

// Anything the network does to the link must never surface as an unhandled rejection (it ends the process).
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** The app handles a command end to end: /broadcast is acked and its modal opened. */
async function commandOpensModal(h: SocketHarness): Promise<any> {
  const before = h.fake.views.length;
  const ack = await h.command();
  expect(ack.payload).toEqual({});
  const opened = await h.fake.waitFor(() => h.fake.views.slice(before).find((v) => v.method === 'views.open'), { what: 'views.open' });
  return opened.view;
}

describe('requests over the Socket Mode link', () => {
  let h: SocketHarness;
  beforeAll(async () => {
    h = await startSocketHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('connects with the app-level token, and the HTTP port only serves /healthz', async () => {
    const opens = h.fake.calls.filter((c) => c.method === 'apps.connections.open');
    expect(opens).toHaveLength(1);
    expect(opens[0]).toMatchObject({ token: h.config.SLACK_APP_TOKEN, status: 200 });
    expect(h.socket.openLinks()).toHaveLength(1);
    const events = await fetch(h.healthUrl.replace('/healthz', '/slack/events'), { method: 'POST', body: 'x' });
    expect(events.status).toBe(404);
  });

  it('/broadcast delivered as a slash_commands envelope is acked and opens the request modal', async () => {
    const view = await commandOpensModal(h);
    expect(view.callback_id).toBeTruthy();
    expect(view.blocks.some((b: any) => b.block_id === 'message')).toBe(true);
    const open = h.fake.calls.filter((c) => c.method === 'views.open').at(-1)!;
    expect(open.token).toBe(h.config.SLACK_BOT_TOKEN); // Web API calls still use the bot token
  });

  it('a view_submission with a mistake is answered in the ack with response_action errors; a valid one posts the card', async () => {
    const view = await h.openModal();
    const refused = await h.submit(view, { ...FORMS.all, message: '' });
    expect(refused.payload).toMatchObject({ response_action: 'errors', errors: { message: expect.any(String) } });
    expect(h.fake.messages(APPROVAL_CHANNEL)).toHaveLength(0);

    const accepted = await h.submit(await h.openModal(), FORMS.all);
    expect(accepted.payload).toEqual({});
    const card = await h.fake.waitFor(() => h.fake.messages(APPROVAL_CHANNEL).find((m) => !m.thread_ts), { what: 'the approval card' });
    expect(textOf(card)).toContain(FORMS.all.message);
  });

  it('an Approve click delivered as an interactive envelope pushes exactly once', async () => {
    const [request] = await h.app.service.queries.recent(100);
    expect(request?.requesterId).toBe(REQUESTER);
    const ack = await h.click('approve', request!.id, APPROVER);
    expect(ack.payload).toEqual({});
    await h.fake.waitFor(() => h.fake.messages(APPROVAL_CHANNEL).some((m) => m.thread_ts && /TaskId/.test(textOf(m))), { what: 'the TaskId reply' });
    expect(h.emulator.requests.filter((r) => r.path.endsWith('/im_push'))).toHaveLength(1);
  });
});

describe('the link survives the network', () => {
  let h: SocketHarness;
  beforeEach(async () => {
    unhandled.length = 0;
    h = await startSocketHarness();
  });
  afterEach(async () => {
    await h?.stop();
  });

  it('after a refresh request the app opens a new link at once and handles the next command', async () => {
    const first = h.socket.links[0]!;
    h.socket.requestRefresh();
    await h.socket.waitForLink({ count: 2 });
    expect(first.ticket).not.toBe(h.socket.links[1]!.ticket);
    await commandOpensModal(h);
    expect(linkFailures(h)).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  it('a dropped link is reopened through HTTP 500, a refused connection and a 429 with Retry-After, then the next command works', async () => {
    await commandOpensModal(h);
    h.fake.failNext('apps.connections.open', 1, { status: 500 });
    h.fake.failNext('apps.connections.open', 1, { refuse: true, forMs: 300 });
    h.fake.failNext('apps.connections.open', 1, { status: 429, retryAfter: 1 });
    h.socket.dropAll();

    await h.socket.waitForLink({ count: 2, timeoutMs: 15_000 });
    const answers = h.fake.calls.filter((c) => c.method === 'apps.connections.open').map((c) => c.status);
    expect(answers).toEqual([200, 500, 0, 429, 200]);
    const reasons = linkFailures(h);
    expect(reasons[0]).toMatch(/HTTP 500/);
    expect(reasons.some((r) => /ECONNREFUSED/.test(r)), `reasons: ${reasons.join(' | ')}`).toBe(true);
    expect(reasons.at(-1)).toMatch(/rate limited by Slack \(Retry-After 1 s\)/);
    await h.fake.waitFor(() => h.logs.filter((l) => l['msg'] === 'Socket Mode link up').length === 2, { what: 'the app to hear hello again' });

    await commandOpensModal(h);
    expect(JSON.stringify(h.logs)).not.toContain(h.config.SLACK_APP_TOKEN);
    expect(unhandled).toEqual([]);
  });

  it('a link URL that Slack refuses (expired ticket) is retried with a fresh one', async () => {
    let issued = 0;
    h.fake.serveSocketMode({
      issueUrl: () => {
        issued += 1;
        const url = h.socket.issueUrl();
        return issued <= 2 ? url.replace(/ticket=[^&]+/, 'ticket=expired') : url;
      },
    });
    h.socket.dropAll();
    await h.socket.waitForLink({ count: 2 });
    // Each refused URL is one failed attempt (undici sends a request answered 401 a second time before giving up).
    expect(h.socket.refusedTickets).toBeGreaterThanOrEqual(2);
    expect(linkFailures(h)).toEqual(['the link closed before Slack said hello', 'the link closed before Slack said hello']);
    await commandOpensModal(h);
    expect(unhandled).toEqual([]);
  });

  it('Slack refusing the app-level token while reconnecting leaves the link down without killing the process', async () => {
    h.fake.failNext('apps.connections.open', 1, { error: 'invalid_auth' });
    h.socket.dropAll();
    await h.fake.waitFor(() => h.logs.find((l) => /refused the app-level token/.test(String(l['msg']))), { what: 'the give-up log line' });
    expect(h.fake.calls.filter((c) => c.method === 'apps.connections.open').map((c) => c.status)).toEqual([200, 200]);
    const health = await h.health();
    expect(health).toEqual({ status: 503, json: { ok: false, store: 'ok', socketMode: 'down' } });
    expect(h.socket.openLinks()).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  it('stop() while the link is being reopened ends the retries', async () => {
    h.fake.failNext('apps.connections.open', 1000, { status: 503 });
    h.socket.dropAll();
    await h.fake.waitFor(() => linkFailures(h).length >= 2, { what: 'two failed attempts' });
    await h.app.stop();
    const calls = h.fake.calls.filter((c) => c.method === 'apps.connections.open').length;
    await new Promise((r) => setTimeout(r, 300)); // longer than the longest backoff (100 ms)
    expect(h.fake.calls.filter((c) => c.method === 'apps.connections.open').length).toBe(calls);
    expect(h.socket.openLinks()).toEqual([]);
    expect(unhandled).toEqual([]);
  });
});

describe('starting', () => {
  it('Slack refusing the app-level token at start fails start() with the reason, not the process', async () => {
    unhandled.length = 0;
    const h = await startSocketHarness({ noStart: true });
    try {
      h.fake.failNext('apps.connections.open', 1, { error: 'invalid_auth' });
      await expect(h.start()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
      expect(h.socket.links).toEqual([]);
      expect(unhandled).toEqual([]);
    } finally {
      await h.stop();
    }
  });

  it('Slack unreachable at start: start() waits, retrying, until Slack answers', async () => {
    unhandled.length = 0;
    const h = await startSocketHarness({ noStart: true });
    try {
      h.fake.failNext('apps.connections.open', 3, { status: 502 });
      await h.start();
      expect(h.fake.calls.filter((c) => c.method === 'apps.connections.open').map((c) => c.status)).toEqual([502, 502, 502, 200]);
      expect(linkFailures(h)).toHaveLength(3);
      await commandOpensModal(h);
      expect(unhandled).toEqual([]);
    } finally {
      await h.stop();
    }
  });
});
