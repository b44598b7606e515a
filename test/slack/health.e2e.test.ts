/**
 * `GET /healthz` of the REAL app, the liveness probe of a container: 200 while the store answers (and, in
 * Socket Mode, while the link to Slack is up or has been down for less than the threshold), 503 otherwise.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { startSocketHarness, type SocketHarness } from '../helpers/socket-harness.js';

async function get(url: string): Promise<{ status: number; json: unknown; type: string | null }> {
  const res = await fetch(url);
  return { status: res.status, json: await res.json(), type: res.headers.get('content-type') };
}

/** Ask /healthz until it answers `status`; returns that answer. */
async function untilStatus(url: string, status: number, timeoutMs = 10_000): Promise<{ status: number; json: unknown }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await get(url);
    if (r.status === status) return r;
    if (Date.now() > deadline) throw new Error(`/healthz still answered ${r.status} ${JSON.stringify(r.json)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('Socket Mode', () => {
  let h: SocketHarness;
  // The health clock: the default 30 s threshold, passed by moving this clock rather than by waiting.
  let skewMs = 0;
  beforeAll(async () => {
    h = await startSocketHarness({ build: { receiver: { health: { now: () => Date.now() + skewMs } } } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers 200 with the store and the link up, on the port start() reported', async () => {
    expect(h.healthUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/healthz$/);
    const r = await get(h.healthUrl);
    expect(r).toEqual({ status: 200, json: { ok: true, store: 'ok', socketMode: 'up' }, type: 'application/json; charset=utf-8' });
  });

  it('a link down for less than 30 s is still healthy; past 30 s it is 503; once Slack is back it is 200 again', async () => {
    h.fake.failNext('apps.connections.open', 10_000, { status: 500 });
    h.socket.dropAll();
    await h.fake.waitFor(() => h.logs.some((l) => l['msg'] === 'Socket Mode link down; opening it again'), { what: 'the app to see the link down' });

    expect(await get(h.healthUrl)).toMatchObject({ status: 200, json: { ok: true, store: 'ok', socketMode: 'down' } });
    skewMs += 29_000;
    expect(await get(h.healthUrl)).toMatchObject({ status: 200, json: { ok: true, socketMode: 'down' } });
    skewMs += 1_001;
    expect(await get(h.healthUrl)).toEqual(expect.objectContaining({ status: 503, json: { ok: false, store: 'ok', socketMode: 'down' } }));

    h.fake.clearFaults();
    await h.fake.waitFor(() => h.logs.filter((l) => l['msg'] === 'Socket Mode link up').length === 2, { what: 'the link to come back' });
    expect(await get(h.healthUrl)).toMatchObject({ status: 200, json: { ok: true, store: 'ok', socketMode: 'up' } });
  });

  it('serves nothing else on that port', async () => {
    expect((await fetch(h.healthUrl.replace('/healthz', '/'))).status).toBe(404);
    expect((await fetch(h.healthUrl, { method: 'POST' })).status).toBe(404);
  });
});

describe('Socket Mode with a shorter threshold', () => {
  it('the threshold is a setting: 503 once the link has been down longer than linkDownMs', async () => {
    const h = await startSocketHarness({ build: { receiver: { health: { linkDownMs: 200 } } } });
    try {
      h.fake.failNext('apps.connections.open', 10_000, { status: 500 });
      h.socket.dropAll();
      const r = await untilStatus(h.healthUrl, 503);
      expect(r.json).toEqual({ ok: false, store: 'ok', socketMode: 'down' });
    } finally {
      await h.stop();
    }
  });
});

describe('HTTP mode with Redis', () => {
  let redis: RedisHandle;
  let h: Harness;
  let healthUrl: string;
  beforeAll(async () => {
    redis = await startRedis();
    h = await startHarness({ storeUrl: redis.url, build: { receiver: { health: { storeTimeoutMs: 500 } } } });
    healthUrl = h.url.replace('/slack/events', '/healthz');
  });
  afterAll(async () => {
    await h?.stop();
    await redis?.stop();
  });
  afterEach(async () => {
    await h.settle();
  });

  it('answers 200 on the same port as /slack/events, without a socketMode field', async () => {
    expect(await get(healthUrl)).toEqual({ status: 200, json: { ok: true, store: 'ok' }, type: 'application/json; charset=utf-8' });
  });

  it('answers 503 while Redis does not answer, and 200 again once it is back', async () => {
    await redis.kill();
    expect(await get(healthUrl)).toMatchObject({ status: 503, json: { ok: false, store: 'down' } });
    await redis.restart();
    expect(await untilStatus(healthUrl, 200)).toMatchObject({ json: { ok: true, store: 'ok' } });
  });
});
