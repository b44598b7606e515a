/**
 * Issue 8 end to end: requests that live and end properly. The real app (HTTP mode, signed requests)
 * against the fake Slack and the push emulator: expiry (one instance, two instances on one Redis,
 * and across a restart on a SQLite file), cancel, edit, several approvals for a push to everyone,
 * request again, every /broadcast subcommand, and the duplicate warning.
 * Texts people see are computed with the app's own view functions; states, metadata, button ids
 * and values, mentions, ids and TaskIds are asserted directly.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BroadcastRequest } from '../../src/broadcast/types.js';
import { PushEmulator } from '../../src/tim/emulator.js';
import { formatQuota, mention, slackDate, stateLabel } from '../../views/format.js';
import { helpText, refusalText, statusAnswer, statusList } from '../../views/replies.js';
import { FakeSlack } from '../fakes/fake-slack.js';
import {
  APPROVAL_CHANNEL,
  APPROVER,
  APPROVER_2,
  APPROVER_GROUP,
  FORMS,
  GROUP_MEMBER,
  OUTSIDER,
  REQUESTER,
  SDKAPPID,
  TIM_SECRET_KEY,
  startHarness,
  type Harness,
} from '../helpers/harness.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { atRest, eventually, pause } from '../robustness/support.js';
import { buttonsOf, privateCount, pushRequests, pushesOf, stateOf, submitOk, textOf, threadOf, waitForPrivate } from './flow-helpers.js';
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
  preformattedOf,
  slashCommand,
  submitModal,
  threadRepliesWithText,
  viewContextOf,
  waitForCardState,
} from './lifecycle-helpers.js';

const ENDED_BUTTONS = ['request_again'];

/** Wait until the stored request is in `state` and owes Slack nothing more. */
function settledIn(h: Harness, id: string, state: string, timeoutMs = 10_000): Promise<BroadcastRequest> {
  return eventually(
    async () => {
      const r = await h.request(id);
      return r?.state === state && atRest(r) && r;
    },
    { timeoutMs, what: `request ${id} to be ${state} with every notification delivered` },
  );
}

/** Approve with `approver` and wait until the request is sent and told. */
async function approveToSent(h: Harness, id: string, approver = APPROVER): Promise<BroadcastRequest> {
  await h.click('approve', id, approver);
  return settledIn(h, id, 'sent');
}

// ------------------------------------------------------------------ expiry

