import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TimClient, type PushAttempt } from '../../src/tim/client.js';
import { PushEmulator } from '../../src/tim/emulator.js';
import { explainError } from '../../src/tim/errors.js';
import type { ImPushBody } from '../../src/tim/push-body.js';
import { pushWithRetry } from '../../src/tim/push-with-retry.js';
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

  it('91000 twice then OK → sent after 3 attempts, pushed once', async () => {
    emu.failNext(2, { kind: 'error', code: 91000 });
    const out = await pushWithRetry(client, textBody(), { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'sent', attempts: 3 });
    expect(emu.requests).toHaveLength(3);
    expect(emu.pushes).toHaveLength(1);
    expect(out.kind === 'sent' && out.taskId).toBe(emu.pushes[0]?.taskId);
  });

  it('a timeout after acceptance, then a retry → the same TaskId and exactly one push', async () => {
    emu.failNext(1, { kind: 'delay', ms: 3000, accept: true });
    const body = textBody();
    const out = await pushWithRetry(client, body, { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'sent', attempts: 2, taskId: emu.pushes[0]?.taskId });
    expect(emu.pushes).toHaveLength(1);
    expect(emu.requests.map((r) => (r.body as ImPushBody).MsgRandom)).toEqual([body.MsgRandom, body.MsgRandom]);
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
    const out = await pushWithRetry(client, textBody(), { sleep, rateLimitWaitMs: 1100, random: () => 0.5 });
    expect(out).toMatchObject({ kind: 'sent', attempts: 2 });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(1100);
    expect(waits[0]).toBeLessThanOrEqual(1210);
    expect(emu.pushes).toHaveLength(2);
  });

  it('persistent unknown stays unknown, never failed', async () => {
    emu.failNext(4, { kind: 'http', status: 502 });
    const out = await pushWithRetry(client, textBody(), { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'unknown', attempts: 4, explanation: { code: null } });
    expect(out.kind === 'unknown' && out.explanation.what).toContain('MAY have gone out');
  });

  it('unknown, then a refusal → unknown, carrying the last error', async () => {
    emu.failNext(1, { kind: 'drop', accept: true });
    emu.failNext(1, { kind: 'error', code: 90045 });
    const out = await pushWithRetry(client, textBody(), { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'unknown', attempts: 2 });
    expect(out.kind === 'unknown' && out.reason).toContain('90045');
    expect(emu.pushes).toHaveLength(1);
  });

  it('not_sent until exhausted → failed with code null', async () => {
    const down = new TimClient({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, admin: ADMIN, baseUrl: `http://127.0.0.1:${await closedPort()}` });
    try {
      const out = await pushWithRetry(down, textBody(), { sleep: noSleep });
      expect(out).toMatchObject({ kind: 'failed', code: null, attempts: 4, explanation: { code: null, retry: 'yes' } });
      expect(out.kind === 'failed' && out.info).toContain('ECONNREFUSED');
    } finally {
      await down.close();
    }
  });

  it('maxAttempts bounds the number of requests', async () => {
    emu.failNext(10, { kind: 'error', code: 91000 });
    const out = await pushWithRetry(client, textBody(), { sleep: noSleep, maxAttempts: 3 });
    expect(out).toMatchObject({ kind: 'failed', code: 91000, attempts: 3 });
    expect(emu.requests).toHaveLength(3);
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
    const c = scripted(refused(91000), notSent, unknown, sent);
    const body = textBody();
    await pushWithRetry(c, body, { sleep: noSleep });
    expect(c.bodies).toHaveLength(4);
    for (const b of c.bodies) expect(b).toBe(body);
  });

  it('backs off exponentially with full jitter, capped at maxDelayMs', async () => {
    const waits: number[] = [];
    const c = scripted(notSent, notSent, notSent, notSent, notSent, sent);
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

  it.each([90001, 90020, 90045, 90047, 70001, 70009, 70050])('does not retry %i', async (code) => {
    const c = scripted(refused(code), sent);
    const out = await pushWithRetry(c, textBody(), { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'failed', code, attempts: 1 });
  });

  it('a refusal after a not_sent is a plain failure (nothing can have gone out)', async () => {
    const out = await pushWithRetry(scripted(notSent, refused(90045)), textBody(), { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'failed', code: 90045, attempts: 2 });
  });

  it('unknown then not_sent until exhausted → unknown', async () => {
    const out = await pushWithRetry(scripted(unknown, notSent, notSent, notSent), textBody(), { sleep: noSleep });
    expect(out).toMatchObject({ kind: 'unknown', attempts: 4 });
    expect(out.kind === 'unknown' && out.reason).toMatch(/ECONNREFUSED.*earlier attempt may have reached Tencent/);
  });

  it('a final 60008 (Tencent service timeout) is unknown, not failed', async () => {
    const out = await pushWithRetry(scripted(refused(60008), refused(60008)), textBody(), { sleep: noSleep, maxAttempts: 2 });
    expect(out).toMatchObject({ kind: 'unknown', attempts: 2 });
  });

  it('a client that throws counts as unknown', async () => {
    const out = await pushWithRetry(scripted(new Error('boom'), new Error('boom')), textBody(), { sleep: noSleep, maxAttempts: 2 });
    expect(out).toMatchObject({ kind: 'unknown', attempts: 2 });
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
    const c = scripted(unknown, sent);
    const out = await pushWithRetry(c, textBody(), { sleep: noSleep, beforeAttempt: async (n) => (n === 2 ? boom() : undefined) });
    expect(out).toMatchObject({ kind: 'unknown', attempts: 1 });
    expect(c.bodies).toHaveLength(1);
  });

  it('uses the caller’s explain context for the final refusal', async () => {
    const out = await pushWithRetry(scripted(refused(90047)), textBody(), { explainContext: { dailyQuota: 250, quotaTimezone: 'UTC' } });
    expect(out.kind === 'failed' && out.explanation.what).toContain('250');
    expect(out.kind === 'failed' && out.explanation.action).toContain('midnight UTC');
  });
});
