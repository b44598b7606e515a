/**
 * The daily push quota, end to end: the app's own count refuses approvals once it is used up, and a
 * 90047 from Tencent marks the day used up so that later approvals never reach Tencent.
 * Each test needs a fresh day's count, so each runs its own harness.
 */
import { describe, expect, it } from 'vitest';
import { APPROVER, APPROVER_2, FORMS, REQUESTER } from '../helpers/harness.js';
import {
  buttonsOf,
  pushRequests,
  pushesOf,
  stateOf,
  submitOk,
  textOf,
  waitForDm,
  privateCount,
  waitForPrivate,
  waitForThreadReply,
  withHarness,
} from './flow-helpers.js';

describe('daily quota counted by the app', () => {
  it('with DAILY_QUOTA=1, the second approval of the day is refused, stays pending and pushes nothing', async () => {
    await withHarness({ env: { DAILY_QUOTA: '1' } }, async (h) => {
      const first = await submitOk(h, FORMS.all);
      const second = await submitOk(h, FORMS.tagsAll);

      await h.click('approve', first.id, APPROVER);
      await waitForThreadReply(h, first.id, /TaskId/);
      expect(await stateOf(h, first.id)).toBe('sent');
      expect(h.emulator.pushes).toHaveLength(1);
      const calls = pushRequests(h).length;

      // Once the quota is used up, pending cards lose their Approve button until it resets…
      await h.fake.waitFor(() => !buttonsOf(h.card(second.id)).some((b) => b.action_id === 'approve'), { what: 'the Approve button to go' });
      expect(textOf(h.card(second.id))).toMatch(/1 of 1 pushes used today/);
      // …and a click on a card still showing it is refused privately.
      const seen = privateCount(h, APPROVER_2);
      await h.click('approve', second.id, APPROVER_2, `${second.id}:${second.version}`);
      const told = await waitForPrivate(h, APPROVER_2, /quota/, seen);
      expect(told).toMatch(/1 of 1 pushes used today/);
      expect(told).toMatch(/00:00 Asia\/Shanghai/);
      expect(told).toMatch(/nothing was pushed/i);

      const stored = (await h.request(second.id))!;
      expect(stored.state).toBe('pending');
      expect(stored.approvals).toEqual([]);
      expect(pushRequests(h).length).toBe(calls);
      expect(pushesOf(h, second)).toHaveLength(0);
      const quota = await h.app.service.quotaStatus();
      expect(quota).toMatchObject({ used: 1, limit: 1, exhausted: true });

      // A request made now shows no Approve button from the start.
      const third = await submitOk(h, FORMS.attrsAll);
      expect(buttonsOf(h.card(third.id)).some((b) => b.action_id === 'approve')).toBe(false);
      expect(textOf(h.card(third.id))).toMatch(/quota is used up/);
    });
  });
});

describe('daily quota used up at Tencent (90047)', () => {
  it('fails the request with an explanation, and the app refuses later approvals itself', async () => {
    await withHarness({}, async (h) => {
      const first = await submitOk(h, FORMS.tagsAny);
      const second = await submitOk(h, FORMS.attrsAny);
      // Tencent's own count says the day is used up although the app has counted nothing.
      h.emulator.setQuotaUsed(100);

      await h.click('approve', first.id, APPROVER);
      const reply = await waitForThreadReply(h, first.id, /90047/);
      expect(textOf(reply)).toMatch(/quota/i);
      expect(textOf(reply)).toMatch(/Asia\/Shanghai/);
      expect(textOf(reply)).toMatch(/Nothing was pushed/);
      expect(textOf(reply)).not.toMatch(/Outcome unknown/);

      const failed = (await h.request(first.id))!;
      expect(failed.state).toBe('failed');
      expect(failed.result).toMatchObject({ kind: 'failed', code: 90047, attempts: 1 });
      expect(textOf(h.card(first.id))).toMatch(/Failed/);
      expect(buttonsOf(h.card(first.id)).map((b) => b.action_id)).toEqual(['request_again']);
      const dm = await waitForDm(h, REQUESTER, /90047/);
      expect(textOf(dm)).toMatch(/90047/);
      expect(h.emulator.pushes).toHaveLength(0);

      // The day is marked used up: nothing is counted, but nothing more may go out today.
      const quota = await h.app.service.quotaStatus();
      expect(quota).toMatchObject({ used: 0, exhausted: true });

      const calls = pushRequests(h).length;
      const seen = privateCount(h, APPROVER_2);
      await h.click('approve', second.id, APPROVER_2, `${second.id}:${second.version}`);
      const told = await waitForPrivate(h, APPROVER_2, /quota/, seen);
      expect(told).toMatch(/Tencent refused further pushes today/);
      expect(await stateOf(h, second.id)).toBe('pending');
      expect(pushRequests(h).length, 'the app must not call Tencent again today').toBe(calls);
    });
  });
});
