/**
 * Issue 10 end to end, with short times: scheduled sends and quiet hours through the real app
 * (signed requests, fake Slack, push emulator). A send time a few seconds ahead (the form's
 * datetimepicker sends epoch seconds; Slack's UI offers whole minutes, its API carries seconds):
 * pushed once at its time and not before; cancelled before it, nothing; the app SIGKILLed after the
 * approval and restarted before the time, once at the time; two instances on one Redis, once;
 * quiet hours (in QUOTA_TIMEZONE, placed around the current wall clock) refuse a send time at the
 * field and hold an immediate approval, which "send now anyway" (approve_now) pushes at once; the
 * quota of the sending day used up, the scheduled request fails explained and pushes nothing.
 * No timed assertions: "not before" is checked at a moment before the time, order by timestamps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Requests } from '../../src/broadcast/requests.js';
import { openStore } from '../../src/broadcast/store/open.js';
import type { BroadcastRequest } from '../../src/broadcast/types.js';
import { PushEmulator } from '../../src/tim/emulator.js';
import { slackDate } from '../../views/format.js';
import { refusalText } from '../../views/replies.js';
import { FakeSlack } from '../fakes/fake-slack.js';
import {
  APPROVER,
  APPROVER_2,
  FORMS,
  OUTSIDER,
  REQUESTER,
  SDKAPPID,
  SIGNING_SECRET,
  TIM_SECRET_KEY,
  cardOf,
  pushRequests as emulatorPushRequests,
  startHarness,
  type Harness,
} from '../helpers/harness.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { atRest, eventually, killChild, pause, startChildApp, submitOver, type ChildApp } from '../robustness/support.js';
import { buttonsOf, privateCount, submitOk, textOf, waitForPrivate } from './flow-helpers.js';
import {
  actionIds,
  answerAt,
  cardMeta,
  clickForModal,
  clickVia,
  entriesOf,
  expectedDmText,
  expectedThreadText,
  initialOf,
  quietHoursAroundNow,
  slashCommand,
  submitModal,
  threadRepliesWithText,
  viewContextOf,
  waitForCardState,
} from './lifecycle-helpers.js';

const TZ = 'Asia/Shanghai';

/** Epoch seconds `n` seconds from now, as the datetimepicker sends them. */
const secondsAhead = (n: number) => Math.ceil(Date.now() / 1000) + n;

/** im_push calls (accepted or not) that carried this request's MsgRandom. */
function pushCallsOf(emulator: PushEmulator, r: Pick<BroadcastRequest, 'body'>) {
  return emulatorPushRequests(emulator).filter((p) => (p.body as { MsgRandom?: number }).MsgRandom === r.body.MsgRandom);
}
function acceptedOf(emulator: PushEmulator, r: Pick<BroadcastRequest, 'body'>) {
  return emulator.pushes.filter((p) => p.body.MsgRandom === r.body.MsgRandom);
}

function settledIn(h: Harness, id: string, state: string, timeoutMs = 15_000): Promise<BroadcastRequest> {
  return eventually(
    async () => {
      const r = await h.request(id);
      return r?.state === state && atRest(r) && r;
    },
    { timeoutMs, what: `request ${id} to be ${state} with every notification delivered` },
  );
}

const harnesses: Harness[] = [];
async function start(o: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness({ ...o, build: { sweepIntervalMs: 200, ...o.build } });
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  for (const h of harnesses.splice(0).reverse()) await h.stop();
});

