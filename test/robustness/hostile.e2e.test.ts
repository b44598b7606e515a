/**
 * Hostile or broken input: unsigned, mis-signed, replayed and malformed HTTP requests; clicks with
 * unknown, forged or stale request ids; the store going away; wrong or missing settings.
 * Each is refused, changes nothing, and whoever can be told is told why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BroadcastRequest } from '../../src/broadcast/types.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import {
  APPROVER,
  APPROVER_2,
  FORMS,
  OUTSIDER,
  REQUESTER,
  SIGNING_SECRET,
  TIM_SECRET_KEY,
  baseEnv,
  startHarness,
  toldPrivately,
  type Harness,
} from '../helpers/harness.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { postSigned, slashCommandBody } from '../helpers/slack-requests.js';
import { clickBody, eventually, openRequestModal, post, pushRequests, spawnMain, submissionBody } from './support.js';
import { atRest } from './support.js';
import { refusalText } from '../../views/replies.js';

const REQUIRED = ['SLACK_BOT_TOKEN', 'APPROVAL_CHANNEL_ID', 'APPROVERS', 'SLACK_SIGNING_SECRET'];

/** Snapshot of everything a request could change: the stored record, Slack views and the pushes. */
async function snapshot(h: Harness, ids: string[]) {
  const requests = await Promise.all(ids.map((id) => h.request(id)));
  const told = [...new Set([APPROVER, APPROVER_2, OUTSIDER, REQUESTER])].reduce((n, u) => n + toldPrivately(h.fake, u).length, 0);
  return { requests, views: h.fake.views.length, ephemerals: told, pushes: pushRequests(h.emulator).length };
}

/** A request, once it is stored and everything about it has been posted (so the record is at rest). */
function settled(h: Harness, id: string): Promise<BroadcastRequest> {
  return eventually(async () => {
    const r = await h.request(id);
    return r && atRest(r) && r;
  }, { what: `request ${id} at rest` });
}

async function submitted(h: Harness): Promise<BroadcastRequest> {
  const { request } = await h.submit(FORMS.all);
  if (!request) throw new Error('the request was not stored');
  return settled(h, request.id);
}

/** Wait for the next private message to `user` (after `seen` of them) and return its text. */
async function toldTo(h: Harness, user: string, seen: number): Promise<string> {
  return h.fake.waitFor(() => toldPrivately(h.fake, user)[seen], { what: `a private message to ${user}` });
}

describe('HTTP requests that are not from Slack', () => {
  let h: Harness;
  let pending: BroadcastRequest;
  beforeAll(async () => {
    h = await startHarness();
    pending = await submitted(h);
  });
  afterAll(async () => h.stop());

  const bodies = () => ({
    command: slashCommandBody({ userId: REQUESTER, text: '', responseUrl: h.fake.responseUrl('hostile') }),
    approve: clickBody(h.fake, 'approve', pending.id, APPROVER),
  });

  it.each([
    ['no signature', (url: string, body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })],
    ['a wrong signature', (url: string, body: string) => postSigned(url, SIGNING_SECRET, body, { signature: `v0=${'0'.repeat(64)}` })],
    ['a signature made with another secret', (url: string, body: string) => postSigned(url, 'not-the-signing-secret-0123456789', body)],
    ['a timestamp 6 minutes old (replay)', (url: string, body: string) => postSigned(url, SIGNING_SECRET, body, { nowMs: Date.now() - 6 * 60_000 })],
  ])('%s → 401 and nothing changes', async (_name, send) => {
    const before = await snapshot(h, [pending.id]);
    for (const body of Object.values(bodies())) {
      const res = await send(h.url, body);
      expect(res.status).toBe(401);
    }
    await h.settle();
    expect(await snapshot(h, [pending.id])).toEqual(before);
    expect(before.requests[0]?.state).toBe('pending');
    expect(h.fake.callsTo('views.open')).toHaveLength(1); // only the modal of the genuine submission
  });

  it('a malformed body with a valid signature → 400 and nothing changes', async () => {
    const before = await snapshot(h, [pending.id]);
    const res = await postSigned(h.url, SIGNING_SECRET, 'payload=%7Bnot json');
    expect(res.status).toBe(400);
    await h.settle();
    expect(await snapshot(h, [pending.id])).toEqual(before);
  });
});

