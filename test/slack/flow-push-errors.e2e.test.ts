/**
 * Every class of push error reaches the card's thread with its explanation: Tencent refusals
 * (validation, feature, credentials), a transient error that a retry fixes, and a timeout whose
 * outcome is unknown (reported as such, never as "failed").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER, FORMS, REQUESTER, TIM_SECRET_KEY, startHarness, type Harness } from '../helpers/harness.js';
import {
  buttonsOf,
  pushRequests,
  pushesOf,
  stateOf,
  submitOk,
  textOf,
  waitForDm,
  waitForThreadReply,
  withHarness,
} from './flow-helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

/** Submit, make Tencent answer the next im_push with `code`, approve; returns the request and its thread reply. */
async function approveAgainstError(code: number) {
  const request = await submitOk(h, FORMS.tagsAll);
  const calls = pushRequests(h).length;
  const quotaBefore = (await h.app.service.quotaStatus()).used;
  h.emulator.failNext(1, { kind: 'error', code });
  await h.click('approve', request.id, APPROVER);
  const reply = await waitForThreadReply(h, request.id, new RegExp(`error ${code}`));
  expect(await stateOf(h, request.id)).toBe('failed');
  expect((await h.request(request.id))!.result).toMatchObject({ kind: 'failed', code, attempts: 1 });
  // A definite refusal is not retried, nothing went out and the quota slot is given back.
  expect(pushRequests(h).length - calls).toBe(1);
  expect(pushesOf(h, request)).toHaveLength(0);
  expect((await h.app.service.quotaStatus()).used).toBe(quotaBefore);
  const text = textOf(reply);
  expect(text).toMatch(/Nothing was pushed/);
  expect(text).not.toMatch(/Outcome unknown/);
  expect(textOf(h.card(request.id))).toMatch(/Failed/);
  expect(h.card(request.id)?.metadata).toMatchObject({ event_payload: { state: 'failed', error_code: code } });
  // A failed request can only be asked for again (by its requester), never re-approved.
  expect(buttonsOf(h.card(request.id)).map((b) => b.action_id)).toEqual(['request_again']);
  return { request, text };
}

describe('Tencent refuses the push', () => {
  it.each([
    { code: 90020, title: /A tag is too long/, action: /Shorten the tag/ },
    { code: 90010, title: /Request format is invalid/, action: /Check the audience and notification settings/ },
  ])('a validation error ($code) is explained in the thread', async ({ code, title, action }) => {
    const { text } = await approveAgainstError(code);
    expect(text).toMatch(title);
    expect(text).toMatch(action);
  });

  it('a feature error (90045) points at the edition and the console switch', async () => {
    const { text } = await approveAgainstError(90045);
    expect(text).toMatch(/All-member push is not enabled/);
    expect(text).toMatch(/edition/);
    expect(text).toMatch(/All-member push settings/);
    // The requester hears it too: the code, and where the explanation is.
    const dm = await waitForDm(h, REQUESTER, /90045/);
    expect(textOf(dm)).toMatch(/thread/);
  });

  it('a credential error (70009, wrong TIM_SECRET_KEY) says to check TIM_SECRET_KEY, without leaking any key', async () => {
    const wrongKey = 'f'.repeat(64);
    expect(wrongKey).not.toBe(TIM_SECRET_KEY);
    await withHarness({ env: { TIM_SECRET_KEY: wrongKey } }, async (bad) => {
      const request = await submitOk(bad, FORMS.all);
      await bad.click('approve', request.id, APPROVER);
      const reply = await waitForThreadReply(bad, request.id, /error 70009/);
      expect(textOf(reply)).toMatch(/secret key/i);
      expect(textOf(reply)).toMatch(/TIM_SECRET_KEY/);
      expect(await stateOf(bad, request.id)).toBe('failed');
      expect(bad.emulator.pushes).toHaveLength(0);
      const everythingSaid = JSON.stringify(bad.fake.calls.map((c) => c.args));
      expect(everythingSaid).not.toContain(wrongKey);
      expect(everythingSaid).not.toContain(TIM_SECRET_KEY);
    });
  });
});

describe('transient errors and timeouts', () => {
  it('a retryable 91000 is retried with the same MsgRandom and sent once', async () => {
    const request = await submitOk(h, FORMS.attrsAny);
    const calls = pushRequests(h).length;
    h.emulator.failNext(1, { kind: 'error', code: 91000 });
    await h.click('approve', request.id, APPROVER);
    const reply = await waitForThreadReply(h, request.id, /TaskId/);

    expect(await stateOf(h, request.id)).toBe('sent');
    const attempts = pushRequests(h).slice(calls);
    expect(attempts).toHaveLength(2);
    expect(attempts.map((a) => (a.body as { MsgRandom: number }).MsgRandom)).toEqual([request.body.MsgRandom, request.body.MsgRandom]);
    expect(pushesOf(h, request)).toHaveLength(1);
    const taskId = pushesOf(h, request)[0]!.taskId;
    expect((await h.request(request.id))!.result).toMatchObject({ kind: 'sent', taskId, attempts: 2 });
    expect(textOf(reply)).toContain(taskId);
  });

  it('no answer within TIM_TIMEOUT_MS makes the outcome unknown at once — never retried, never "failed"', async () => {
    await withHarness({}, async (slow) => {
      expect(slow.config.TIM_TIMEOUT_MS).toBe(3500);
      const request = await submitOk(slow, FORMS.all);
      slow.emulator.failNext(1, { kind: 'delay', ms: 5000, accept: false });
      await slow.click('approve', request.id, APPROVER);

      const reply = await waitForThreadReply(slow, request.id, /Outcome unknown/);
      const text = textOf(reply);
      expect(text).toMatch(/the push MAY have gone out/);
      expect(text).toMatch(/no answer within the response timeout/);
      expect(text).toMatch(/console/);
      expect(text).toMatch(/never pushes it again by itself/);

      const stored = (await slow.request(request.id))!;
      expect(stored.state).toBe('unknown');
      expect(stored.result).toMatchObject({ kind: 'unknown', attempts: 1 });
      expect(textOf(slow.card(request.id))).toMatch(/Outcome unknown/);
      expect(textOf(slow.card(request.id))).not.toMatch(/Failed/);
      // Approvers settle it after checking the console; nothing is re-sent by itself.
      expect(buttonsOf(slow.card(request.id)).map((b) => b.action_id)).toEqual(['mark_sent', 'mark_not_sent']);
      const dm = await waitForDm(slow, REQUESTER, /unknown/);
      expect(textOf(dm)).not.toMatch(/failed/i);

      // It may have been pushed, so its quota slot stays counted, and there was exactly one attempt.
      expect((await slow.app.service.quotaStatus()).used).toBe(1);
      expect(pushRequests(slow)).toHaveLength(1);
    });
  });
});