describe('a send time a few seconds ahead', () => {
  it('is approved into "scheduled" (card, thread, DM and /broadcast status say when), pushed once at its time and not before', async () => {
    const h = await start();
    const at = secondsAhead(4);
    const request = await submitOk(h, { ...FORMS.tagsAll, message: 'At the time chosen', send_at: String(at) });
    expect(request.draft.sendAt).toBe(new Date(at * 1000).toISOString());
    // The approval covers the time as well as the payload.
    expect(request.version).toBe(`${request.payloadHash.slice(0, 12)}@${at}`);
    expect(textOf(h.card(request.id))).toContain(`<!date^${at}^`);
    expect(cardMeta(h.fake, request.id)).toMatchObject({ state: 'pending', send_at: request.draft.sendAt });

    await h.click('approve', request.id, APPROVER);
    const scheduled = await settledIn(h, request.id, 'scheduled');
    expect(scheduled).toMatchObject({ scheduledFor: request.draft.sendAt, holdReason: 'send_at' });
    expect(cardMeta(h.fake, request.id)).toMatchObject({ state: 'scheduled', scheduled_for: request.draft.sendAt });
    expect(textOf(h.card(request.id))).toContain(slackDate(scheduled.scheduledFor));
    expect(actionIds(h.card(request.id))).toEqual(expect.arrayContaining(['cancel']));
    expect(actionIds(h.card(request.id))).not.toContain('approve');
    const ctx = await viewContextOf(h);
    expect(threadRepliesWithText(h.fake, request.id, expectedThreadText(scheduled, 'scheduled', ctx))).toHaveLength(1);
    expect(h.fake.dms(REQUESTER).filter((m) => m.text === expectedDmText(scheduled, 'scheduled', ctx))).toHaveLength(1);
    const { responseId } = await slashCommand(h, REQUESTER, `status ${request.id}`);
    const status = await answerAt(h.fake, responseId);
    expect(status.response_type).toBe('ephemeral');
    expect(status.text).toContain(slackDate(scheduled.scheduledFor));

    // Still before the time: nothing has been pushed.
    const checkedAt = Date.now();
    expect(pushCallsOf(h.emulator, request)).toHaveLength(0);
    expect((await h.request(request.id))!.state).toBe('scheduled');
    expect(checkedAt, 'this check ran before the send time').toBeLessThan(at * 1000);

    const sent = await settledIn(h, request.id, 'sent');
    const pushes = acceptedOf(h.emulator, request);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.at).toBeGreaterThanOrEqual(at * 1000);
    expect(pushes[0]!.body).toStrictEqual(request.body);
    expect(entriesOf(sent, 'claimed')).toHaveLength(1);
    expect(sent.quotaDay).toBe(new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date(pushes[0]!.at)));
    expect(cardMeta(h.fake, request.id)).toMatchObject({ state: 'sent', task_id: pushes[0]!.taskId });
    await pause(1000);
    expect(pushCallsOf(h.emulator, request), 'and never again').toHaveLength(1);
  });

  it('cancelled before its time (anyone else refused, an approver may), nothing is pushed', async () => {
    const h = await start();
    const at = secondsAhead(3);
    const request = await submitOk(h, { ...FORMS.tagsAny, message: 'Called off in time', send_at: String(at) });
    await h.click('approve', request.id, APPROVER);
    await settledIn(h, request.id, 'scheduled');

    const told = privateCount(h, OUTSIDER);
    await h.click('cancel', request.id, OUTSIDER);
    await waitForPrivate(h, OUTSIDER, refusalText('not_approver'), told);
    expect((await h.request(request.id))!.state).toBe('scheduled');

    await h.click('cancel', request.id, APPROVER_2);
    const cancelled = await settledIn(h, request.id, 'cancelled');
    expect(cancelled.decision?.by).toBe(APPROVER_2);
    expect(Date.now(), 'cancelled before the send time').toBeLessThan(at * 1000);
    await waitForCardState(h.fake, request.id, 'cancelled');
    // The requester hears that someone else cancelled it.
    const ctx = await viewContextOf(h);
    expect(h.fake.dms(REQUESTER).filter((m) => m.text === expectedDmText(cancelled, 'cancelled', ctx))).toHaveLength(1);

    while (Date.now() < at * 1000 + 1000) await pause(100);
    expect(pushCallsOf(h.emulator, request)).toHaveLength(0);
    expect((await h.request(request.id))!.state).toBe('cancelled');
    expect((await h.app.service.quotaStatus()).used).toBe(0);
  });
});

