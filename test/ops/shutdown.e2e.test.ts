/**
 * The shutdown budget and the last-resort handlers of main.ts, on the real app in a child process:
 * a push held in flight past SHUTDOWN_TIMEOUT_SECONDS makes the app exit non-zero, naming the
 * request on stderr, and the next start reports it as unknown without pushing again; an uncaught
 * exception is logged and exits 1; an unhandled rejection is logged and the app keeps running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PushEmulator } from '../../src/tim/emulator.js';
import { FakeSlack } from '../fakes/fake-slack.js';
import { APPROVER, SDKAPPID, SIGNING_SECRET, TIM_SECRET_KEY } from '../helpers/harness.js';
import { postSigned } from '../helpers/slack-requests.js';
import { cardOf, clickBody, eventually, killChild, pause, pushRequests, startChildApp, submitOver, type ChildApp } from '../robustness/support.js';

const FAULT_ON_SIGNAL = pathToFileURL(resolve(import.meta.dirname, 'preload/fault-on-signal.mjs')).href;

let dir: string;
let storeUrl: string;
let fake: FakeSlack;
let emulator: PushEmulator;
const apps: ChildApp[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tb-shutdown-'));
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

async function start(env: Record<string, string> = {}): Promise<ChildApp & { stderr: () => string }> {
  // A long response timeout: only the shutdown budget ends the push held in flight.
  const app = await startChildApp({ fake, emulator, storeUrl, cwd: dir, env: { TIM_TIMEOUT_MS: '60000', ...env } });
  apps.push(app);
  let stderr = '';
  app.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return { ...app, stderr: () => stderr };
}

const logLines = (output: string) =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('shutdown budget', () => {
  it('a push in flight past SHUTDOWN_TIMEOUT_SECONDS: exit non-zero, the request named on stderr, never pushed again', { timeout: 90_000 }, async () => {
    const app = await start({ SHUTDOWN_TIMEOUT_SECONDS: '1' });
    const id = await submitOver(fake, app.url, SIGNING_SECRET);
    emulator.reset();
    // Tencent takes the push at once but answers only after 5 s, well past the 1 s budget.
    emulator.failNext(1, { kind: 'delay', ms: 5000, accept: true });
    expect((await postSigned(app.url, SIGNING_SECRET, clickBody(fake, 'approve', id, APPROVER))).status).toBe(200);
    await fake.waitFor(() => emulator.pushes.length === 1, { what: 'the push to reach Tencent' });
    expect(pushRequests(emulator)[0]!.response, 'still unanswered').toBeNull();

    app.child.kill('SIGTERM');
    const exit = await app.exited;
    expect(exit.code, `exit status; output:\n${app.output()}`).toBe(1);
    expect(pushRequests(emulator)[0]!.response, 'the app left before Tencent answered').toBeNull();
    const named = app.stderr().split('\n').filter((l) => l.includes(id));
    expect(named, `stderr names the request:\n${app.stderr()}`).toHaveLength(1);
    expect(named[0]).toMatch(/still in flight .* budget \(1 s\) ran out.*unknown, never re-sent/);
    const giveUp = logLines(app.output()).find((l) => l.msg === 'shutdown budget ran out; exiting with work unfinished');
    expect(giveUp?.stillSending).toEqual([id]);

    // The next start cannot know whether Tencent took it, so it says unknown and does not push again.
    const again = await start();
    await eventually(async () => /outcome unknown/i.test(cardOf(fake, id)?.text ?? ''), { timeoutMs: 45_000, what: 'the card to say outcome unknown' });
    await pause(1500);
    expect(pushRequests(emulator)).toHaveLength(1);
    await killChild(again, 'SIGTERM');
  });

  it('a push that finishes within the budget: recorded, exit 0, nothing on stderr', { timeout: 60_000 }, async () => {
    const app = await start({ SHUTDOWN_TIMEOUT_SECONDS: '20' });
    const id = await submitOver(fake, app.url, SIGNING_SECRET);
    emulator.reset();
    emulator.failNext(1, { kind: 'delay', ms: 1500, accept: true });
    expect((await postSigned(app.url, SIGNING_SECRET, clickBody(fake, 'approve', id, APPROVER))).status).toBe(200);
    await fake.waitFor(() => emulator.pushes.length === 1, { what: 'the push to reach Tencent' });
    app.child.kill('SIGTERM');
    const exit = await app.exited;
    expect(exit, `output:\n${app.output()}`).toEqual({ code: 0, signal: null });
    expect(app.stderr()).toBe('');
    expect(cardOf(fake, id)?.text ?? '').not.toMatch(/unknown/i);
  });
});

describe('last-resort handlers', () => {
  it('an uncaught exception is logged with its stack and the app exits 1', { timeout: 60_000 }, async () => {
    const app = await start({ NODE_OPTIONS: `--import=${FAULT_ON_SIGNAL}`, TEST_FAULT: 'throw' });
    app.child.kill('SIGUSR2');
    const exit = await app.exited;
    expect(exit.code).toBe(1);
    const line = logLines(app.output()).find((l) => l.msg === 'uncaught exception; exiting');
    expect(line, app.output()).toBeDefined();
    expect(JSON.stringify(line)).toContain('thrown by the test on SIGUSR2');
    expect(String(line!.stack)).toMatch(/fault-on-signal\.mjs/);
  });

  it('an unhandled rejection is logged and the app keeps running', { timeout: 60_000 }, async () => {
    const app = await start({ NODE_OPTIONS: `--import=${FAULT_ON_SIGNAL}`, TEST_FAULT: 'reject' });
    app.child.kill('SIGUSR2');
    await eventually(async () => logLines(app.output()).find((l) => l.msg === 'unhandled promise rejection (still running)'), {
      what: 'the unhandled-rejection log line',
    });
    expect(app.output()).toContain('rejected by the test on SIGUSR2');
    expect((await fetch(`http://127.0.0.1:${app.port}/healthz`)).status).toBe(200);
    app.child.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
  });
});
