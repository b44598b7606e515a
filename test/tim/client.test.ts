import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TimClient, type PushAttempt, type TimClientOptions } from '../../src/tim/client.js';
import { PushEmulator } from '../../src/tim/emulator.js';
import { UserSigCache } from '../../src/tim/usersig.js';
import { ADMIN, SDKAPPID, SECRET_KEY, closedPort, textBody } from './helpers.js';

let emu: PushEmulator;
const clients: TimClient[] = [];
const sigs = new UserSigCache({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, identifier: ADMIN });
/** Every reason any test saw, checked for secrets at the end. */
const reasons: string[] = [];

function client(o: Partial<TimClientOptions> = {}): TimClient {
  const c = new TimClient({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, admin: ADMIN, baseUrl: emu.url, userSigs: sigs, ...o });
  clients.push(c);
  return c;
}

function remember(a: PushAttempt): PushAttempt {
  if (a.kind === 'not_sent' || a.kind === 'unknown') reasons.push(a.reason);
  if (a.kind === 'refused') reasons.push(a.info, a.explanation.what, a.explanation.action);
  return a;
}

beforeEach(async () => {
  emu = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, admin: ADMIN, minIntervalMs: 0, attrNames: ['sex', 'city'] });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await emu.close();
});

describe('TimClient.push', () => {
  it('returns the TaskId, and Tencent received exactly the body', async () => {
    const body = textBody('hello everyone');
    const r = remember(await client().push(body));
    expect(r.kind).toBe('sent');
    expect(emu.pushes).toHaveLength(1);
    expect(r.kind === 'sent' && r.taskId).toBe(emu.pushes[0]?.taskId);
    expect(emu.pushes[0]?.body).toEqual(body);
    expect(emu.requests[0]?.body).toEqual(body);
  });

  it('puts the documented query parameters on the URL with a fresh random per request', async () => {
    const c = client();
    await c.push(textBody());
    await c.push(textBody());
    const queries = emu.requests.map((r) => r.query);
    for (const q of queries) {
      expect(q).toMatchObject({ identifier: ADMIN, sdkappid: String(SDKAPPID), contenttype: 'json' });
      expect(Number(q.random)).toBeGreaterThanOrEqual(0);
      expect(Number(q.random)).toBeLessThanOrEqual(4294967295);
      expect(q.random).toMatch(/^\d+$/);
    }
    expect(queries[0]?.random).not.toBe(queries[1]?.random);
    expect(emu.pushes).toHaveLength(2);
  });

  it('works with a trailing slash on the base URL', async () => {
    expect((await client({ baseUrl: `${emu.url}/` }).push(textBody())).kind).toBe('sent');
  });

  it.each([
    ['90020 (tag too long)', () => ({ ...textBody(), Condition: { TagsAnd: ['a'.repeat(51)] } }), () => {}, 90020],
    ['90047 (daily quota)', () => textBody(), () => emu.setQuotaUsed(100), 90047],
    ['90045 (feature off)', () => textBody(), () => emu.failNext(1, { kind: 'error', code: 90045, info: 'all member push not enabled' }), 90045],
  ])('refusal %s', async (_name, makeBody, arrange, code) => {
    arrange();
    const r = remember(await client().push(makeBody()));
    expect(r).toMatchObject({ kind: 'refused', code, explanation: { code } });
    expect(emu.pushes).toHaveLength(0);
  });

  it('refusal 70009 for a client with the wrong key', async () => {
    const r = remember(await client({ secretKey: 'not-the-key', userSigs: undefined }).push(textBody()));
    expect(r).toMatchObject({ kind: 'refused', code: 70009 });
    expect(r.kind === 'refused' && r.explanation.action).toContain('TIM_SECRET_KEY');
    expect(r.kind === 'refused' && r.explanation.what).toContain(`SDKAppID ${SDKAPPID}`);
    expect(emu.pushes).toHaveLength(0);
  });

  it('refusal 70016 names the SDKAppID and the host the client called, not the settings', async () => {
    const r = remember(await client({ sdkAppId: 1400000001, userSigs: undefined }).push(textBody()));
    expect(r).toMatchObject({ kind: 'refused', code: 70016 });
    const e = r.kind === 'refused' ? r.explanation : undefined;
    expect(e?.what).toContain(`SDKAppID 1400000001 at ${new URL(emu.url).host}`);
    expect(`${e?.what} ${e?.action}`).not.toMatch(/TIM_[A-Z]/);
  });

  it('fills its explain context with its own SDKAppID, admin and host; the caller adds to it', () => {
    expect(client().explainContext).toEqual({ sdkAppId: SDKAPPID, admin: ADMIN, domain: new URL(emu.url).host });
    expect(client({ explainContext: { dailyQuota: 7 } }).explainContext).toMatchObject({ sdkAppId: SDKAPPID, dailyQuota: 7 });
  });

  it('a timeout after sending is unknown — and the push really went out', async () => {
    emu.failNext(1, { kind: 'delay', ms: 3000, accept: true });
    const r = remember(await client({ responseTimeoutMs: 300 }).push(textBody()));
    expect(r.kind).toBe('unknown');
    expect(r.kind === 'unknown' && r.reason).toMatch(/timeout/i);
    expect(emu.pushes).toHaveLength(1);
  });

  it('a refused connection is not_sent', async () => {
    const r = remember(await client({ baseUrl: `http://127.0.0.1:${await closedPort()}` }).push(textBody()));
    expect(r).toMatchObject({ kind: 'not_sent' });
    expect(r.kind === 'not_sent' && r.reason).toContain('ECONNREFUSED');
  });

  it('a TLS handshake failure is not_sent and nothing reaches the server', async () => {
    const r = remember(await client({ baseUrl: emu.url.replace('http:', 'https:') }).push(textBody()));
    expect(r.kind).toBe('not_sent');
    expect(emu.requests).toHaveLength(0);
  });

  it.each([
    ['a malformed reply', { kind: 'malformed' } as const],
    ['HTTP 500', { kind: 'http', status: 500 } as const],
    ['HTTP 502', { kind: 'http', status: 502 } as const],
    ['a dropped connection', { kind: 'drop', accept: false } as const],
  ])('%s is unknown', async (_name, fault) => {
    emu.failNext(1, fault);
    const r = remember(await client().push(textBody()));
    expect(r.kind).toBe('unknown');
  });

  it('a dropped connection after acceptance is unknown, and the push is out', async () => {
    emu.failNext(1, { kind: 'drop', accept: true });
    const r = remember(await client().push(textBody()));
    expect(r.kind).toBe('unknown');
    expect(emu.pushes).toHaveLength(1);
  });
});