describe('an edit of a scheduled request', () => {
  it('sends it back to pending with its approvals reset: nothing is pushed at the old time, and the passed time cannot be approved', async () => {
    const h = await start();
    const at = secondsAhead(3);
    const request = await submitOk(h, { ...FORMS.tagsAll, message: 'Scheduled, then edited', send_at: String(at) });
    await h.click('approve', request.id, APPROVER);
    await settledIn(h, request.id, 'scheduled');

    const view = await clickForModal(h, 'edit', request.id, REQUESTER);
    expect(initialOf(view, 'send_at')).toBe(String(at));
    expect((await submitModal(h, view, { message: 'Scheduled, then edited again' })).json).toBeUndefined();
    const edited = await settledIn(h, request.id, 'pending');
    expect(Date.now(), 'edited before the send time').toBeLessThan(at * 1000);
    expect(edited.approvals).toEqual([]);
    expect(edited.scheduledFor).toBeUndefined();
    expect(edited.version).not.toBe(request.version);
    expect(edited.version.endsWith(`@${at}`)).toBe(true);
    await waitForCardState(h.fake, request.id, 'pending');
    expect(actionIds(h.card(request.id))).toContain('approve');

    while (Date.now() < at * 1000 + 1000) await pause(100);
    expect(pushCallsOf(h.emulator, request)).toHaveLength(0);
    expect(pushCallsOf(h.emulator, edited)).toHaveLength(0);
    expect((await h.request(request.id))!.state).toBe('pending');
    const told = privateCount(h, APPROVER);
    await h.click('approve', request.id, APPROVER);
    await waitForPrivate(h, APPROVER, refusalText('send_time_passed'), told);
    expect((await h.request(request.id))!.state).toBe('pending');
    expect(pushCallsOf(h.emulator, edited)).toHaveLength(0);
  });
});

describe('the app killed after the approval (child process, SQLite file)', () => {
  let dir: string;
  let fake: FakeSlack;
  let emulator: PushEmulator;
  const apps: ChildApp[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tb-schedule-kill-'));
    fake = await FakeSlack.start();
    emulator = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY, minIntervalMs: 1000 });
  });
  afterAll(async () => {
    for (const app of apps.splice(0)) await killChild(app);
    await emulator?.close();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGKILL after the approval, restarted before the time: pushed once, at the time', { timeout: 90_000 }, async () => {
    const storeUrl = `sqlite://${join(dir, 'store.sqlite')}`;
    const startedAt = Date.now();
    const app1 = await startChildApp({ fake, emulator, storeUrl, cwd: dir });
    apps.push(app1);
    // Leave room for a second start-up as slow as the first one on this machine.
    const startup = Date.now() - startedAt;
    const at = secondsAhead(Math.ceil((3 * startup) / 1000) + 3);
    const id = await submitOver(fake, app1.url, SIGNING_SECRET, { ...FORMS.tagsAll, message: 'Survives a crash', send_at: String(at) });
    expect((await clickVia({ url: app1.url, secret: SIGNING_SECRET }, fake, 'approve', id, APPROVER)).status).toBe(200);
    await waitForCardState(fake, id, 'scheduled');
    // Let the notifications of the approval go out, so the kill leaves no delivery lease behind.
    await fake.waitFor(() => fake.dms(REQUESTER).length >= 2, { what: 'the DM saying it is scheduled' });
    await pause(300);
    await killChild(app1, 'SIGKILL');
    apps.splice(apps.indexOf(app1), 1);

    const app2 = await startChildApp({ fake, emulator, storeUrl, cwd: dir });
    apps.push(app2);
    const upAgainAt = Date.now();
    expect(upAgainAt, 'restarted before the send time').toBeLessThan(at * 1000);
    const msgRandom = Number(cardMeta(fake, id)['msg_random']);
    expect(emulatorPushRequests(emulator).filter((p) => (p.body as any).MsgRandom === msgRandom)).toHaveLength(0);

    await waitForCardState(fake, id, 'sent', 30_000);
    const pushes = emulator.pushes.filter((p) => p.body.MsgRandom === msgRandom);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.at).toBeGreaterThanOrEqual(at * 1000);

    app2.child.kill('SIGTERM');
    expect(await app2.exited, app2.output()).toEqual({ code: 0, signal: null });
    apps.splice(apps.indexOf(app2), 1);
    expect(emulatorPushRequests(emulator).filter((p) => (p.body as any).MsgRandom === msgRandom)).toHaveLength(1);
    const store = await openStore(storeUrl);
    try {
      const r = (await new Requests(store).get(id))!;
      expect(r.state).toBe('sent');
      expect(entriesOf(r, 'claimed')).toHaveLength(1);
      expect(entriesOf(r, 'sending')).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});