describe('clicks that must change nothing', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => h.stop());

  it.each([
    ['an unknown request id', 'br-doesnotexist2345', APPROVER, refusalText('unknown_request')],
    ['garbage as the request id', '../../etc', APPROVER, refusalText('unknown_request')],
    ['an empty request id', '', APPROVER, refusalText('unknown_request')],
    ['an unknown id with a version', 'br-doesnotexist2345:0123456789ab', APPROVER, refusalText('unknown_request')],
  ])('Approve with %s → told it was not found, nothing pushed', async (_name, value, user, told) => {
    const real = await submitted(h);
    const before = await snapshot(h, [real.id]);
    await post(h, clickBody(h.fake, 'approve', real.id, user, value));
    expect(await toldTo(h, user, 0)).toBe(told);
    await h.settle();
    expect(await snapshot(h, [real.id])).toEqual({ ...before, ephemerals: before.ephemerals + 1 });
  });

  it("a non-approver clicking Approve or Reject with another request's id → told they are not an approver", async () => {
    const target = await submitted(h);
    const before = await snapshot(h, [target.id]);
    await post(h, clickBody(h.fake, 'approve', target.id, OUTSIDER));
    expect(await toldTo(h, OUTSIDER, 0)).toBe(refusalText('not_approver'));
    await post(h, clickBody(h.fake, 'reject', target.id, OUTSIDER));
    expect(await toldTo(h, OUTSIDER, 1)).toBe(refusalText('not_approver'));
    await h.settle();
    expect(await snapshot(h, [target.id])).toEqual({ ...before, ephemerals: before.ephemerals + 2 });
  });

  it('the requester approving their own request → told another approver must', async () => {
    const own = await submitted(h);
    const before = await snapshot(h, [own.id]);
    await post(h, clickBody(h.fake, 'approve', own.id, REQUESTER));
    expect(await toldTo(h, REQUESTER, 0)).toBe(refusalText('is_requester'));
    await h.settle();
    expect(await snapshot(h, [own.id])).toEqual({ ...before, ephemerals: before.ephemerals + 1 });
  });

  it('Approve or Reject on a request already rejected → told it was decided; it stays rejected, nothing pushed', async () => {
    const r = await submitted(h);
    const answer = await h.rejectWithReason(r.id, APPROVER_2, 'wrong audience');
    expect(answer.status).toBe(200);
    expect((await settled(h, r.id)).state).toBe('rejected');
    expect(h.card(r.id)?.text).toMatch(/Rejected/);
    const before = await snapshot(h, [r.id]);
    expect(before.requests[0]?.state).toBe('rejected');

    // Clicks from a card that still showed the buttons (the version it carried).
    await post(h, clickBody(h.fake, 'approve', r.id, APPROVER, `${r.id}:${r.version}`));
    expect(await toldTo(h, APPROVER, 0)).toBe(refusalText('already_decided', { request: before.requests[0]! }));
    await post(h, clickBody(h.fake, 'reject', r.id, APPROVER, `${r.id}:${r.version}`));
    expect(await toldTo(h, APPROVER, 1)).toBe(refusalText('already_decided', { request: before.requests[0]! }));
    await h.settle();
    expect(await snapshot(h, [r.id])).toEqual({ ...before, ephemerals: before.ephemerals + 2 });
    expect(pushRequests(h.emulator)).toHaveLength(0);
  });
});

describe('the store is unreachable', () => {
  let redis: RedisHandle;
  let h: Harness;
  beforeEach(async () => {
    redis = await startRedis();
    h = await startHarness({ storeUrl: redis.url });
  });
  afterEach(async () => {
    await h.stop();
    await redis.stop();
  });

  it('Approve while Redis is down → nothing pushed, the clicker is told the decision cannot be recorded', async () => {
    const r = await submitted(h);
    await redis.kill();
    await post(h, clickBody(h.fake, 'approve', r.id, APPROVER));
    expect(await toldTo(h, APPROVER, 0)).toBe(refusalText('store_unavailable'));
    await h.settle();
    expect(pushRequests(h.emulator)).toHaveLength(0);
    expect(h.emulator.pushes).toHaveLength(0);
  });

  it('submitting the request form while Redis is down → the form shows an error saying nothing was saved', async () => {
    const view = await openRequestModal(h.fake, h.url, SIGNING_SECRET);
    await redis.kill();
    const res = await post(h, submissionBody(view, FORMS.all));
    expect(res.status).toBe(200);
    const json = res.json as { response_action?: string; errors?: Record<string, string> };
    expect(json.response_action).toBe('errors');
    expect(Object.values(json.errors ?? {}).join(' ')).toMatch(/Nothing was saved/);
    expect(h.fake.messages().filter((m) => !m.ephemeral)).toHaveLength(0);
  });
});

describe('settings', () => {
  const valid = () => baseEnv({ slackApiUrl: 'http://127.0.0.1:1/api/', timBaseUrl: 'http://127.0.0.1:2', storeUrl: 'memory://' });

  function problemsOf(env: Record<string, string>): string {
    try {
      loadConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).message;
    }
    throw new Error('loadConfig accepted the settings');
  }

  it('names every missing setting at once', () => {
    const message = problemsOf({});
    for (const name of REQUIRED) expect(message).toMatch(new RegExp(`^  - ${name} `, 'm'));
  });

  it('names every wrong setting without echoing secret values', () => {
    const secretToken = 'xoxp-1234-user-token-must-not-leak';
    const message = problemsOf({
      ...valid(),
      SLACK_BOT_TOKEN: secretToken,
      TIM_REGION: 'mars',
      QUOTA_TIMEZONE: 'Mars/Base',
      STORE_URL: 'ftp://x',
    });
    for (const name of ['SLACK_BOT_TOKEN', 'TIM_REGION', 'QUOTA_TIMEZONE', 'STORE_URL']) expect(message).toMatch(new RegExp(`^  - ${name} `, 'm'));
    for (const secret of [secretToken, SIGNING_SECRET, TIM_SECRET_KEY]) expect(message).not.toContain(secret);
    expect(message).not.toContain('xoxp-');
  });

  it('accepts the valid settings (the checks above are not vacuous)', () => {
    expect(loadConfig(valid()).TIM_REGION).toBe('chinese-mainland');
  });

  it('the app started with an empty environment exits non-zero and names each missing setting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-empty-env-'));
    try {
      const { output, exited } = spawnMain({}, dir);
      const exit = await exited;
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      for (const name of REQUIRED) expect(output()).toContain(`- ${name} `);
      expect(output()).not.toMatch(/\n\s+at /); // a message for people, not a stack trace
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
