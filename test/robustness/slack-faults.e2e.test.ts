/**
 * Slack failing after an approval: the push is made exactly once and its result stored at once;
 * the card update, the thread reply and the DM stay in the outbox and are delivered later, by this
 * instance or, after a restart, by the next one on the same SQLite file. Nothing is pushed again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outboxDueMs } from '../../src/broadcast/outbox.js';
import type { BroadcastRequest } from '../../src/broadcast/types.js';
import { PushEmulator } from '../../src/tim/emulator.js';
import { FakeSlack } from '../fakes/fake-slack.js';
import { APPROVER, FORMS, REQUESTER, SDKAPPID, SIGNING_SECRET, TIM_SECRET_KEY, startHarness, type Harness } from '../helpers/harness.js';
import { postSigned, slashCommandBody } from '../helpers/slack-requests.js';
import { cardOf, clickBody, eventually, killChild, pushRequests, startChildApp, submitOver, textOf, threadOf, type ChildApp, atRest
} from './support.js';

let dir: string;
let storeUrl: string;
let fake: FakeSlack;
let emulator: PushEmulator;
const harnesses: Harness[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tb-slack-faults-'));
  storeUrl = `sqlite://${join(dir, 'store.sqlite')}`;
  fake = await FakeSlack.start();
  emulator = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY, minIntervalMs: 1000 });
});

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop();
  await emulator.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<Harness> {
  const h = await startHarness({ storeUrl, fake, pushEmulator: emulator });
  harnesses.push(h);
  return h;
}

async function submitted(h: Harness): Promise<BroadcastRequest> {
  const { request } = await h.submit(FORMS.all);
  if (!request) throw new Error('the request was not stored');
  emulator.reset();
  return request;
}

/** The result as stored, as soon as the push is recorded (Slack may still be failing). */
function stored(h: Harness, id: string): Promise<BroadcastRequest> {
  return eventually(async () => {
    const r = await h.request(id);
    return r?.state === 'sent' && r;
  }, { what: 'the result to be stored' });
}

/** Wait (long: backoff doubles per failure) for the card, the thread reply and the DM about the push. */
async function deliveredEverywhere(id: string, taskId: string): Promise<void> {
  const o = { timeoutMs: 40_000 };
  await fake.waitFor(() => (cardOf(fake, id)?.metadata as { event_payload?: { state?: string } } | undefined)?.event_payload?.state === 'sent', { ...o, what: 'the card to say sent' });
  await fake.waitFor(() => threadOf(fake, id).some((m) => textOf(m).includes(taskId)), { ...o, what: 'the thread reply' });
  await fake.waitFor(() => fake.dms(REQUESTER).some((m) => textOf(m).includes(taskId)), { ...o, what: 'the DM to the requester' });
}

function expectDeliveredOnce(id: string, taskId: string): void {
  expect(threadOf(fake, id).filter((m) => textOf(m).includes(taskId))).toHaveLength(1);
  expect(fake.dms(REQUESTER).filter((m) => textOf(m).includes(taskId))).toHaveLength(1);
}

describe('Slack failures after an approval', () => {
  it('update ok:false, 429, HTTP 500 and a dropped socket: one push, result stored at once, notifications delivered later', { timeout: 60_000 }, async () => {
    const h = await start();
    const request = await submitted(h);
    fake.failNext('chat.update', 1, { error: 'internal_error' });
    fake.failNext('chat.postMessage', 1, { status: 429, retryAfter: 1 });
    fake.failNext('chat.postMessage', 1, { status: 500 });
    fake.failNext('chat.postMessage', 1, { drop: true });
    await h.click('approve', request.id, APPROVER);

    const r = await stored(h, request.id);
    const taskId = emulator.pushes[0]!.taskId;
    expect(r.result).toMatchObject({ kind: 'sent', taskId });
    // Stored while Slack still owes things about it.
    expect(outboxDueMs(r)).toBeDefined();
    expect(threadOf(fake, request.id).some((m) => textOf(m).includes(taskId))).toBe(false);

    await deliveredEverywhere(request.id, taskId);
    const failures = fake.calls.filter((c) => c.status !== 200 || (c.answer as { ok?: boolean }).ok === false);
    expect(failures.map((c) => `${c.method}:${c.status}`).sort()).toEqual([
      'chat.postMessage:0',
      'chat.postMessage:429',
      'chat.postMessage:500',
      'chat.update:200',
    ]);
    expectDeliveredOnce(request.id, taskId);
    expect(emulator.pushes).toHaveLength(1);
    expect(pushRequests(emulator)).toHaveLength(1);
    await eventually(async () => atRest(await h.request(request.id)), { what: 'nothing owed' });
  });

  it('a new instance on the same SQLite file delivers what the stopped one still owed', { timeout: 60_000 }, async () => {
    const h1 = await start();
    const request = await submitted(h1);
    // Slack fails the next calls, whatever they are: the card update of the approval, then more.
    fake.failNext('*', 4, { status: 500 });
    await h1.click('approve', request.id, APPROVER);
    const r = await stored(h1, request.id);
    const taskId = emulator.pushes[0]!.taskId;
    expect(outboxDueMs(r)).toBeDefined();
    await h1.stop();
    harnesses.splice(harnesses.indexOf(h1), 1);
    const callsAtStop = fake.calls.length;
    fake.clearFaults();
    // Still failing when the next instance first tries.
    fake.failNext('chat.update', 1, { status: 500 });

    const h2 = await start();
    await deliveredEverywhere(request.id, taskId);
    expect(fake.calls.slice(callsAtStop).some((c) => c.method === 'chat.postMessage' && c.status === 200)).toBe(true);
    expect(fake.calls.slice(0, callsAtStop).filter((c) => c.status === 500).length).toBeGreaterThanOrEqual(1);
    expect(fake.calls.slice(callsAtStop).filter((c) => c.status === 500).map((c) => c.method)).toEqual(['chat.update']);
    expectDeliveredOnce(request.id, taskId);
    expect(emulator.pushes).toHaveLength(1);
    expect(pushRequests(emulator)).toHaveLength(1);
    const after = await h2.request(request.id);
    expect(after?.state).toBe('sent');
  });

  it('Slack failing while the app starts (auth.test HTTP 500): the process keeps running and serves requests once Slack is back', { timeout: 60_000 }, async () => {
    fake.failNext('auth.test', 1, { status: 500 });
    let app: ChildApp | undefined;
    try {
      app = await startChildApp({ fake, emulator, storeUrl, cwd: dir });
      // Whoever met the failure (start-up or the first request), the next request must work.
      await postSigned(app.url, SIGNING_SECRET, slashCommandBody({ text: 'help', responseUrl: fake.responseUrl('help') }));
      await fake.waitFor(() => fake.calls.some((c) => c.method === 'auth.test' && c.status === 500), { what: 'the failed auth.test' });
      const id = await submitOver(fake, app.url, SIGNING_SECRET);
      await postSigned(app.url, SIGNING_SECRET, clickBody(fake, 'approve', id, APPROVER));
      await fake.waitFor(() => threadOf(fake, id).some((m) => /TaskId/.test(textOf(m))), { what: 'the push announced' });
      expect(app.child.exitCode, app.output()).toBeNull();
      expect(emulator.pushes).toHaveLength(1);
    } finally {
      await killChild(app);
    }
  });
});