describe('two instances on one Redis', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('both sweep for the due time; the scheduled request is claimed and pushed once', async () => {
    const fake = await FakeSlack.start();
    const emulator = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY, minIntervalMs: 1000 });
    try {
      const h1 = await start({ storeUrl: redis.url, fake, pushEmulator: emulator, build: { sweepIntervalMs: 20 } });
      const h2 = await start({ storeUrl: redis.url, fake, pushEmulator: emulator, build: { sweepIntervalMs: 20 } });
      const at = secondsAhead(3);
      const request = await submitOk(h1, { ...FORMS.attrsAll, message: 'Once across instances', send_at: String(at) });
      await h2.click('approve', request.id, APPROVER);
      await settledIn(h1, request.id, 'scheduled');
      expect(pushCallsOf(emulator, request)).toHaveLength(0);

      const sent = await settledIn(h2, request.id, 'sent');
      await pause(1000);
      expect(pushCallsOf(emulator, request)).toHaveLength(1);
      expect(acceptedOf(emulator, request)[0]!.at).toBeGreaterThanOrEqual(at * 1000);
      const final = (await h1.request(request.id))!;
      expect(final.history).toHaveLength(sent.history.length);
      expect(entriesOf(final, 'claimed')).toHaveLength(1);
      expect(entriesOf(final, 'sent')).toHaveLength(1);
      expect(cardOf(fake, request.id) && cardMeta(fake, request.id)['state']).toBe('sent');
      const ctx = await viewContextOf(h1);
      expect(threadRepliesWithText(fake, request.id, expectedThreadText(final, 'sent', ctx))).toHaveLength(1);
    } finally {
      for (const h of harnesses.splice(0).reverse()) await h.stop();
      await emulator.close();
      await fake.close();
    }
  });
});

describe('quiet hours (QUIET_HOURS, in QUOTA_TIMEZONE)', () => {
  // A window that began a minute ago and ends 2–3 minutes from now, on the zone's wall clock.
  let quiet: string;
  /** When the window ends (Shanghai's offset is whole hours, so its minutes start with UTC's). */
  let quietEndsAt: number;
  let h: Harness;
  beforeAll(async () => {
    const now = new Date();
    quiet = quietHoursAroundNow(TZ, -1, 3, now);
    quietEndsAt = (Math.floor(now.getTime() / 60_000) + 3) * 60_000;
    h = await startHarness({ env: { QUIET_HOURS: quiet, QUOTA_TIMEZONE: TZ } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a send time inside them is refused at the field send_at; one outside them is accepted', async () => {
    const known = new Set((await h.app.service.queries.recent(1000)).map((r) => r.id));
    const inside = await h.submit({ ...FORMS.tagsAll, message: 'In the quiet', send_at: String(secondsAhead(60)) });
    expect(inside.json?.response_action).toBe('errors');
    expect(Object.keys(inside.json?.errors ?? {})).toEqual(['send_at']);
    expect(inside.request).toBeUndefined();
    expect((await h.app.service.queries.recent(1000)).filter((r) => !known.has(r.id))).toHaveLength(0);

    const outside = await submitOk(h, { ...FORMS.tagsAll, message: 'After the quiet', send_at: String(secondsAhead(15 * 60)) });
    expect(outside.state).toBe('pending');
    await h.click('cancel', outside.id, REQUESTER);
  });

  it('an immediate approval inside them is held until they end, and the card says so; "send now anyway" pushes at once', async () => {
    const request = await submitOk(h, { ...FORMS.tagsAll, message: 'Held for the quiet' });
    const card = h.card(request.id)!;
    expect(actionIds(card)).toEqual(expect.arrayContaining(['approve', 'approve_now']));
    const sendNow = buttonsOf(card).find((b) => b.action_id === 'approve_now')!;
    expect(sendNow.confirm, '"send now anyway" asks first').toMatchObject({ title: expect.any(Object), confirm: expect.any(Object), deny: expect.any(Object) });
    expect(sendNow.value).toBe(`${request.id}:${request.version}`);

    await h.click('approve', request.id, APPROVER);
    const held = await settledIn(h, request.id, 'scheduled');
    expect(held.holdReason).toBe('quiet_hours');
    // Held until the end of the window: that wall-clock minute, in the future.
    const end = quiet.split('-')[1]!;
    const heldUntil = new Date(held.scheduledFor!);
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(heldUntil)).toBe(`${end}:00`);
    expect(heldUntil.getTime()).toBe(quietEndsAt);
    expect(heldUntil.getTime()).toBeGreaterThan(Date.now());
    expect(cardMeta(h.fake, request.id)).toMatchObject({ state: 'scheduled', scheduled_for: held.scheduledFor });
    expect(textOf(h.card(request.id))).toContain(slackDate(held.scheduledFor));
    expect(actionIds(h.card(request.id))).toEqual(expect.arrayContaining(['approve_now', 'cancel']));
    const ctx = await viewContextOf(h);
    expect(threadRepliesWithText(h.fake, request.id, expectedThreadText(held, 'scheduled', ctx))).toHaveLength(1);
    expect(pushCallsOf(h.emulator, request)).toHaveLength(0);

    // The requester cannot send it now; an approver can.
    const told = privateCount(h, REQUESTER);
    await h.click('approve_now', request.id, REQUESTER);
    await waitForPrivate(h, REQUESTER, refusalText('is_requester'), told);
    expect((await h.request(request.id))!.state).toBe('scheduled');

    await h.click('approve_now', request.id, APPROVER_2);
    const sent = await settledIn(h, request.id, 'sent');
    const pushes = acceptedOf(h.emulator, request);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.at, 'pushed before the quiet hours ended').toBeLessThan(heldUntil.getTime());
    expect(entriesOf(sent, 'claimed')).toHaveLength(1);
    expect(sent.history[entriesOf(sent, 'claimed')[0]!]!.by).toBe(APPROVER_2);
  });

  it('"send now anyway" straight from the pending card pushes at once', async () => {
    const request = await submitOk(h, { ...FORMS.tagsAny, message: 'Urgent despite the quiet' });
    await h.click('approve_now', request.id, APPROVER);
    const sent = await settledIn(h, request.id, 'sent');
    expect(entriesOf(sent, 'approved')).toHaveLength(1);
    expect(entriesOf(sent, 'scheduled')).toHaveLength(0);
    const pushes = acceptedOf(h.emulator, request);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.at, 'pushed before the quiet hours ended').toBeLessThan(quietEndsAt);
  });
});

