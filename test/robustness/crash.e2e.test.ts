/**
 * The real app as a child process (`node --import tsx src/main.ts`) on a SQLite file, killed at the
 * worst moments: SIGKILL while a push is in flight (→ 'unknown', reported, never pushed again),
 * SIGKILL while approved but not yet sending (→ pending again, quota given back), and SIGTERM
 * with a push in flight (→ the push finishes, 'sent' is recorded, exit code 0).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Quota } from '../../src/broadcast/quota.js';
import { Requests } from '../../src/broadcast/requests.js';
import { openStore } from '../../src/broadcast/store/open.js';
import type { BroadcastRequest } from '../../src/broadcast/types.js';
import { PushEmulator } from '../../src/tim/emulator.js';
import { FakeSlack } from '../fakes/fake-slack.js';
import { APPROVER, REQUESTER, SDKAPPID, SIGNING_SECRET, TIM_SECRET_KEY } from '../helpers/harness.js';
import { postSigned } from '../helpers/slack-requests.js';
import {
  cardOf,
  clickBody,
  hasApproveButton,
  history,
  killChild,
  pause,
  pushRequests,
  startChildApp,
  submitOver,
  textOf,
  threadOf,
  atRest,
  type ChildApp,
} from './support.js';

/** main.ts sweeps the outbox every 5 s. */
const SWEEP_MS = 5000;
/**
 * A process killed while delivering a notification leaves its delivery lease behind (30 s), and the
 * next instance waits for it to run out: notifications owed after a crash may take that long.
 */
const AFTER_CRASH = { timeoutMs: 45_000 };
/** Give a card delivery we just saw a moment to release its lease, so most runs need not wait for it. */
const LEASE_RELEASE_MS = 300;

let dir: string;
let storeUrl: string;
let fake: FakeSlack;
let emulator: PushEmulator;
const apps: ChildApp[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tb-crash-'));
  storeUrl = `sqlite://${join(dir, 'store.sqlite')}`;
  fake = await FakeSlack.start();
  emulator = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY, minIntervalMs: 1000 });
});

