/**
 * TIM_REGION=sandbox: the push emulator runs inside the app on 127.0.0.1 with generated
 * credentials, and a submitted, approved broadcast is sent there. Proof that nothing left for
 * Tencent: in process, the harness's own emulator (the usual TIM_BASE_URL) hears nothing; in a
 * child process, a preloaded guard records every connection and DNS lookup the app makes, and
 * all of them are on loopback (and the guard itself is shown to catch a request for Tencent).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSandboxKey } from '../../src/sandbox.js';
import { PushEmulator } from '../../src/tim/emulator.js';
import { FakeSlack } from '../fakes/fake-slack.js';
import { APPROVER, FORMS, SDKAPPID, SIGNING_SECRET, TIM_SECRET_KEY, startHarness, type Harness } from '../helpers/harness.js';
import { postSigned } from '../helpers/slack-requests.js';
import { clickBody, eventually, killChild, startChildApp, submitOver, textOf, threadOf, type ChildApp } from '../robustness/support.js';

const NET_GUARD = pathToFileURL(resolve(import.meta.dirname, 'preload/loopback-only.mjs')).href;
const TASK_ID = /\b(\d+)_\d+_\d+_\d+\b/;

interface NetEntry {
  pid: number;
  kind: 'connect' | 'lookup';
  host?: string;
  port?: number;
  path?: string;
  allowed: boolean;
}
const netLog = (file: string): NetEntry[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as NetEntry)
    : [];

describe('sandbox, in process', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('an approved broadcast is sent to the emulator inside the app; the configured Tencent endpoint hears nothing', { timeout: 60_000 }, async () => {
    const lines: string[] = [];
    // baseEnv's TIM_SDKAPPID/TIM_SECRET_KEY are still set: the sandbox must ignore them.
    h = await startHarness({ env: { TIM_REGION: 'sandbox', TIM_BASE_URL: '' }, logLines: lines });
    expect(h.app.sandbox).toBe(true);
    expect(isSandboxKey(h.config.TIM_SECRET_KEY)).toBe(true);
    expect(h.config.TIM_SECRET_KEY).not.toBe(TIM_SECRET_KEY);

    const { request } = await h.submit(FORMS.all);
    expect(request, 'the request was stored').toBeDefined();
    await h.click('approve', request!.id, APPROVER);
    const sent = await eventually(async () => ((await h!.request(request!.id))?.state === 'sent' ? h!.request(request!.id) : undefined), {
      what: 'the request to be sent',
    });
    const taskId = sent!.result?.kind === 'sent' ? sent!.result.taskId : '';
    expect(TASK_ID.exec(taskId)?.[1], 'TaskId of the sandbox SDKAppID').toBe(String(h.config.TIM_SDKAPPID));
    await eventually(async () => threadOf(h!.fake, request!.id).some((m) => textOf(m).includes(taskId)), { what: 'the TaskId in the card thread' });

    // The in-process emulator answered it (its log line), and the harness's emulator got nothing at all.
    const answered = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'sandbox push emulator answered' && l.taskId === taskId);
    expect(answered).toHaveLength(1);
    expect(h.emulator.requests).toHaveLength(0);
    expect(lines.some((l) => l.includes('SANDBOX MODE: every push goes to the push emulator inside this process'))).toBe(true);
  });

  it('a real region is not a sandbox (the flag is not always on)', { timeout: 30_000 }, async () => {
    h = await startHarness();
    expect(h.app.sandbox).toBe(false);
  });
});

describe('sandbox, in a child process whose every connection is recorded', () => {
  let dir: string;
  let fake: FakeSlack;
  let emulator: PushEmulator;
  let app: ChildApp | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tb-sandbox-'));
    fake = await FakeSlack.start();
    // Where TIM_BASE_URL usually points in the tests; the sandbox must not use it.
    emulator = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY });
  });

  afterEach(async () => {
    await killChild(app);
    app = undefined;
    await emulator.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the guard sees and refuses a request for Tencent (so its silence below means something)', () => {
    const log = join(dir, 'control.jsonl');
    const script = `await fetch('https://console.tim.qq.com/v4/all_member_push/im_push').then(() => console.log('reached'), () => console.log('refused'));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: `--import=${NET_GUARD}`, NET_GUARD_LOG: log },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.stdout.trim()).toBe('refused');
    expect(netLog(log)).toEqual([expect.objectContaining({ kind: 'connect', host: 'console.tim.qq.com', port: 443, allowed: false })]);
  });

  it('submit and approve: sent to the in-process emulator on loopback; no connection or lookup left loopback', { timeout: 90_000 }, async () => {
    const log = join(dir, 'net.jsonl');
    app = await startChildApp({
      fake,
      emulator,
      storeUrl: `sqlite://${join(dir, 'store.sqlite')}`,
      cwd: dir,
      env: { TIM_REGION: 'sandbox', TIM_BASE_URL: '', TIM_SDKAPPID: '', TIM_SECRET_KEY: '', NODE_OPTIONS: `--import=${NET_GUARD}`, NET_GUARD_LOG: log },
    });
    const banner = app
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((l) => String(l.msg).startsWith('SANDBOX MODE'));
    expect(banner, app.output()).toBeDefined();
    const sandboxPort = Number(new URL(banner.emulator).port);
    expect(new URL(banner.emulator).hostname).toBe('127.0.0.1');

    const id = await submitOver(fake, app.url, SIGNING_SECRET);
    expect((await postSigned(app.url, SIGNING_SECRET, clickBody(fake, 'approve', id, APPROVER))).status).toBe(200);
    const reply = await fake.waitFor(() => threadOf(fake, id).find((m) => TASK_ID.test(textOf(m))), { what: 'the TaskId reply in the card thread' });
    const taskId = TASK_ID.exec(textOf(reply))!;
    expect(taskId[1], 'issued for the sandbox SDKAppID').toBe(String(banner.sdkAppId));
    expect(app.output()).toContain(`"msg":"sandbox push emulator answered"`);
    expect(app.output()).toContain(taskId[0]);

    const entries = netLog(log).filter((e) => e.pid === app!.child.pid);
    expect(entries.some((e) => e.kind === 'connect' && e.port === sandboxPort), 'the push went to the sandbox emulator').toBe(true);
    expect(entries.some((e) => e.kind === 'connect' && e.port === Number(new URL(fake.apiUrl).port)), 'Slack calls were seen too').toBe(true);
    expect(entries.filter((e) => !e.allowed), 'nothing tried to leave loopback').toEqual([]);
    expect(emulator.requests, 'the usual TIM_BASE_URL emulator heard nothing').toHaveLength(0);
  });
});