describe('the quota of the sending day', () => {
  it('used up by the time the scheduled push is due: it fails with the explanation and pushes nothing', async () => {
    const h = await start({ env: { DAILY_QUOTA: '1' } });
    const at = secondsAhead(4);
    const scheduled = await submitOk(h, { ...FORMS.tagsAll, message: 'Due when the quota is gone', send_at: String(at) });
    await h.click('approve', scheduled.id, APPROVER);
    await settledIn(h, scheduled.id, 'scheduled');
    // An approval of a scheduled push does not count yet: the day it goes out does.
    expect((await h.app.service.quotaStatus()).used).toBe(0);

    // Meanwhile an immediate push takes the day's only slot.
    const now = await submitOk(h, { ...FORMS.tagsAny, message: 'Takes the last push' });
    await h.click('approve', now.id, APPROVER);
    await settledIn(h, now.id, 'sent');
    expect((await h.app.service.quotaStatus()).used).toBe(1);
    expect(Date.now(), 'the quota was used up before the send time').toBeLessThan(at * 1000);

    const failed = await settledIn(h, scheduled.id, 'failed');
    expect(failed.result).toMatchObject({ kind: 'failed', code: 90047, attempts: 0 });
    expect(pushCallsOf(h.emulator, scheduled), 'nothing was sent to Tencent').toHaveLength(0);
    expect(h.emulator.pushes).toHaveLength(1);
    expect((await h.app.service.quotaStatus()).used).toBe(1);
    await waitForCardState(h.fake, scheduled.id, 'failed');
    expect(cardMeta(h.fake, scheduled.id)).toMatchObject({ error_code: 90047 });
    expect(actionIds(h.card(scheduled.id))).toEqual(['request_again']);
    const ctx = await viewContextOf(h);
    const [entry] = threadRepliesWithText(h.fake, scheduled.id, expectedThreadText(failed, 'failed', ctx));
    expect(entry).toBeDefined();
    const result = failed.result as Extract<BroadcastRequest['result'], { kind: 'failed' }>;
    expect(textOf(entry)).toContain(result.explanation.title.slice(0, 40));
    expect(h.fake.dms(REQUESTER).filter((m) => m.text === expectedDmText(failed, 'failed', ctx))).toHaveLength(1);
  });
});
