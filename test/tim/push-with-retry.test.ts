import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TimClient, type PushAttempt } from '../../src/tim/client.js';
import { PushEmulator, type FaultMode } from '../../src/tim/emulator.js';
import { explainError } from '../../src/tim/errors.js';
import type { ImPushBody } from '../../src/tim/push-body.js';
import { judgeAttempt, pushWithRetry } from '../../src/tim/push-with-retry.js';
import { ADMIN, SDKAPPID, SECRET_KEY, closedPort, noSleep, textBody } from './helpers.js';

describe('pushWithRetry against the emulator', () => {
  let emu: PushEmulator;
  let client: TimClient;
  let nowMs: number;

  beforeEach(async () => {
    nowMs = Date.now(); // the client signs with the real clock
    emu = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, admin: ADMIN, now: () => nowMs });
    client = new TimClient({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, admin: ADMIN, baseUrl: emu.url, responseTimeoutMs: 300 });
  });

  afterEach(async () => {
    await client.close();
    await emu.close();
  });

  const msgRandoms = () => emu.requests.map((r) => (r.body as ImPushBody).MsgRandom);

  it('91000 then OK → sent after 2 attempts with the same MsgRandom, pushed once', async () => {
    emu.failNext(1, { kind: 'error', code: 91000 });
    const body = textBody();
    const out = await pushWithRetry(client, body, { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'sent', attempts: 2, taskId: emu.pushes[0]?.taskId });
    expect(msgRandoms()).toEqual([body.MsgRandom, body.MsgRandom]);
    expect(emu.acceptedFor(body.MsgRandom)).toHaveLength(1);
  });

  it.each([
    ['HTTP 502', { kind: 'http', status: 502 }, 0],
    ['HTTP 500', { kind: 'http', status: 500 }, 0],
    ['HTTP 502 after the backend accepted', { kind: 'http', status: 502, accept: true }, 1],
    ['60008 (gateway timeout)', { kind: 'error', code: 60008 }, 0],
    ['60008 after the backend accepted', { kind: 'error', code: 60008, accept: true }, 1],
    ['70500 (internal error)', { kind: 'error', code: 70500 }, 0],
    ['a timeout after acceptance', { kind: 'delay', ms: 3000, accept: true }, 1],
    ['no answer in time, nothing accepted', { kind: 'delay', ms: 3000, accept: false }, 0],
    ['a dropped connection after acceptance', { kind: 'drop', accept: true }, 1],
    ['a dropped connection before acceptance', { kind: 'drop', accept: false }, 0],
    ['an unreadable reply', { kind: 'malformed' }, 0],
  ] as [string, FaultMode, number][])('%s → unknown after exactly 1 attempt, never sent again', async (_name, fault, pushed) => {
    emu.failNext(1, fault);
    const body = textBody();
    const out = await pushWithRetry(client, body, { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'unknown', attempts: 1, explanation: { code: null, title: 'Outcome unknown', retry: 'no' } });
    expect(out.kind === 'unknown' && out.explanation.what).toContain('MAY have gone out');
    expect(emu.requests).toHaveLength(1);
    expect(emu.acceptedFor(body.MsgRandom)).toHaveLength(pushed);
  });

  it('the unknown explanation names the SDKAppID the client calls', async () => {
    emu.failNext(1, { kind: 'http', status: 502 });
    const out = await pushWithRetry(client, textBody(), { sleep: noSleep });
    expect(out.kind === 'unknown' && out.explanation.action).toContain(`SDKAppID ${SDKAPPID}`);
    expect(out.kind === 'unknown' && out.reason).toContain('HTTP 502');
  });

  it('90047 is never retried', async () => {
    emu.setQuotaUsed(100);
    const out = await pushWithRetry(client, textBody(), { sleep: noSleep, explainContext: { dailyQuota: 100 } });
    expect(out).toMatchObject({ kind: 'failed', code: 90047, attempts: 1, explanation: { retry: 'no' } });
    expect(emu.requests).toHaveLength(1);
  });

  it('a credential refusal is never retried', async () => {
    const wrongKey = new TimClient({ sdkAppId: SDKAPPID, secretKey: 'wrong', admin: ADMIN, baseUrl: emu.url });
    try {
      const out = await pushWithRetry(wrongKey, textBody(), { sleep: noSleep });
      expect(out).toMatchObject({ kind: 'failed', code: 70009, attempts: 1 });
      expect(emu.requests).toHaveLength(1);
    } finally {
      await wrongKey.close();
    }
  });

  it('90024 waits rateLimitWaitMs (the emulator clock moves with the sleep) and retries', async () => {
    expect((await client.push(textBody())).kind).toBe('sent');
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      nowMs += ms;
    };
    const body = textBody();
    const out = await pushWithRetry(client, body, { sleep, rateLimitWaitMs: 1100, random: () => 0.5 });
    expect(out).toMatchObject({ kind: 'sent', attempts: 2 });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(1100);
    expect(waits[0]).toBeLessThanOrEqual(1210);
    expect(emu.pushes).toHaveLength(2);
    expect(emu.acceptedFor(body.MsgRandom)).toHaveLength(1);
  });

  it('not_sent until exhausted → failed with code null', async () => {
    const down = new TimClient({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, admin: ADMIN, baseUrl: `http://127.0.0.1:${await closedPort()}` });
    try {
      const out = await pushWithRetry(down, textBody(), { sleep: noSleep });
      expect(out).toMatchObject({ kind: 'failed', code: null, attempts: 4, explanation: { code: null, retry: 'yes' } });
      expect(out.kind === 'failed' && out.info).toContain('ECONNREFUSED');
      // The explanation names the host the client could not reach.
      expect(out.kind === 'failed' && out.explanation.action).toContain('127.0.0.1:');
    } finally {
      await down.close();
    }
  });

  it('maxAttempts bounds the number of requests', async () => {
    emu.failNext(10, { kind: 'error', code: 91000 });
    const out = await pushWithRetry(client, textBody(), { sleep: noSleep, maxAttempts: 3 });
    expect(out).toMatchObject({ kind: 'failed', code: 91000, attempts: 3 });
    expect(emu.requests).toHaveLength(3);
    expect(emu.pushes).toHaveLength(0);
  });

  it('91000 then a timeout after acceptance → unknown after 2 attempts, never failed', async () => {
    emu.failNext(1, { kind: 'error', code: 91000 });
    emu.failNext(1, { kind: 'delay', ms: 3000, accept: true });
    const out = await pushWithRetry(client, textBody(), { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'unknown', attempts: 2 });
    expect(emu.requests).toHaveLength(2);
    expect(emu.pushes).toHaveLength(1);
  });
});