describe('expiry (REQUEST_TTL_SECONDS)', () => {
  const TTL_ENV = { REQUEST_TTL_SECONDS: '2' };
  let dir: string;
  const harnesses: Harness[] = [];
  let redis: RedisHandle | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tb-lifecycle-expiry-'));
  });
  afterEach(async () => {
    for (const h of harnesses.splice(0).reverse()) await h.stop();
    await redis?.stop();
    redis = undefined;
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(o: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
    const h = await startHarness({ ...o, env: { ...TTL_ENV, ...o.env }, build: { sweepIntervalMs: 200, ...o.build } });
    harnesses.push(h);
    return h;
  }

  it('a pending request expires: the card loses its buttons and says expired, the thread says so, the requester is told, a late click is refused privately and changes nothing; it can be asked again', async () => {
    const h = await start();
    const request = await submitOk(h, { ...FORMS.tagsAll, message: 'Expiring soon' });
    expect(actionIds(h.card(request.id))).toEqual(expect.arrayContaining(['approve', 'reject', 'edit', 'cancel']));

    const expired = await settledIn(h, request.id, 'expired');
    // The record keeps "expired" distinct from "rejected".
    expect(expired.decision).toMatchObject({ by: 'system' });
    expect(entriesOf(expired, 'expired')).toHaveLength(1);
    expect(entriesOf(expired, 'rejected')).toHaveLength(0);
    expect(Date.parse(expired.history.at(-1)!.at)).toBeGreaterThanOrEqual(Date.parse(request.expiresAt));

    const card = h.card(request.id)!;
    expect(cardMeta(h.fake, request.id)['state']).toBe('expired');
    expect(textOf(card)).toContain(stateLabel('expired'));
    expect(actionIds(card), 'no Approve, Reject, Edit or Cancel any more').toEqual(ENDED_BUTTONS);

    const ctx = await viewContextOf(h);
    expect(threadRepliesWithText(h.fake, request.id, expectedThreadText(expired, 'expired', ctx))).toHaveLength(1);
    expect(h.fake.dms(REQUESTER).filter((m) => m.text === expectedDmText(expired, 'expired', ctx))).toHaveLength(1);

    // A click on the card as it stood before the expiry: answered privately, nothing changes.
    const told = privateCount(h, APPROVER);
    await h.click('approve', request.id, APPROVER, `${request.id}:${request.version}`);
    expect(await waitForPrivate(h, APPROVER, refusalText('expired'), told)).toBe(refusalText('expired'));
    const after = (await h.request(request.id))!;
    expect(after.state).toBe('expired');
    expect(after.history).toHaveLength(expired.history.length);
    expect(after.approvals).toEqual([]);
    expect(pushesOf(h, request)).toHaveLength(0);
    expect(pushRequests(h).filter((p) => (p.body as { MsgRandom?: number }).MsgRandom === request.body.MsgRandom)).toHaveLength(0);

    // Request again from the expired card (requester only).
    const view = await clickForModal(h, 'request_again', request.id, REQUESTER);
    expect(view.callback_id).toBe('broadcast_request');
    expect(initialOf(view, 'message')).toBe('Expiring soon');
    const again = await submitModal(h, view, {});
    expect(again.json).toBeUndefined();
    const newer = await eventually(async () => (await h.request(request.id))?.againAs?.[0], { what: 'the link to the new request' });
    await h.fake.waitFor(() => h.card(newer), { what: 'the new card' });
    expect((await h.request(newer))!.againOf).toBe(request.id);
  });

  it('with two instances on one Redis, a request expires exactly once', async () => {
    redis = await startRedis();
    const fake = await FakeSlack.start();
    const pushEmulator = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY });
    try {
      const h1 = await start({ storeUrl: redis.url, fake, pushEmulator, build: { sweepIntervalMs: 50 } });
      const h2 = await start({ storeUrl: redis.url, fake, pushEmulator, build: { sweepIntervalMs: 50 } });
      const request = await submitOk(h1, { ...FORMS.tagsAny, message: 'Expires once' });
      const expired = await settledIn(h2, request.id, 'expired');
      // Both instances keep sweeping for a while; nothing more may happen.
      await pause(1000);
      const later = (await h1.request(request.id))!;
      expect(later.history).toHaveLength(expired.history.length);
      expect(entriesOf(later, 'expired')).toHaveLength(1);
      const ctx = await viewContextOf(h1);
      expect(threadRepliesWithText(fake, request.id, expectedThreadText(later, 'expired', ctx))).toHaveLength(1);
      expect(fake.dms(REQUESTER).filter((m) => m.text === expectedDmText(later, 'expired', ctx))).toHaveLength(1);
      expect(cardMeta(fake, request.id)['state']).toBe('expired');
    } finally {
      for (const h of harnesses.splice(0).reverse()) await h.stop();
      await pushEmulator.close();
      await fake.close();
    }
  });

  it('a request that expired while the app was down expires when it comes back (SQLite file)', async () => {
    const fake = await FakeSlack.start();
    const pushEmulator = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY });
    const storeUrl = `sqlite://${join(dir, 'expiry-restart.sqlite')}`;
    try {
      const before = await start({ storeUrl, fake, pushEmulator, env: { REQUEST_TTL_SECONDS: '3' } });
      const request = await submitOk(before, { ...FORMS.attrsAll, message: 'Expires while down' });
      await settledIn(before, request.id, 'pending');
      await before.stop();
      harnesses.splice(harnesses.indexOf(before), 1);
      // Stopped before its expiry: nothing expired it yet.
      expect(Date.now()).toBeLessThan(Date.parse(request.expiresAt));
      expect(cardMeta(fake, request.id)['state']).toBe('pending');

      while (Date.now() <= Date.parse(request.expiresAt) + 300) await pause(100);
      expect(cardMeta(fake, request.id)['state'], 'nobody was running to expire it').toBe('pending');

      const restartedAt = Date.now();
      const after = await start({ storeUrl, fake, pushEmulator, env: { REQUEST_TTL_SECONDS: '3' } });
      const expired = await settledIn(after, request.id, 'expired');
      expect(Date.parse(expired.history.at(-1)!.at)).toBeGreaterThanOrEqual(restartedAt);
      await waitForCardState(fake, request.id, 'expired');
      expect(actionIds(cardOfFake(fake, request.id))).toEqual(ENDED_BUTTONS);
      const ctx = await viewContextOf(after);
      expect(threadRepliesWithText(fake, request.id, expectedThreadText(expired, 'expired', ctx))).toHaveLength(1);
      expect(fake.dms(REQUESTER).filter((m) => m.text === expectedDmText(expired, 'expired', ctx))).toHaveLength(1);
    } finally {
      for (const h of harnesses.splice(0).reverse()) await h.stop();
      await pushEmulator.close();
      await fake.close();
    }
  });
});

