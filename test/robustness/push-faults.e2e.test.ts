/**
 * Tencent-side faults during an approved push, end to end (real app, signed clicks, push emulator):
 * retries reuse the request's MsgRandom, only transient failures are retried, an answer that never
 * comes is 'unknown' (never 'failed'), and a push that provably never left gives its quota back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BroadcastRequest } from '../../src/broadcast/types.js';
import { APPROVER, FORMS, REQUESTER, startHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { eventually, history, msgRandomOfRequest, pushRequests, textOf, threadOf } from './support.js';
import { atRest } from './support.js';

const FINAL = ['sent', 'failed', 'unknown'];

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/**
 * Submit the standard form, arm the emulator's faults (after the modal's attribute-name lookup,
 * which is an API request too), approve, and wait until the result and every notification are out.
 */
async function approveAndFinish(harness: Harness, arm: () => void = () => undefined): Promise<BroadcastRequest> {
  const { request } = await harness.submit(FORMS.all);
  expect(request, 'the request was stored').toBeDefined();
  harness.emulator.reset();
  arm();
  await harness.click('approve', request!.id, APPROVER);
  return eventually(
    async () => {
      const r = await harness.request(request!.id);
      return r && FINAL.includes(r.state) && atRest(r) && r;
    },
    { timeoutMs: 25_000, what: 'the final state, delivered to Slack' },
  );
}

function threadText(harness: Harness, id: string): string {
  return threadOf(harness.fake, id).map(textOf).join('\n');
}

/** Every push request carried the MsgRandom fixed at submission. */
function expectSameMsgRandom(harness: Harness, r: BroadcastRequest, count: number) {
  const sent = pushRequests(harness.emulator);
  expect(sent).toHaveLength(count);
  expect(sent.map(msgRandomOfRequest)).toEqual(Array(count).fill(r.body.MsgRandom));
}

describe('push faults', () => {
  it('retries 91000 with the same MsgRandom and pushes once', async () => {
    h = await startHarness();
    const r = await approveAndFinish(h, () => h!.emulator.failNext(2, { kind: 'error', code: 91000 }));
    expect(r.state).toBe('sent');
    expect(h.emulator.pushes).toHaveLength(1);
    expectSameMsgRandom(h, r, 3);
    expect(r.result).toMatchObject({ kind: 'sent', taskId: h.emulator.pushes[0]!.taskId, attempts: 3 });
    expect(threadText(h, r.id)).toContain(h.emulator.pushes[0]!.taskId);
  });

  it('an HTTP 500 from the gateway makes the outcome unknown at once: no retry, the slot stays counted', async () => {
    h = await startHarness();
    const r = await approveAndFinish(h, () => h!.emulator.failNext(1, { kind: 'http', status: 500 }));
    expect(r.state).toBe('unknown');
    expect(r.result).toMatchObject({ kind: 'unknown', attempts: 1 });
    expectSameMsgRandom(h, r, 1);
    expect((await h.app.service.quotaStatus()).used).toBe(1);
  });

  it('a connection dropped after Tencent accepted the push: one accepted task, reported unknown, never retried', async () => {
    // Tencent de-duplicates a MsgRandom only within the same second, and our spacing puts any retry
    // more than a second later: a retry here would be a second push to every user.
    h = await startHarness();
    const r = await approveAndFinish(h, () => h!.emulator.failNext(1, { kind: 'drop', accept: true }));
    expect(r.state).toBe('unknown');
    expect(h.emulator.pushes).toHaveLength(1);
    expect(h.emulator.acceptedFor(r.body.MsgRandom)).toHaveLength(1);
    expectSameMsgRandom(h, r, 1);
    expect(r.result).toMatchObject({ kind: 'unknown', attempts: 1 });
  });

  it('90047 (daily limit) is not retried: failed, and the day is marked used up', async () => {
    h = await startHarness();
    const r = await approveAndFinish(h, () => h!.emulator.failNext(1, { kind: 'error', code: 90047 }));
    expect(r.state).toBe('failed');
    expect(pushRequests(h.emulator)).toHaveLength(1);
    expect(h.emulator.pushes).toHaveLength(0);
    expect(r.result).toMatchObject({ kind: 'failed', code: 90047, attempts: 1 });
    const quota = await h.app.service.quotaStatus();
    expect(quota).toMatchObject({ used: 0, exhausted: true });
    expect(threadText(h, r.id)).toContain('90047');
  });

  it('a validation error (90020) is not retried', async () => {
    h = await startHarness();
    const r = await approveAndFinish(h, () => h!.emulator.failNext(1, { kind: 'error', code: 90020 }));
    expect(r.state).toBe('failed');
    expect(pushRequests(h.emulator)).toHaveLength(1);
    expect(r.result).toMatchObject({ kind: 'failed', code: 90020, attempts: 1 });
    expect((await h.app.service.quotaStatus()).used).toBe(0);
    expect(threadText(h, r.id)).toContain('Nothing was pushed');
  });

  it('a timeout after the request left ends as unknown at once, never failed, and keeps the quota slot', async () => {
    h = await startHarness({ env: { PUSH_MAX_ATTEMPTS: '3', TIM_TIMEOUT_MS: '3500' } });
    const r = await approveAndFinish(h, () => h!.emulator.failNext(2, { kind: 'delay', ms: 4500, accept: false }));
    expect(r.state).toBe('unknown');
    expect(history(r, 'failed')).toHaveLength(0);
    expect(r.result).toMatchObject({ kind: 'unknown', attempts: 1 });
    expectSameMsgRandom(h, r, 1);
    // It may have gone out, so it still counts against the day.
    expect((await h.app.service.quotaStatus()).used).toBe(1);
    expect(threadText(h, r.id)).toMatch(/Outcome unknown/i);
    expect(threadText(h, r.id)).toContain('console');
    expect(h.fake.dms(REQUESTER).map(textOf).join('\n')).toMatch(/unknown/i);
  });

  it('a refused connection fails after bounded tries, explains in the thread and releases the quota slot', async () => {
    const closedPort = await freePort();
    h = await startHarness({ env: { TIM_BASE_URL: `http://127.0.0.1:${closedPort}`, PUSH_MAX_ATTEMPTS: '3' } });
    const r = await approveAndFinish(h);
    expect(r.state).toBe('failed');
    expect(r.result).toMatchObject({ kind: 'failed', code: null, attempts: 3 });
    expect(h.emulator.requests).toHaveLength(0);
    expect(await h.app.service.quotaStatus()).toMatchObject({ used: 0, exhausted: false });
    const thread = threadText(h, r.id);
    expect(thread).toContain('Could not reach Tencent');
    expect(thread).toContain('connection refused');
    expect(thread).toContain('Nothing was pushed');
  });

  it('90024 (too frequent) waits and retries, then sends once', async () => {
    h = await startHarness();
    const r = await approveAndFinish(h, () => h!.emulator.failNext(1, { kind: 'error', code: 90024 }));
    expect(r.state).toBe('sent');
    expect(h.emulator.pushes).toHaveLength(1);
    expectSameMsgRandom(h, r, 2);
    expect(r.result).toMatchObject({ kind: 'sent', attempts: 2 });
    expect(threadText(h, r.id)).not.toContain('90024');
  });
});