/** A scripted client: returns the given attempts in order and records the bodies it got. */
function scripted(...attempts: (PushAttempt | Error)[]) {
  const bodies: ImPushBody[] = [];
  return {
    bodies,
    async push(body: ImPushBody): Promise<PushAttempt> {
      bodies.push(body);
      const next = attempts.shift();
      if (next === undefined) throw new Error('script exhausted');
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

const refused = (code: number): PushAttempt => ({ kind: 'refused', code, info: `info ${code}`, explanation: explainError(code) });
const sent: PushAttempt = { kind: 'sent', taskId: 'T1' };
const unknown: PushAttempt = { kind: 'unknown', reason: 'no answer within the response timeout' };
const notSent: PushAttempt = { kind: 'not_sent', reason: 'connection refused (ECONNREFUSED)' };

describe('pushWithRetry policy', () => {
  it('sends the very same body every time', async () => {
    const c = scripted(refused(91000), notSent, refused(60018), sent);
    const body = textBody();
    const out = await pushWithRetry(c, body, { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'sent', attempts: 4 });
    expect(c.bodies).toHaveLength(4);
    for (const b of c.bodies) expect(b).toBe(body);
  });

  it('not_sent then OK → sent after 2 attempts', async () => {
    const c = scripted(notSent, sent);
    expect(await pushWithRetry(c, textBody(), { sleep: noSleep })).toEqual({ kind: 'sent', taskId: 'T1', attempts: 2 });
  });

  it.each([91000, 90024, 60007, 60011, 60018, 60019])('retries %i (Tencent did not carry it out) and then sends', async (code) => {
    const c = scripted(refused(code), sent);
    expect(await pushWithRetry(c, textBody(), { sleep: noSleep })).toMatchObject({ kind: 'sent', attempts: 2 });
  });

  it.each([60008, 60013, 60014, 70169, 70202, 70500])('%i is unknown at once: 1 attempt, no retry', async (code) => {
    const c = scripted(refused(code), sent);
    const out = await pushWithRetry(c, textBody(), { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'unknown', attempts: 1 });
    expect(out.kind === 'unknown' && out.reason).toContain(String(code));
    expect(c.bodies).toHaveLength(1);
  });

  it('a client-reported unknown is unknown at once: 1 attempt, no retry', async () => {
    const c = scripted(unknown, sent);
    expect(await pushWithRetry(c, textBody(), { sleep: noSleep })).toMatchObject({ kind: 'unknown', attempts: 1, reason: unknown.reason });
    expect(c.bodies).toHaveLength(1);
  });

  it.each([90001, 90020, 90045, 90047, 70001, 70009, 70050, 12345])('does not retry %i: failed', async (code) => {
    const c = scripted(refused(code), sent);
    const out = await pushWithRetry(c, textBody(), { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'failed', code, attempts: 1 });
    expect(c.bodies).toHaveLength(1);
  });

  it('backs off exponentially with full jitter after not_sent and 91000, capped at maxDelayMs', async () => {
    const waits: number[] = [];
    const c = scripted(notSent, refused(91000), notSent, notSent, notSent, sent);
    const out = await pushWithRetry(c, textBody(), {
      maxAttempts: 6,
      baseDelayMs: 500,
      maxDelayMs: 3000,
      random: () => 0.999,
      sleep: async (ms) => void waits.push(ms),
    });
    expect(out).toMatchObject({ kind: 'sent', attempts: 6 });
    expect(waits).toEqual([499, 999, 1998, 2997, 2997]);
  });

  it('full jitter can wait zero', async () => {
    const waits: number[] = [];
    await pushWithRetry(scripted(notSent, sent), textBody(), { random: () => 0, sleep: async (ms) => void waits.push(ms) });
    expect(waits).toEqual([0]);
  });

  it('a REST rate limit never retries at once: at least half the backoff', async () => {
    const waits: number[] = [];
    await pushWithRetry(scripted(refused(60007), refused(60011), sent), textBody(), {
      baseDelayMs: 500,
      random: () => 0,
      sleep: async (ms) => void waits.push(ms),
    });
    expect(waits).toEqual([250, 500]);
  });

  it('a refusal after a not_sent is a plain failure (nothing can have gone out)', async () => {
    const out = await pushWithRetry(scripted(notSent, refused(90045)), textBody(), { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'failed', code: 90045, attempts: 2 });
  });

  it('not_sent then 60008 → unknown (the second attempt may have reached Tencent)', async () => {
    const out = await pushWithRetry(scripted(notSent, refused(60008)), textBody(), { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'unknown', attempts: 2 });
  });

  it('91000 until exhausted → failed 91000 (every attempt was refused)', async () => {
    const out = await pushWithRetry(scripted(refused(91000), refused(91000)), textBody(), { sleep: noSleep, maxAttempts: 2 });
    expect(out).toMatchObject({ kind: 'failed', code: 91000, attempts: 2 });
  });

  it('a client that throws counts as unknown, and is not called again', async () => {
    const c = scripted(new Error('boom'), sent);
    const out = await pushWithRetry(c, textBody(), { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'unknown', attempts: 1 });
    expect(out.kind === 'unknown' && out.reason).toContain('failed unexpectedly (Error)');
    expect(c.bodies).toHaveLength(1);
  });

  it('reports each attempt and awaits beforeAttempt', async () => {
    const seen: [number, string][] = [];
    const before: number[] = [];
    await pushWithRetry(scripted(refused(91000), sent), textBody(), {
      sleep: noSleep,
      beforeAttempt: async (n) => void before.push(n),
      onAttempt: (n, r) => seen.push([n, r.kind]),
    });
    expect(before).toEqual([1, 2]);
    expect(seen).toEqual([
      [1, 'refused'],
      [2, 'sent'],
    ]);
  });

  it('a throwing beforeAttempt stops: rethrown before anything was sent, outcome so far after', async () => {
    const boom = async () => {
      throw new Error('lease lost');
    };
    await expect(pushWithRetry(scripted(sent), textBody(), { beforeAttempt: boom })).rejects.toThrow('lease lost');
    const c = scripted(refused(91000), sent);
    const out = await pushWithRetry(c, textBody(), { sleep: noSleep, beforeAttempt: async (n) => (n === 2 ? boom() : undefined) });
    expect(out).toMatchObject({ kind: 'failed', code: 91000, attempts: 1 });
    expect(c.bodies).toHaveLength(1);
  });

  it('uses the caller’s explain context for the final refusal', async () => {
    const out = await pushWithRetry(scripted(refused(90047)), textBody(), { explainContext: { dailyQuota: 250, quotaTimezone: 'UTC' } });
    expect(out.kind === 'failed' && out.explanation.what).toContain('250');
    expect(out.kind === 'failed' && out.explanation.action).toContain('midnight UTC');
  });

  it('merges the client’s own facts under the caller’s context', async () => {
    const c = { ...scripted(refused(90047)), explainContext: { sdkAppId: 1400000042, dailyQuota: 5 } };
    const out = await pushWithRetry(c, textBody(), { explainContext: { dailyQuota: 250, sdkAppId: undefined } });
    expect(out.kind === 'failed' && out.explanation.what).toContain('SDKAppID 1400000042 has used all 250 pushes');
  });
});

describe('judgeAttempt', () => {
  it.each([
    [sent, 'sent'],
    [notSent, 'not_pushed'],
    [unknown, 'unknown'],
    [refused(91000), 'not_pushed'],
    [refused(90047), 'not_pushed'],
    [refused(60008), 'unknown'],
  ] as [PushAttempt, string][])('%o → %s', (attempt, kind) => {
    expect(judgeAttempt(attempt).kind).toBe(kind);
  });
});