function cardOfFake(fake: FakeSlack, id: string) {
  return fake.messages(APPROVAL_CHANNEL).find((m) => !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(id));
}

// ------------------------------------------------------------------ one app for the rest

describe('with EVERYONE_APPROVALS=2', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { EVERYONE_APPROVALS: '2' } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  // ---------------------------------------------------------------- cancel

  describe('cancel', () => {
    it('anyone but the requester is refused privately; the requester cancels, and the card and the thread say who and when', async () => {
      const request = await submitOk(h, { ...FORMS.tagsAll, message: 'To be withdrawn' });
      for (const user of [APPROVER, OUTSIDER]) {
        const told = privateCount(h, user);
        await h.click('cancel', request.id, user);
        await waitForPrivate(h, user, refusalText('not_requester'), told);
      }
      expect(await stateOf(h, request.id)).toBe('pending');

      await h.click('cancel', request.id, REQUESTER);
      const cancelled = await settledIn(h, request.id, 'cancelled');
      expect(cancelled.decision?.by).toBe(REQUESTER);
      const when = cancelled.decision!.at;

      const card = h.card(request.id)!;
      expect(cardMeta(h.fake, request.id)).toMatchObject({ state: 'cancelled', decided_by: REQUESTER, decided_at: when });
      expect(textOf(card)).toContain(mention(REQUESTER));
      expect(textOf(card)).toContain(slackDate(when));
      expect(actionIds(card)).toEqual(ENDED_BUTTONS);

      const ctx = await viewContextOf(h);
      const entry = threadRepliesWithText(h.fake, request.id, expectedThreadText(cancelled, 'cancelled', ctx));
      expect(entry).toHaveLength(1);
      expect(textOf(entry[0])).toContain(mention(REQUESTER));
      expect(textOf(entry[0])).toContain(slackDate(when));
      expect(pushesOf(h, request)).toHaveLength(0);

      // A click after the cancel changes nothing.
      const told = privateCount(h, APPROVER);
      await h.click('approve', request.id, APPROVER, `${request.id}:${request.version}`);
      await waitForPrivate(h, APPROVER, refusalText('already_decided', { request: cancelled }), told);
      expect(await stateOf(h, request.id)).toBe('cancelled');
    });
  });

  // ---------------------------------------------------------------- edit

  describe('edit', () => {
    it('opens the request form filled in with every field; a rule-breaking edit is refused at the field; an edit updates the same request and card, resets approvals, changes the version, and a click on the older card is refused', async () => {
      const sendAt = Math.floor(Date.now() / 60_000) * 60 + 7 * 86_400; // a whole minute a week ahead
      const form = {
        message: 'Original text of the push',
        audience: 'all',
        lifetime: '21600',
        send_at: String(sendAt),
        sender: 'ops_bot',
        push_title: 'Heads-up',
        push_desc: 'Lock-screen text',
        push_ext: '{"page":"news","id":7}',
        badge_mode: '1',
        apns_sound: 'alert.caf',
        android_sound: 'ding',
        apns_image: 'https://example.com/banner.png',
        note: 'Asked for by the support team',
      };
      const request = await submitOk(h, form);
      expect(request.requiredApprovals).toBe(2);
      const firstCard = h.card(request.id)!;

      // One of the two approvals, for the original version.
      await h.click('approve', request.id, APPROVER);
      expect((await h.request(request.id))!.approvals.map((a) => a.userId)).toEqual([APPROVER]);

      // Only the requester may edit.
      const told = privateCount(h, APPROVER_2);
      await h.click('edit', request.id, APPROVER_2);
      await waitForPrivate(h, APPROVER_2, refusalText('not_requester'), told);

      // An approver opens the reject form on the card as it stands now, and submits it only after the edit.
      const rejectView = await clickForModal(h, 'reject', request.id, APPROVER_2);

      const view = await clickForModal(h, 'edit', request.id, REQUESTER);
      expect(view.callback_id).toBe('broadcast_request');
      expect(JSON.parse(view.private_metadata)).toMatchObject({ mode: 'edit', requestId: request.id });
      for (const [field, value] of Object.entries(form)) expect(initialOf(view, field), `the edit form's ${field}`).toBe(value);
      for (const field of ['tags_all', 'tags_any', 'attrs_all', 'attrs_any']) expect(initialOf(view, field)).toBeNull();

      // An edit is checked against every push rule: a tag over 50 bytes is refused at its field, nothing changes.
      const bad = await submitModal(h, view, { audience: 'tags', tags_all: 'x'.repeat(51), send_at: null });
      expect(bad.json?.response_action).toBe('errors');
      expect(Object.keys(bad.json?.errors ?? {})).toContain('tags_all');
      const unchanged = (await h.request(request.id))!;
      expect(unchanged.version).toBe(request.version);
      expect(unchanged.approvals).toHaveLength(1);

      const edited = await submitModal(h, view, { message: 'Edited text of the push', audience: 'tags', tags_all: 'vip', tags_any: 'city-sz, city-gz', send_at: null });
      expect(edited.json).toBeUndefined();
      const after = await settledIn(h, request.id, 'pending');
      expect(after.id).toBe(request.id);
      expect(after.draft).toStrictEqual({
        message: 'Edited text of the push',
        audience: { kind: 'tags', all: ['vip'], any: ['city-sz', 'city-gz'] },
        lifetimeSeconds: 21600,
        sender: 'ops_bot',
        offlinePush: { title: 'Heads-up', desc: 'Lock-screen text', ext: '{"page":"news","id":7}', apnsBadgeMode: 1, apnsSound: 'alert.caf', androidSound: 'ding', apnsImage: 'https://example.com/banner.png' },
        note: 'Asked for by the support team',
      });
      expect(after.approvals, 'every approval so far is reset').toEqual([]);
      expect(after.version).not.toBe(request.version);
      expect(after.payloadHash).not.toBe(request.payloadHash);
      expect(after.body.MsgRandom).not.toBe(request.body.MsgRandom);
      expect(after.body.Condition).toStrictEqual({ TagsAnd: ['vip'], TagsOr: ['city-sz', 'city-gz'] });
      // Now a targeted push: TARGETED_APPROVALS (1) applies.
      expect(after.requiredApprovals).toBe(1);

      // The same card, updated to the new content and the new version.
      const card = h.card(request.id)!;
      expect(card.ts).toBe(firstCard.ts);
      expect(h.fake.messages(APPROVAL_CHANNEL).filter((m) => !m.thread_ts && textOf(m).includes(request.id))).toHaveLength(1);
      expect(textOf(card)).toContain('Edited text of the push');
      expect(textOf(card)).not.toContain('Original text of the push');
      expect(cardMeta(h.fake, request.id)).toMatchObject({ payload_version: after.version, payload_sha256: after.payloadHash, approvers: '' });
      for (const b of buttonsOf(card)) expect(b.value).toBe(`${request.id}:${after.version}`);

      // The thread: "edited by … at …" with the new exact body and its sha256.
      const ctx = await viewContextOf(h);
      const [entry] = threadRepliesWithText(h.fake, request.id, expectedThreadText(after, 'edited', ctx));
      expect(entry).toBeDefined();
      const editedAt = after.history[entriesOf(after, 'edited')[0]!]!.at;
      expect(textOf(entry)).toContain(mention(REQUESTER));
      expect(textOf(entry)).toContain(slackDate(editedAt));
      const shown = preformattedOf(entry!)!;
      expect(JSON.parse(shown)).toStrictEqual(after.body);
      expect(createHash('sha256').update(shown).digest('hex')).toBe(after.payloadHash);
      expect(JSON.stringify(entry!.blocks)).toContain(after.payloadHash);

      // A click on a card that still shows the older version is refused and changes nothing.
      const told2 = privateCount(h, APPROVER_2);
      await h.click('approve', request.id, APPROVER_2, `${request.id}:${request.version}`);
      await waitForPrivate(h, APPROVER_2, refusalText('stale_version'), told2);
      const told3 = privateCount(h, APPROVER_2);
      await h.click('reject', request.id, APPROVER_2, `${request.id}:${request.version}`);
      await waitForPrivate(h, APPROVER_2, refusalText('stale_version'), told3);
      const lateReject = await submitModal(h, rejectView, { reason: 'The original wording is wrong' }, APPROVER_2);
      expect(lateReject.json).toMatchObject({ response_action: 'errors', errors: { reason: refusalText('stale_version') } });
      const still = (await h.request(request.id))!;
      expect(still.state).toBe('pending');
      expect(still.approvals).toEqual([]);
      expect(pushRequests(h).filter((p) => [request.body.MsgRandom, after.body.MsgRandom].includes((p.body as any).MsgRandom))).toHaveLength(0);

      // The approver who approved the old version approves the new one: that counts, and pushes exactly the edited body.
      const sent = await approveToSent(h, request.id, APPROVER);
      expect(sent.approvals).toEqual([expect.objectContaining({ userId: APPROVER, version: after.version })]);
      const pushes = pushesOf(h, after);
      expect(pushes).toHaveLength(1);
      expect(pushes[0]!.body).toStrictEqual(after.body);
      expect(pushesOf(h, request)).toHaveLength(0);
    });
  });

  // ---------------------------------------------------------------- several approvals

  describe('a push to everyone needs two approvals', () => {
    it('the requester never counts, the same approver twice counts once, the card shows "1 of 2" and who; two final approvals at once push exactly once', async () => {
      const request = await submitOk(h, { ...FORMS.all, message: 'Two approvers needed' });
      expect(request.requiredApprovals).toBe(2);

      let told = privateCount(h, REQUESTER);
      await h.click('approve', request.id, REQUESTER);
      await waitForPrivate(h, REQUESTER, refusalText('is_requester'), told);
      expect((await h.request(request.id))!.approvals).toEqual([]);

      await h.click('approve', request.id, APPROVER);
      const one = await settledIn(h, request.id, 'pending');
      expect(one.approvals.map((a) => a.userId)).toEqual([APPROVER]);
      const card = h.card(request.id)!;
      expect(textOf(card)).toContain('1 of 2');
      expect(textOf(card)).toContain(mention(APPROVER));
      expect(cardMeta(h.fake, request.id)).toMatchObject({ state: 'pending', approvers: APPROVER, approvals_required: 2 });
      expect(actionIds(card)).toContain('approve');
      const ctx = await viewContextOf(h);
      expect(threadRepliesWithText(h.fake, request.id, expectedThreadText(one, 'approval', ctx))).toHaveLength(1);
      expect(pushRequests(h).filter((p) => (p.body as any).MsgRandom === request.body.MsgRandom)).toHaveLength(0);

      told = privateCount(h, APPROVER);
      await h.click('approve', request.id, APPROVER);
      await waitForPrivate(h, APPROVER, refusalText('already_approved_by_you', { request: one }), told);
      expect((await h.request(request.id))!.approvals.map((a) => a.userId)).toEqual([APPROVER]);
      expect(pushesOf(h, request)).toHaveLength(0);

      // The last approval, from two approvers at once: one of them completes it, the push happens once.
      const before = { two: privateCount(h, APPROVER_2), member: privateCount(h, GROUP_MEMBER) };
      await Promise.all([h.click('approve', request.id, APPROVER_2), h.click('approve', request.id, GROUP_MEMBER)]);
      const sent = await settledIn(h, request.id, 'sent');
      expect(sent.approvals).toHaveLength(2);
      expect(sent.approvals[0]!.userId).toBe(APPROVER);
      const winner = sent.approvals[1]!.userId;
      expect([APPROVER_2, GROUP_MEMBER]).toContain(winner);
      const loser = winner === APPROVER_2 ? GROUP_MEMBER : APPROVER_2;
      await waitForPrivate(h, loser, /already/, loser === APPROVER_2 ? before.two : before.member);
      expect(pushesOf(h, request)).toHaveLength(1);
      expect(pushRequests(h).filter((p) => (p.body as any).MsgRandom === request.body.MsgRandom)).toHaveLength(1);
      expect(entriesOf(sent, 'approved')).toHaveLength(1);
      expect(textOf(h.card(request.id))).toContain(mention(winner));
      expect(cardMeta(h.fake, request.id)).toMatchObject({ state: 'sent', approvers: `${APPROVER},${winner}`, task_id: pushesOf(h, request)[0]!.taskId });
    });
  });

  // ---------------------------------------------------------------- request again

  describe('request again', () => {
    const endings: Array<{ state: string; end: (r: BroadcastRequest) => Promise<void> }> = [
      { state: 'rejected', end: async (r) => void (await h.rejectWithReason(r.id, APPROVER, 'Wrong wording')) },
      {
        state: 'failed',
        end: async (r) => {
          h.emulator.failNext(1, { kind: 'error', code: 90020 });
          await h.click('approve', r.id, APPROVER);
        },
      },
      { state: 'cancelled', end: async (r) => void (await h.click('cancel', r.id, REQUESTER)) },
      {
        state: 'not_sent',
        end: async (r) => {
          // The connection drops before any answer: the app cannot know, reports unknown, an approver settles it.
          h.emulator.failNext(1, { kind: 'drop', accept: false });
          await h.click('approve', r.id, APPROVER);
          await settledIn(h, r.id, 'unknown');
          await h.click('mark_not_sent', r.id, APPROVER_2);
        },
      },
    ];

    it.each(endings)('from a $state card: requester only, the form filled in, a new request with a new card, the two threads linked', async ({ state, end }) => {
      const message = `Ask again after ${state}`;
      const old = await submitOk(h, { ...FORMS.tagsAny, message, push_title: 'Again' });
      await end(old);
      const ended = await settledIn(h, old.id, state);
      const oldCard = h.card(old.id)!;
      expect(actionIds(oldCard)).toEqual(ENDED_BUTTONS);
      expect(pushesOf(h, old)).toHaveLength(0);

      const told = privateCount(h, APPROVER);
      await h.click('request_again', old.id, APPROVER);
      await waitForPrivate(h, APPROVER, refusalText('not_requester'), told);

      const view = await clickForModal(h, 'request_again', old.id, REQUESTER);
      expect(view.callback_id).toBe('broadcast_request');
      expect(JSON.parse(view.private_metadata)).toMatchObject({ mode: 'again', requestId: old.id });
      expect(initialOf(view, 'message')).toBe(message);
      expect(initialOf(view, 'audience')).toBe('tags');
      expect(initialOf(view, 'tags_any')).toBe('city-sz\ncity-gz');
      expect(initialOf(view, 'lifetime')).toBe(FORMS.tagsAny.lifetime);
      expect(initialOf(view, 'push_title')).toBe('Again');

      const known = new Set((await h.app.service.queries.recent(1000)).map((r) => r.id));
      const res = await submitModal(h, view, {});
      expect(res.json).toBeUndefined();
      const fresh = (await h.app.service.queries.recent(1000)).find((r) => !known.has(r.id));
      expect(fresh, 'a new request').toBeDefined();
      const newer = await settledIn(h, fresh!.id, 'pending');
      expect(newer.id).not.toBe(old.id);
      expect(newer.againOf).toBe(old.id);
      expect(newer.draft).toStrictEqual(ended.draft);
      expect(newer.body.MsgRandom).not.toBe(old.body.MsgRandom);
      const newCard = h.card(newer.id)!;
      expect(newCard.ts).not.toBe(oldCard.ts);
      expect(actionIds(newCard)).toEqual(expect.arrayContaining(['approve', 'reject', 'edit', 'cancel']));

      // The old request is unchanged in state, and links to the new one.
      const oldNow = await settledIn(h, old.id, state);
      expect(oldNow.againAs).toEqual([newer.id]);

      // The new thread names the old request, the old thread names the new one (each with a link to the other card).
      const newThread = threadOf(h, newer.id).map(textOf).join('\n');
      expect(newThread).toContain(old.id);
      expect(newThread).toContain(oldNow.card!.permalink!);
      const oldThread = await h.fake.waitFor(() => threadOf(h, old.id).find((m) => textOf(m).includes(newer.id)), { what: 'the old thread to name the new request' });
      expect(textOf(oldThread)).toContain(newer.card!.permalink!);
      // And the cards say so too, each linking the other.
      expect(textOf(h.card(newer.id))).toContain(old.id);
      expect(textOf(h.card(newer.id))).toContain(oldNow.card!.permalink!);
      await h.fake.waitFor(() => textOf(h.card(old.id)).includes(newer.card!.permalink!), { what: 'the old card to link the new one' });
      expect(textOf(h.card(old.id))).toContain(newer.id);
    });
  });

  // ---------------------------------------------------------------- /broadcast subcommands

  describe('/broadcast subcommands (all answers private)', () => {
    let sent: BroadcastRequest;
    let taskId: string;
    beforeAll(async () => {
      const r = await submitOk(h, { ...FORMS.tagsAll, message: 'Status of this one' });
      sent = await approveToSent(h, r.id, APPROVER);
      taskId = (sent.result as { taskId: string }).taskId;
    });

    it('`/broadcast status <request id>` answers with the state, audience, who and when, the TaskId, a link to the card and the history', async () => {
      const { responseId, json } = await slashCommand(h, REQUESTER, `status ${sent.id}`);
      expect(json?.response_type ?? 'ephemeral').toBe('ephemeral');
      const answer = await answerAt(h.fake, responseId);
      expect(answer.response_type).toBe('ephemeral');
      const stored = (await h.request(sent.id))!;
      expect(answer.text).toBe(statusAnswer(stored, { now: new Date() }));
      for (const token of [sent.id, taskId, mention(REQUESTER), mention(APPROVER), stored.card!.permalink!]) expect(answer.text).toContain(token);
    });

    it('`/broadcast status <TaskId>` finds the same request', async () => {
      const { responseId } = await slashCommand(h, APPROVER_2, `status ${taskId}`);
      const answer = await answerAt(h.fake, responseId);
      expect(answer.response_type).toBe('ephemeral');
      expect(answer.text).toBe(statusAnswer((await h.request(sent.id))!, { now: new Date() }));
    });

    it("`/broadcast status <id>` of someone else's request is not shown to a non-approver", async () => {
      const { responseId } = await slashCommand(h, OUTSIDER, `status ${sent.id}`);
      const answer = await answerAt(h.fake, responseId);
      expect(answer.response_type).toBe('ephemeral');
      expect(answer.text).not.toContain(taskId);
      expect(answer.text).toContain(sent.id);
    });

    it("`/broadcast status` lists the asker's five most recent requests with their states", async () => {
      const asker = 'U0STATUSASKER';
      const mine: BroadcastRequest[] = [];
      for (let i = 0; i < 6; i++) mine.push(await submitOk(h, { ...FORMS.tagsAny, message: `Mine #${i}` }, { userId: asker }));
      await h.click('cancel', mine[5]!.id, asker);
      await settledIn(h, mine[5]!.id, 'cancelled');

      const { responseId } = await slashCommand(h, asker, 'status');
      const answer = await answerAt(h.fake, responseId);
      expect(answer.response_type).toBe('ephemeral');
      const recent = await h.app.service.queries.recentOf(asker, 5);
      expect(recent.map((r) => r.id)).toEqual(mine.slice(1).reverse().map((r) => r.id));
      expect(answer.text).toBe(statusList(recent));
      for (const r of mine.slice(1)) expect(answer.text).toContain(r.id);
      expect(answer.text, 'the oldest of six is not listed').not.toContain(mine[0]!.id);
      expect(answer.text, "nobody else's requests").not.toContain(sent.id);
      expect(answer.text).toContain(stateLabel('cancelled'));
    });

    it('`/broadcast help` names the approvers as mentions and links the approvals channel', async () => {
      const { json, responseId } = await slashCommand(h, OUTSIDER, 'help');
      const answer = json?.text ? json : await answerAt(h.fake, responseId);
      expect(answer.response_type).toBe('ephemeral');
      expect(answer.text).toBe(helpText(await viewContextOf(h)));
      for (const token of [`<@${APPROVER}>`, `<@${APPROVER_2}>`, `<!subteam^${APPROVER_GROUP}>`, `<#${APPROVAL_CHANNEL}>`]) expect(answer.text).toContain(token);
    });

    it('`/broadcast quota` says what is used and left today', async () => {
      const { responseId } = await slashCommand(h, OUTSIDER, 'quota');
      const answer = await answerAt(h.fake, responseId);
      expect(answer.response_type).toBe('ephemeral');
      const quota = await h.app.service.quotaStatus();
      expect(quota.used).toBeGreaterThan(0);
      expect(answer.text).toBe(formatQuota(quota));
    });

    it('an unknown subcommand shows help, privately, and opens no form', async () => {
      const views = h.fake.views.length;
      const { json, responseId } = await slashCommand(h, OUTSIDER, 'stats');
      const answer = json?.text ? json : await answerAt(h.fake, responseId);
      expect(answer.response_type).toBe('ephemeral');
      expect(answer.text).toBe(helpText(await viewContextOf(h)));
      expect(h.fake.views.length).toBe(views);
      // Nothing went to the channel.
      expect(h.fake.messages(APPROVAL_CHANNEL).some((m) => m.text === answer.text)).toBe(false);
    });
  });

  // ---------------------------------------------------------------- duplicate guard

  describe('duplicate guard', () => {
    it('a request whose message and audience equal a push sent in the last 24 h warns on its card and links the earlier card; another audience or message does not', async () => {
      const form = { ...FORMS.tagsAll, message: 'Flash sale starts now' };
      const first = await submitOk(h, form);
      const sentFirst = await approveToSent(h, first.id, APPROVER);
      const firstTaskId = (sentFirst.result as { taskId: string }).taskId;
      const firstLink = sentFirst.card!.permalink!;
      expect(firstLink).toMatch(/^https:\/\//);

      // Same message and audience, other settings differ: still the same push to the same people.
      const again = await submitOk(h, { ...form, lifetime: '3600', push_title: 'Sale' });
      const stored = await settledIn(h, again.id, 'pending');
      expect(stored.duplicateOf).toMatchObject({ id: first.id, taskId: firstTaskId });
      const card = textOf(h.card(again.id));
      expect(card).toContain(firstLink);
      expect(card).toContain(firstTaskId);
      // The approver decides: the card still offers Approve.
      expect(actionIds(h.card(again.id))).toContain('approve');

      for (const other of [{ ...form, audience: 'tags', tags_all: 'vip' }, { ...form, message: 'Flash sale starts soon' }]) {
        const r = await submitOk(h, other);
        expect((await settledIn(h, r.id, 'pending')).duplicateOf).toBeUndefined();
        expect(textOf(h.card(r.id))).not.toContain(firstLink);
      }
    });
  });
});
