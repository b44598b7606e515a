/**
 * Concurrent decisions across TWO app instances sharing one real Redis store, one fake Slack and
 * one push emulator: a request is decided once and pushed once, pushes stay more than 1 s apart
 * across instances, and the daily quota is one shared count.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BroadcastRequest } from '../../src/broadcast/types.js';
import { PushEmulator } from '../../src/tim/emulator.js';
import { FakeSlack } from '../fakes/fake-slack.js';
import {
  APPROVER,
  APPROVER_2,
  FORMS,
  GROUP_MEMBER,
  REQUESTER,
  SDKAPPID,
  TIM_SECRET_KEY,
  startHarness,
  type Harness,
} from '../helpers/harness.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { toldPrivately } from '../helpers/harness.js';
import { clickBody, eventually, hasApproveButton, history, post, pushRequests, submissionBody, textOf, threadOf, cardOf } from './support.js';
import { atRest } from './support.js';

const APPROVERS = [APPROVER, APPROVER_2, GROUP_MEMBER];
const FINAL = ['sent', 'failed', 'unknown', 'rejected'];

let redis: RedisHandle;
let fake: FakeSlack;
let emulator: PushEmulator;
let h1: Harness;
let h2: Harness;

async function startPair(env: Record<string, string> = {}) {
  h1 = await startHarness({ storeUrl: redis.url, fake, pushEmulator: emulator, env });
  h2 = await startHarness({ storeUrl: redis.url, fake, pushEmulator: emulator, env });
}

beforeEach(async () => {
  redis = await startRedis();
  fake = await FakeSlack.start();
  emulator = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY, minIntervalMs: 1000 });
});

afterEach(async () => {
  await h1?.stop();
  await h2?.stop();
  await emulator.close();
  await fake.close();
  await redis.stop();
});

async function submit(fields: Record<string, string> = FORMS.all): Promise<BroadcastRequest> {
  const { request } = await h1.submit(fields);
  if (!request) throw new Error('the request was not stored');
  emulator.reset(); // forget the modal's attribute-name lookup; only pushes matter below
  return request;
}

/** Wait until a request is decided for good and every notification about it is delivered. */
function finished(id: string, timeoutMs = 20_000): Promise<BroadcastRequest> {
  return eventually(
    async () => {
      const r = await h1.app.service.get(id);
      return r && FINAL.includes(r.state) && atRest(r) && r;
    },
    { timeoutMs, what: `request ${id} to finish` },
  );
}

/** Everything the approvers were told privately (response_url answers and ephemerals), by user. */
function toldAll(): { user: string; text: string }[] {
  return [...new Set([...APPROVERS, REQUESTER])].flatMap((user) => toldPrivately(fake, user).map((text) => ({ user, text })));
}

function alreadyDecidedEphemerals(): { user: string; text: string }[] {
  return toldAll().filter((t) => /already/.test(t.text));
}

