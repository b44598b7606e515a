/**
 * Exactly once under real operations, end to end (issue 7): an uncertain push is never retried and
 * people settle it; a rolling deploy never touches a live push; a requester who left never freezes
 * the card; Slack's Retry-After is honoured at once; a store outage right after a push loses nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { refusalText } from '../../views/replies.js';
import type { BroadcastRequest } from '../../src/broadcast/types.js';
import { PushEmulator } from '../../src/tim/emulator.js';
import { FakeSlack } from '../fakes/fake-slack.js';
import {
  APPROVER,
  APPROVER_2,
  FORMS,
  OUTSIDER,
  REQUESTER,
  SDKAPPID,
  TIM_SECRET_KEY,
  startHarness,
  submissionBody,
  type Harness,
} from '../helpers/harness.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { buttonsOf, privateCount, submitOk, textOf, threadOf, waitForDm, waitForPrivate, waitForThreadReply } from '../slack/flow-helpers.js';
import { atRest, eventually, history, post } from './support.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function harness(o: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(o);
  cleanup.push(() => h.stop());
  return h;
}

const stateOnCard = (h: Harness, id: string) => (h.card(id)?.metadata as { event_payload?: Record<string, unknown> } | undefined)?.event_payload;

async function settledAs(h: Harness, id: string, state: string): Promise<BroadcastRequest> {
  return eventually(async () => {
    const r = await h.request(id);
    return r?.state === state && atRest(r) && r;
  }, { timeoutMs: 20_000, what: `request ${id} to be ${state} and announced` });
}

describe('an uncertain push', () => {
  it('a connection dropped after Tencent accepted it: one accepted task, unknown, and people settle it', async () => {
    const h = await harness({ emulator: { dedupWindowMs: 1000 } });
    const a = await submitOk(h, FORMS.all);
    const b = await submitOk(h, FORMS.tagsAll);
    for (const r of [a, b]) {
      h.emulator.failNext(1, { kind: 'drop', accept: true });
      await h.click('approve', r.id, APPROVER);
      await settledAs(h, r.id, 'unknown');
      expect(h.emulator.acceptedFor(r.body.MsgRandom)).toHaveLength(1);
    }
    expect(h.emulator.pushes).toHaveLength(2);
    expect(buttonsOf(h.card(a.id)).map((x) => x.action_id)).toEqual(['mark_sent', 'mark_not_sent']);

    // Outsiders are refused, privately, and change nothing.
    const seen = privateCount(h, OUTSIDER);
    await h.click('mark_sent', a.id, OUTSIDER);
    await h.click('mark_not_sent', a.id, OUTSIDER);
    await waitForPrivate(h, OUTSIDER, refusalText('not_approver'), seen + 1);
    expect((await h.request(a.id))?.state).toBe('unknown');

    // "It went out", with the TaskId read from the console.
    const taskId = h.emulator.acceptedFor(a.body.MsgRandom)[0]!.taskId;
    const viewsBefore = h.fake.views.length;
    await h.click('mark_sent', a.id, APPROVER_2);
    const modal = await h.fake.waitFor(() => h.fake.views.slice(viewsBefore).find((v) => v.method === 'views.open'), { what: 'the mark-sent modal' });
    expect(modal.view.callback_id).toBe('mark_sent');
    const res = await post(h, submissionBody(modal.view, { task_id: taskId }, APPROVER_2));
    expect(res.json).toBeUndefined();
    const sent = await settledAs(h, a.id, 'sent');
    expect(sent.resolution).toMatchObject({ kind: 'sent', by: APPROVER_2, taskId });
    expect(stateOnCard(h, a.id)).toMatchObject({ state: 'sent', task_id: taskId, resolved_as: 'sent' });
    expect(threadOf(h, a.id).some((m) => textOf(m).includes(taskId) && textOf(m).includes(`<@${APPROVER_2}>`))).toBe(true);
    expect((await h.app.service.queries.find(taskId))?.id).toBe(a.id);

    // "It did not go out": the requester may ask again.
    await h.click('mark_not_sent', b.id, APPROVER);
    const notSent = await settledAs(h, b.id, 'not_sent');
    expect(notSent.resolution).toMatchObject({ kind: 'not_sent', by: APPROVER });
    expect(history(notSent, 'not_sent')).toHaveLength(1);
    expect(buttonsOf(h.card(b.id)).map((x) => x.action_id)).toEqual(['request_again']);
    await waitForDm(h, REQUESTER, /not sent/);

    // Settling never pushes: still exactly the two accepted tasks.
    expect(h.emulator.pushes).toHaveLength(2);
    // A second settle is refused.
    const seen2 = privateCount(h, APPROVER);
    await h.click('mark_not_sent', a.id, APPROVER, `${a.id}:${a.version}`);
    await waitForPrivate(h, APPROVER, refusalText('not_unknown', { request: sent }), seen2);
  });
});

describe('a rolling deploy', () => {
  it('a second instance started on the same Redis while the first one’s push is in flight: the TaskId is recorded, nothing says unknown', async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.stop());
    const fake = await FakeSlack.start();
    const emulator = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY, minIntervalMs: 1000, dedupWindowMs: 1000 });
    cleanup.push(() => fake.close(), () => emulator.close());
    const h1 = await harness({ storeUrl: redis.url, fake, pushEmulator: emulator });
    const r = await submitOk(h1, FORMS.all);
    // Tencent takes the push at once but holds its answer for 3 s.
    emulator.failNext(1, { kind: 'delay', ms: 3000, accept: true });
    void h1.click('approve', r.id, APPROVER);
    await fake.waitFor(() => emulator.pushes.length === 1, { what: 'the push to reach Tencent' });
    // The deploy: a new instance starts (and runs its start-up recovery) mid-push.
    const h2 = await harness({ storeUrl: redis.url, fake, pushEmulator: emulator });
    expect(h2.app.service.instanceId).not.toBe(h1.app.service.instanceId);
    const done = await settledAs(h1, r.id, 'sent');
    expect(done.result).toMatchObject({ kind: 'sent', taskId: emulator.pushes[0]!.taskId });
    expect(history(done, 'unknown')).toEqual([]);
    expect(done.history.map((e) => e.kind)).not.toContain('handed_back');
    expect(stateOnCard(h1, r.id)).toMatchObject({ state: 'sent', task_id: emulator.pushes[0]!.taskId });
    expect(threadOf(h1, r.id).map(textOf).join('\n')).not.toMatch(/unknown/i);
    expect(emulator.pushes).toHaveLength(1);
  });
});

describe('Slack failures that must not hold anything up', () => {
  it('the requester’s DM failing with user_not_found: the card and the thread still show the result, and the thread says why', async () => {
    const h = await harness();
    const r = await submitOk(h, FORMS.tagsAny);
    await waitForDm(h, REQUESTER, /waiting for approval/);
    h.fake.userStates.set(REQUESTER, 'not_found');
    await h.click('approve', r.id, APPROVER);
    const done = await settledAs(h, r.id, 'sent');
    const taskId = done.result?.kind === 'sent' ? done.result.taskId : '?';
    expect(stateOnCard(h, r.id)).toMatchObject({ state: 'sent', task_id: taskId });
    expect(buttonsOf(h.card(r.id))).toEqual([]);
    await waitForThreadReply(h, r.id, new RegExp(taskId));
    const note = await waitForThreadReply(h, r.id, /user_not_found/);
    expect(textOf(note)).toContain(`<@${REQUESTER}>`);
    expect(done.outbox.ended?.dm).toBe('user_not_found');
  });

  it('Slack answering 429 with Retry-After: 1 to a thread reply: delivered on the next try, after the wait, not at the next sweep', async () => {
    // The sweep comes only once a minute here: only the Retry-After timer can deliver in time.
    const h = await harness({ build: { outboxIntervalMs: 60_000 } });
    const r = await submitOk(h, FORMS.attrsAll);
    h.fake.failNext('chat.postMessage', 1, { status: 429, retryAfter: 1 });
    await h.click('approve', r.id, APPROVER);
    const done = await settledAs(h, r.id, 'sent');
    const taskId = done.result?.kind === 'sent' ? done.result.taskId : '?';
    await waitForThreadReply(h, r.id, new RegExp(taskId));
    const posts = h.fake.calls.filter((c) => c.method === 'chat.postMessage');
    const limited = posts.findIndex((c) => c.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    const retried = posts.slice(limited + 1).find((c) => c.args.thread_ts === posts[limited]!.args.thread_ts && c.args.channel === posts[limited]!.args.channel);
    expect(retried?.status).toBe(200);
    // Slack said "after 1 s": the retry came no earlier.
    expect(retried!.at - posts[limited]!.at).toBeGreaterThanOrEqual(1000);
  });
});

describe('a store outage right after a push', () => {
  let redis: RedisHandle | undefined;
  afterEach(async () => {
    await redis?.stop();
    redis = undefined;
  });

  it('the store down for longer than any backoff: the result is in the log meanwhile, and recorded once the store is back', { timeout: 60_000 }, async () => {
    redis = await startRedis({ persistent: true });
    const lines: string[] = [];
    const h = await harness({ storeUrl: redis.url, logLines: lines });
    const r = await submitOk(h, FORMS.all);
    h.emulator.failNext(1, { kind: 'delay', ms: 1500, accept: true });
    void h.click('approve', r.id, APPROVER);
    await h.fake.waitFor(() => h.emulator.pushes.length === 1, { what: 'the push to reach Tencent' });
    await redis.kill();
    const taskId = h.emulator.pushes[0]!.taskId;
    // The answer arrives while the store is down: it is logged at once.
    const logged = await h.fake.waitFor(() => lines.find((l) => l.includes('push outcome') && l.includes(taskId)), { timeoutMs: 10_000, what: 'the outcome in the log' });
    expect(logged).toContain(r.id);
    expect(h.app.service.unrecordedResults()).toEqual([{ requestId: r.id, outcome: expect.objectContaining({ kind: 'sent', taskId }) }]);
    // Longer than the longest backoff between store retries (5 s).
    await new Promise((resolve) => setTimeout(resolve, 6500));
    expect(h.app.service.unrecordedResults()).toHaveLength(1);
    await redis.restart();
    const done = await settledAs(h, r.id, 'sent');
    expect(done.result).toMatchObject({ kind: 'sent', taskId });
    expect(history(done, 'sent')).toHaveLength(1);
    expect(h.app.service.unrecordedResults()).toEqual([]);
    expect(h.emulator.pushes).toHaveLength(1);
  });
});