describe('TimClient.push against odd replies', () => {
  let server: Server;
  let reply: { status: number; text: string };
  let base: string;

  beforeEach(async () => {
    server = createServer((_req, res) => res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.text));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it.each([
    ['OK without TaskId', 'unknown', 200, { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' }],
    ['OK with a non-zero code', 'unknown', 200, { ActionStatus: 'OK', ErrorCode: 91000, ErrorInfo: '' }],
    ['FAIL with code 0', 'unknown', 200, { ActionStatus: 'FAIL', ErrorCode: 0, ErrorInfo: '' }],
    ['an unknown ActionStatus', 'unknown', 200, { ActionStatus: 'MAYBE', ErrorCode: 0, TaskId: 't' }],
    ['a Tencent-shaped 503', 'unknown', 503, { ActionStatus: 'FAIL', ErrorCode: 91000, ErrorInfo: 'x' }],
    ['FAIL without ErrorInfo', 'refused', 200, { ActionStatus: 'FAIL', ErrorCode: 90001 }],
    ['OK with TaskId', 'sent', 200, { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', TaskId: '1400000000_1_2_3' }],
  ])('%s → %s', async (_name, kind, status, json) => {
    reply = { status, text: JSON.stringify(json) };
    const r = remember(await client({ baseUrl: base }).push(textBody()));
    expect(r.kind).toBe(kind);
  });

  it('scrubs a URL or UserSig echoed in ErrorInfo', async () => {
    const sig = sigs.get();
    reply = { status: 200, text: JSON.stringify({ ActionStatus: 'FAIL', ErrorCode: 70009, ErrorInfo: `bad sig ${sig} at https://x/y?usersig=${sig}` }) };
    const r = remember(await client({ baseUrl: base }).push(textBody()));
    expect(r.kind).toBe('refused');
    expect(JSON.stringify(r)).not.toContain(sig);
    expect(JSON.stringify(r)).not.toContain('usersig=e');
  });
});

describe('TimClient.getAttrNames', () => {
  it('lists the attribute names in slot order', async () => {
    expect(await client().getAttrNames()).toEqual({ ok: true, names: ['sex', 'city'] });
  });

  it('does not consume a fault meant for im_push', async () => {
    emu.failNext(1, { kind: 'error', code: 91000 });
    const c = client();
    expect((await c.getAttrNames()).ok).toBe(true);
    expect(remember(await c.push(textBody()))).toMatchObject({ kind: 'refused', code: 91000 });
  });

  it('explains a refusal in words', async () => {
    const r = await client({ secretKey: 'not-the-key', userSigs: undefined }).getAttrNames();
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain('70009');
    if (!r.ok) reasons.push(r.message);
  });
});

describe('TimClient.getAppInfo', () => {
  it('reads the registered users of the latest day, asking only for the fields it needs', async () => {
    await emu.close();
    emu = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, admin: ADMIN, registeredUsers: 4321 });
    const r = await client().getAppInfo();
    const answered = emu.requests[0]?.response as { Result: { Date: string }[] };
    const latest = answered.Result[0]!.Date;
    expect(r).toEqual({ ok: true, registeredUsers: 4321, date: `${latest.slice(0, 4)}-${latest.slice(4, 6)}-${latest.slice(6)}` });
    expect(emu.requests[0]).toMatchObject({ path: '/v4/openconfigsvr/getappinfo', body: { RequestField: ['Date', 'RegistUserNumTotal'] } });
  });

  it('explains a refusal in words with the real SDKAppID', async () => {
    const r = await client({ secretKey: 'not-the-key', userSigs: undefined }).getAppInfo();
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain('70009');
    expect(!r.ok && r.message).toContain(`SDKAppID ${SDKAPPID}`);
    if (!r.ok) reasons.push(r.message);
  });

  it('an HTTP 502 aimed at getappinfo is a plain failure and leaves im_push alone', async () => {
    emu.failNext(1, { kind: 'http', status: 502 }, '/v4/openconfigsvr/getappinfo');
    const c = client();
    const r = await c.getAppInfo();
    expect(r).toEqual({ ok: false, message: 'Could not read the number of registered users: HTTP 502.' });
    expect((await c.push(textBody())).kind).toBe('sent');
  });
});

describe('TimClient.getAppInfo against odd replies', () => {
  let server: Server;
  let reply: unknown;
  let base: string;

  beforeEach(async () => {
    server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const day = (Date: string, RegistUserNumTotal: unknown) => ({ Date, RegistUserNumTotal, ActiveUserNum: '1' });

  it.each([
    ['strings, newest first, no ActionStatus', { ErrorCode: 0, ErrorInfo: 'OK', Result: [day('20260109', '53091'), day('20260108', '52000')] }, { ok: true, registeredUsers: 53091, date: '2026-01-09' }],
    ['numbers, oldest first, with ActionStatus', { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', Result: [day('20260108', 10), day('20260109', 11)] }, { ok: true, registeredUsers: 11, date: '2026-01-09' }],
    ['a day without the figure is skipped', { ErrorCode: 0, Result: [day('20260110', undefined), day('20260109', '5')] }, { ok: true, registeredUsers: 5, date: '2026-01-09' }],
  ])('%s', async (_name, json, expected) => {
    reply = json;
    expect(await client({ baseUrl: base }).getAppInfo()).toEqual(expected);
  });

  it.each([
    ['no days', { ErrorCode: 0, ErrorInfo: 'OK', Result: [] }, /no operations data/],
    ['no Result', { ErrorCode: 0, ErrorInfo: 'OK' }, /no operations data/],
    ['a figure that is not a count', { ErrorCode: 0, Result: [day('20260109', '12a')] }, /not understood/],
    ['a bad Date', { ErrorCode: 0, Result: [day('2026-01-09', '1')] }, /not understood/],
    ['FAIL with code 0', { ActionStatus: 'FAIL', ErrorCode: 0, ErrorInfo: '' }, /contradictory/],
    ['a database error', { ActionStatus: 'FAIL', ErrorCode: 130011, ErrorInfo: 'sql query error' }, /130011.*database/],
    ['an unknown code', { ErrorCode: 4242, ErrorInfo: 'odd' }, /4242/],
  ])('%s → not ok', async (_name, json, message) => {
    reply = json;
    const r = await client({ baseUrl: base }).getAppInfo();
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(message);
    if (!r.ok) reasons.push(r.message);
  });
});

describe('secrets', () => {
  it('no reason, info or explanation seen in these tests contains the UserSig, the key or the URL', () => {
    expect(reasons.length).toBeGreaterThan(10);
    const sig = sigs.get();
    for (const text of reasons) {
      expect(text).not.toContain(sig);
      expect(text).not.toContain(SECRET_KEY);
      expect(text).not.toMatch(/usersig=|im_push\?|http:\/\//i);
    }
  });
});