describe('concurrent decisions across two instances', () => {
  it('50 concurrent Approve clicks (some Slack retries) on two instances: one approval, one push, 49 told "already decided"', async () => {
    await startPair();
    const r = await submit();
    const clicks = Array.from({ length: 50 }, (_, i) => ({
      via: i % 2 === 0 ? h1 : h2,
      user: APPROVERS[i % APPROVERS.length]!,
      // Slack re-delivers when an ack is slow; the retry must not decide or push again.
      headers: i % 5 === 0 ? { 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' } : undefined,
    }));
    const answers = await Promise.all(clicks.map((c) => post(c.via, clickBody(fake, 'approve', r.id, c.user), c.headers)));
    expect(answers.every((a) => a.status === 200)).toBe(true);

    const done = await finished(r.id);
    expect(done.state).toBe('sent');
    expect(history(done, 'approved')).toHaveLength(1);
    expect(history(done, 'sending')).toHaveLength(1);
    expect(done.approvals).toHaveLength(1);
    expect(emulator.pushes).toHaveLength(1);
    expect(pushRequests(emulator)).toHaveLength(1);
    expect(emulator.pushes[0]!.body.MsgRandom).toBe(r.body.MsgRandom);

    // Every losing click was told, privately, and by user.
    const winner = done.approvals[0]!.userId;
    const told = await fake.waitFor(() => {
      const all = alreadyDecidedEphemerals();
      return all.length >= 49 && all;
    }, { what: '49 "already decided" ephemerals' });
    expect(told).toHaveLength(49);
    for (const user of APPROVERS) {
      const clicked = clicks.filter((c) => c.user === user).length;
      expect(told.filter((t) => t.user === user)).toHaveLength(user === winner ? clicked - 1 : clicked);
    }
    expect(told.every((t) => /never pushed twice/.test(t.text))).toBe(true);
    // One thread reply about the push, not one per instance.
    expect(threadOf(fake, r.id).filter((m) => /TaskId/.test(textOf(m)))).toHaveLength(1);
  });

  it('with one push left today, 10 concurrent Approve clicks on one request: one push, the others told "already decided", not "quota used up"', async () => {
    await startPair({ DAILY_QUOTA: '1' });
    const r = await submit();
    const clicks = Array.from({ length: 10 }, (_, i) => ({ via: i % 2 === 0 ? h1 : h2, user: APPROVERS[i % APPROVERS.length]! }));
    await Promise.all(clicks.map((c) => post(c.via, clickBody(fake, 'approve', r.id, c.user))));

    const done = await finished(r.id);
    expect(done.state).toBe('sent');
    expect(pushRequests(emulator)).toHaveLength(1);
    const told = await fake.waitFor(() => toldAll().length >= 9 && toldAll(), { what: '9 refusals' });
    // Telling them the quota is used up ("approve it again after the reset") would invite a second push.
    expect(told.map((m) => m.text).filter((t) => !/already/.test(t))).toEqual([]);
    expect(told).toHaveLength(9);
    expect(await h1.app.service.quotaStatus()).toMatchObject({ used: 1 });
  });

  it('20 concurrent Approve clicks and Reject submissions: exactly one decision', async () => {
    await startPair();
    const r = await submit();
    // Open the reject modal once (as an approver would) to get the exact view Slack submits.
    const before = fake.views.length;
    await post(h2, clickBody(fake, 'reject', r.id, APPROVER_2));
    const rejectView = (await fake.waitFor(() => fake.views.slice(before).find((v) => v.method === 'views.open'), { what: 'the reject modal' })).view;
    expect((await h1.app.service.get(r.id))?.state).toBe('pending');

    const actions = Array.from({ length: 20 }, (_, i) => {
      const via = i % 2 === 0 ? h1 : h2;
      const user = APPROVERS[i % APPROVERS.length]!;
      return i % 4 < 2
        ? { kind: 'approve' as const, user, send: () => post(via, clickBody(fake, 'approve', r.id, user)) }
        : { kind: 'reject' as const, user, send: () => post(via, submissionBody(rejectView, { reason: `not now (${i})` }, user)) };
    });
    const answers = await Promise.all(actions.map((a) => a.send()));
    expect(answers.every((a) => a.status === 200)).toBe(true);

    const done = await finished(r.id);
    const decisions = done.history.filter((e) => e.to === 'approved' || e.to === 'rejected');
    expect(decisions).toHaveLength(1);
    if (done.state === 'rejected') {
      expect(pushRequests(emulator)).toHaveLength(0);
    } else {
      expect(done.state).toBe('sent');
      expect(emulator.pushes).toHaveLength(1);
      expect(pushRequests(emulator)).toHaveLength(1);
    }
    // Every loser heard why: an ephemeral for a click, an error in the modal for a rejection.
    const refusedRejects = answers.filter(
      (a, i) => actions[i]!.kind === 'reject' && (a.json as { response_action?: string } | undefined)?.response_action === 'errors',
    );
    expect(refusedRejects.every((a) => /already/.test(JSON.stringify(a.json)))).toBe(true);
    const losingClicks = actions.filter((a) => a.kind === 'approve').length - (done.state === 'sent' ? 1 : 0);
    await fake.waitFor(() => alreadyDecidedEphemerals().length >= losingClicks, { what: 'the losing clicks to be told' });
    expect(alreadyDecidedEphemerals().length + refusedRejects.length).toBe(19);
  });

  it('keeps pushes more than 1 s apart across instances: two approvals at once, no 90024', async () => {
    await startPair();
    const a = await submit(FORMS.all);
    const b = await submit(FORMS.tagsAll);
    await Promise.all([post(h1, clickBody(fake, 'approve', a.id, APPROVER)), post(h2, clickBody(fake, 'approve', b.id, APPROVER_2))]);
    const [doneA, doneB] = await Promise.all([finished(a.id), finished(b.id)]);
    expect([doneA.state, doneB.state]).toEqual(['sent', 'sent']);
    expect(emulator.pushes).toHaveLength(2);
    const [first, second] = emulator.pushes;
    expect(second!.at - first!.at).toBeGreaterThan(1000);
    // The instances spaced the pushes themselves: Tencent never had to refuse one as too frequent.
    expect(pushRequests(emulator).filter((q) => (q.response as { ErrorCode?: number } | null)?.ErrorCode === 90024)).toHaveLength(0);
    for (const id of [a.id, b.id]) expect(threadOf(fake, id).map(textOf).join('\n')).not.toContain('90024');
  });

  it('shares the daily quota: DAILY_QUOTA 1, two approvals on two instances at once → one pushed, one refused and still pending', async () => {
    await startPair({ DAILY_QUOTA: '1' });
    const a = await submit(FORMS.all);
    const b = await submit(FORMS.tagsAll);
    await Promise.all([post(h1, clickBody(fake, 'approve', a.id, APPROVER)), post(h2, clickBody(fake, 'approve', b.id, APPROVER_2))]);

    const states = await eventually(
      async () => {
        const [ra, rb] = await Promise.all([h1.app.service.get(a.id), h2.app.service.get(b.id)]);
        const s = [ra, rb].map((r) => r?.state).sort();
        return s[0] === 'pending' && s[1] === 'sent' && atRest(ra) && atRest(rb) && [ra!, rb!];
      },
      { timeoutMs: 20_000, what: 'one sent and one pending' },
    );
    const sent = states.find((r) => r.state === 'sent')!;
    const refused = states.find((r) => r.state === 'pending')!;
    expect(emulator.pushes).toHaveLength(1);
    expect(pushRequests(emulator)).toHaveLength(1);
    expect(emulator.pushes[0]!.body.MsgRandom).toBe(sent.body.MsgRandom);
    expect(refused.result).toBeUndefined();
    expect(refused.decision).toBeUndefined();
    expect(await h2.app.service.quotaStatus()).toMatchObject({ used: 1, limit: 1, exhausted: true });

    const refusedBy = refused.id === a.id ? APPROVER : APPROVER_2;
    const told = await fake.waitFor(() => toldPrivately(fake, refusedBy).find((t) => /quota/.test(t)), {
      what: 'the quota refusal',
    });
    expect(told).toMatch(/nothing was pushed/i);
    expect(refused.approvals).toEqual([]);
    // Its card drops the Approve button until the quota resets (then it can be approved again).
    await fake.waitFor(() => !hasApproveButton(cardOf(fake, refused.id)), { what: 'the Approve button to go' });
  });
});