afterEach(async () => {
  for (const app of apps.splice(0)) await killChild(app);
  await emulator.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A child app on this test's SQLite file; the response timeout is long so only our signals end a push. */
async function start(env: Record<string, string> = {}): Promise<ChildApp> {
  const app = await startChildApp({ fake, emulator, storeUrl, cwd: dir, env: { TIM_TIMEOUT_MS: '60000', ...env } });
  apps.push(app);
  return app;
}

/** Read the store file once no app holds it (one writer per SQLite file). */
async function readStore(id: string): Promise<{ request: BroadcastRequest | undefined; quotaUsed: number }> {
  const store = await openStore(storeUrl);
  try {
    const request = await new Requests(store).get(id);
    const quota = await new Quota(store, 100, 'Asia/Shanghai').status(new Date());
    return { request, quotaUsed: quota.used };
  } finally {
    await store.close();
  }
}

/** SIGTERM and expect a clean exit. */
async function stopGracefully(app: ChildApp): Promise<void> {
  app.child.kill('SIGTERM');
  const exit = await app.exited;
  expect(exit, `clean exit; output:\n${app.output()}`).toEqual({ code: 0, signal: null });
}

function approve(app: ChildApp, id: string) {
  return postSigned(app.url, SIGNING_SECRET, clickBody(fake, 'approve', id, APPROVER));
}

/** The card's message metadata says the request is in `state`. */
const cardSays = (id: string, state: string) => () =>
  (cardOf(fake, id)?.metadata as { event_payload?: { state?: string } } | undefined)?.event_payload?.state === state;

describe('crash and shutdown', () => {
  it('SIGKILL between "sending" and the reply: restart reports outcome unknown and never pushes again', { timeout: 120_000 }, async () => {
    const app1 = await start();
    const id = await submitOver(fake, app1.url, SIGNING_SECRET);
    emulator.reset();
    // Tencent takes the push but the answer never comes back.
    emulator.failNext(1, { kind: 'delay', ms: 60_000, accept: true });
    expect((await approve(app1, id)).status).toBe(200);
    // The push is out (so 'sending' was stored before it left) and the card says approved/sending.
    await fake.waitFor(() => emulator.pushes.length === 1 && cardSays(id, 'sending')(), { what: 'the push in flight' });
    await pause(LEASE_RELEASE_MS);
    expect(pushRequests(emulator)[0]!.response, 'still unanswered').toBeNull();
    await killChild(app1, 'SIGKILL');

    const app2 = await start();
    const reply = await fake.waitFor(() => threadOf(fake, id).find((m) => /Outcome unknown/.test(textOf(m))), {
      ...AFTER_CRASH,
      what: 'the outcome-unknown thread reply',
    });
    const replyText = textOf(reply);
    expect(replyText).toMatch(/<!date\^\d+\^/); // when it left, as a Slack date
    expect(replyText).toContain('console');
    expect(replyText).toContain(String(emulator.pushes[0]!.body.MsgRandom));
    expect(replyText).toMatch(/never pushes it again by itself/);
    await fake.waitFor(cardSays(id, 'unknown'), { what: 'the card to say outcome unknown' });
    expect(textOf(cardOf(fake, id))).toMatch(/console/);
    expect(hasApproveButton(cardOf(fake, id))).toBe(false);
    await fake.waitFor(() => fake.dms(REQUESTER).find((m) => /unknown/.test(textOf(m))), { what: 'the DM to the requester' });

    // Let the outbox sweep run a few times, then stop cleanly and look at what is left.
    await pause(2 * SWEEP_MS + 500);
    await stopGracefully(app2);
    expect(pushRequests(emulator), 'no second push request, not even a de-duplicated one').toHaveLength(1);
    expect(emulator.pushes).toHaveLength(1);
    const { request, quotaUsed } = await readStore(id);
    expect(request?.state).toBe('unknown');
    expect(atRest(request)).toBe(true);
    expect(history(request, 'sending')).toHaveLength(1);
    expect(history(request, 'unknown')).toEqual([expect.objectContaining({ from: 'sending', kind: 'unknown' })]);
    expect(quotaUsed, 'an unknown push still counts against the day').toBe(1);
    expect(threadOf(fake, id).filter((m) => /Outcome unknown/.test(textOf(m)))).toHaveLength(1);
  });

  it('SIGKILL while approved but not yet sending: restart returns it to pending, asks to approve again, gives the quota back', { timeout: 120_000 }, async () => {
    // Another instance holds the push slot for the next two minutes, so an approval waits in 'approved'.
    const store = await openStore(storeUrl);
    await store.reserveSlot('push-slot', 0, Date.now() + 120_000);
    await store.close();

    const app1 = await start();
    const id = await submitOver(fake, app1.url, SIGNING_SECRET);
    emulator.reset();
    expect((await approve(app1, id)).status).toBe(200);
    await fake.waitFor(cardSays(id, 'approved'), { what: 'the card to say approved' });
    await pause(LEASE_RELEASE_MS);
    await killChild(app1, 'SIGKILL');
    expect(pushRequests(emulator)).toHaveLength(0);

    const app2 = await start();
    const reply = await fake.waitFor(() => threadOf(fake, id).find((m) => /Back to pending/.test(textOf(m))), {
      ...AFTER_CRASH,
      what: 'the pending-again thread reply',
    });
    expect(textOf(reply)).toContain('approve again to send');
    expect(textOf(reply)).toContain('Nothing was pushed');
    await fake.waitFor(() => cardSays(id, 'pending')() && hasApproveButton(cardOf(fake, id)), {
      what: 'the card to offer Approve again',
    });

    await stopGracefully(app2);
    expect(pushRequests(emulator)).toHaveLength(0);
    const { request, quotaUsed } = await readStore(id);
    expect(request?.state).toBe('pending');
    expect(request?.approvals).toEqual([]);
    expect(history(request, 'pending').at(-1)).toMatchObject({ from: 'approved', note: expect.stringContaining('approve again') });
    expect(quotaUsed, 'the slot reserved for the push that never left is given back').toBe(0);
  });

  it('SIGTERM with a push in flight: finishes it, records sent, exits 0', { timeout: 60_000 }, async () => {
    const app = await start({ TIM_TIMEOUT_MS: '3500' });
    const id = await submitOver(fake, app.url, SIGNING_SECRET);
    emulator.reset();
    emulator.failNext(1, { kind: 'delay', ms: 1500, accept: true });
    expect((await approve(app, id)).status).toBe(200);
    await fake.waitFor(() => emulator.pushes.length === 1, { what: 'the push to reach Tencent' });
    await stopGracefully(app);

    const taskId = emulator.pushes[0]!.taskId;
    expect(pushRequests(emulator)).toHaveLength(1);
    const { request } = await readStore(id);
    expect(request?.state).toBe('sent');
    expect(request?.result).toMatchObject({ kind: 'sent', taskId, attempts: 1 });
    // The result was announced before the process left.
    expect(threadOf(fake, id).map(textOf).join('\n')).toContain(taskId);
  });
});
