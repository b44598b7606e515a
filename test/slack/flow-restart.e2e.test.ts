/**
 * A restart between request and approval, with the SQLite store: the request, its card and its
 * MsgRandom survive, and approving the old card after the restart pushes exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withEvent } from '../../src/broadcast/requests.js';
import type { BroadcastRequest, EventKind } from '../../src/broadcast/types.js';
import { PushEmulator } from '../../src/tim/emulator.js';
import { FakeSlack } from '../fakes/fake-slack.js';
import { APPROVER, APPROVER_2, FORMS, REQUESTER, SDKAPPID, TIM_SECRET_KEY, startHarness, type Harness } from '../helpers/harness.js';
import { buttonsOf, pushRequests, pushesOf, stateOf, submitOk, textOf, threadOf, waitForDm, waitForThreadReply } from './flow-helpers.js';

// Slack and Tencent outlive the app: both app instances talk to the same fakes.
let fake: FakeSlack;
let pushEmulator: PushEmulator;
let dir: string;
const running: Harness[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tb-flow-restart-'));
  fake = await FakeSlack.start();
  pushEmulator = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY, minIntervalMs: 1000 });
});
afterAll(async () => {
  for (const h of running) await h.stop();
  await fake?.close();
  await pushEmulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(storeUrl: string): Promise<Harness> {
  const h = await startHarness({ fake, pushEmulator, storeUrl });
  running.push(h);
  return h;
}

describe('restart between request and approval (SQLite store)', () => {
  it('approving the card after a restart pushes once, updates the card and replies in its thread', async () => {
    const storeUrl = `sqlite://${join(dir, 'restart.sqlite')}`;

    const before = await start(storeUrl);
    const request = await submitOk(before, FORMS.tagsAny);
    const card = before.card(request.id)!;
    expect(buttonsOf(card).map((b) => b.action_id)).toContain('approve');
    await before.stop();

    const after = await start(storeUrl);
    expect(after.app.service.instanceId).not.toBe(before.app.service.instanceId);
    const reloaded = (await after.request(request.id))!;
    expect(reloaded.state).toBe('pending');
    expect(reloaded.body).toStrictEqual(request.body);
    expect(reloaded.card).toMatchObject({ channel: card.channel, ts: card.ts });

    await after.click('approve', request.id, APPROVER);
    const reply = await waitForThreadReply(after, request.id, /TaskId/);
    expect(await stateOf(after, request.id)).toBe('sent');

    // One push, with the MsgRandom fixed before the restart.
    expect(pushRequests(after)).toHaveLength(1);
    const pushes = pushesOf(after, request);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.body).toStrictEqual(request.body);
    expect(pushes[0]!.body.Condition).toStrictEqual({ TagsOr: ['city-sz', 'city-gz'] });

    // The same card was updated (not a new one posted), and its thread has the result.
    const updated = after.card(request.id)!;
    expect(updated.ts).toBe(card.ts);
    expect(updated.updates).toBeGreaterThan(0);
    expect(fake.messages(card.channel).filter((m) => !m.thread_ts && textOf(m).includes(request.id))).toHaveLength(1);
    expect(textOf(updated)).toMatch(/Sent/);
    expect(buttonsOf(updated)).toHaveLength(0);
    expect(reply.thread_ts).toBe(card.ts);
    expect(textOf(reply)).toContain(pushes[0]!.taskId);
    expect(threadOf(after, request.id).filter((m) => /TaskId/.test(textOf(m)))).toHaveLength(1);
    await waitForDm(after, REQUESTER, new RegExp(pushes[0]!.taskId));
  });

  it('a request the app stopped in the middle of is reported, never pushed again by itself', async () => {
    const storeUrl = `sqlite://${join(dir, 'crash.sqlite')}`;
    const before = await start(storeUrl);
    const inFlight = await submitOk(before, FORMS.all);
    const approvedOnly = await submitOk(before, FORMS.tagsAll);
    // What a crash leaves behind (a clean stop() would have finished the push): one request marked
    // `sending` (its push may have left), one `approved` whose push had not started, both leased
    // by the instance that is now gone.
    const step = (id: string, kind: EventKind, patch: Partial<BroadcastRequest> = {}) =>
      before.app.service.requests.update(id, (r) => {
        const next = withEvent(r, kind, new Date(), { by: APPROVER }, patch);
        return next ? { next } : { refuse: 'no' };
      });
    const lease = () => before.app.service.runner.leaseFor(new Date());
    expect((await step(inFlight.id, 'approved', { lease: lease(), approvals: [{ userId: APPROVER, at: new Date().toISOString(), version: inFlight.version }] })).ok).toBe(true);
    expect((await step(inFlight.id, 'sending', { sendingAt: new Date().toISOString(), lease: lease() })).ok).toBe(true);
    expect((await step(approvedOnly.id, 'approved', { lease: lease(), approvals: [{ userId: APPROVER, at: new Date().toISOString(), version: approvedOnly.version }] })).ok).toBe(true);
    await before.stop();
    const calls = pushRequests(before).length;

    const after = await start(storeUrl);
    const unknownReply = await waitForThreadReply(after, inFlight.id, /Outcome unknown/);
    expect(textOf(unknownReply)).toMatch(/stopped/);
    expect(textOf(unknownReply)).toMatch(/never pushes it again by itself/);
    expect(await stateOf(after, inFlight.id)).toBe('unknown');
    expect(textOf(after.card(inFlight.id))).toMatch(/Outcome unknown/);
    expect(buttonsOf(after.card(inFlight.id)).map((b) => b.action_id)).toEqual(['mark_sent', 'mark_not_sent']);

    await waitForThreadReply(after, approvedOnly.id, /Back to pending/);
    expect(await stateOf(after, approvedOnly.id)).toBe('pending');
    expect(buttonsOf(after.card(approvedOnly.id)).map((b) => b.action_id)).toContain('approve');

    // An approve click on the in-flight request's (stale) card changes nothing.
    await after.click('approve', inFlight.id, APPROVER_2, `${inFlight.id}:${inFlight.version}`);
    expect(await stateOf(after, inFlight.id)).toBe('unknown');
    expect(pushRequests(after).length).toBe(calls);
  });
});
