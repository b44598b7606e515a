import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PushEmulator, type EmulatorLogEntry, type EmulatorOptions } from '../../src/tim/emulator.js';
import { genUserSig } from '../../src/tim/usersig.js';
import { ADMIN, SDKAPPID, SECRET_KEY, textBody } from './helpers.js';

const PUSH = '/v4/all_member_push/im_push';
const ATTRS = '/v4/all_member_push/im_get_attr_name';
const APP_INFO = '/v4/openconfigsvr/getappinfo';
const T0 = Date.UTC(2026, 0, 10, 4, 0, 0); // 12:00 in Shanghai

let emu: PushEmulator;
let nowMs: number;
let log: EmulatorLogEntry[];

async function start(o: Partial<EmulatorOptions> = {}): Promise<void> {
  await emu?.close();
  emu = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: SECRET_KEY, admin: ADMIN, now: () => nowMs, onRequest: (e) => log.push(e), ...o });
}

interface CallOptions {
  path?: string;
  method?: string;
  body?: unknown;
  rawBody?: string;
  query?: Record<string, string | undefined>;
  sig?: { secretKey?: string; identifier?: string; sdkAppId?: number; expireSeconds?: number; nowSeconds?: number };
}

/** One raw HTTP call, signed like a real client unless told otherwise. */
async function call(o: CallOptions = {}): Promise<Response> {
  const identifier = o.query?.identifier ?? ADMIN;
  const usersig = genUserSig({
    sdkAppId: o.sig?.sdkAppId ?? SDKAPPID,
    secretKey: o.sig?.secretKey ?? SECRET_KEY,
    identifier: o.sig?.identifier ?? identifier,
    expireSeconds: o.sig?.expireSeconds ?? 3600,
    nowSeconds: o.sig?.nowSeconds ?? Math.floor(nowMs / 1000),
  });
  const params: Record<string, string | undefined> = { usersig, identifier, sdkappid: String(SDKAPPID), random: '99999999', contenttype: 'json', ...o.query };
  const query = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  return fetch(`${emu.url}${o.path ?? PUSH}?${query.toString()}`, {
    method: o.method ?? 'POST',
    ...(o.method === 'GET' ? {} : { body: o.rawBody ?? JSON.stringify(o.body ?? textBody()) }),
  });
}

async function json(o: CallOptions = {}): Promise<{ ActionStatus: string; ErrorCode: number; ErrorInfo: string; TaskId?: string; [k: string]: unknown }> {
  const res = await call(o);
  expect(res.status).toBe(200);
  return (await res.json()) as never;
}

beforeEach(async () => {
  nowMs = T0;
  log = [];
  await start();
});

afterEach(async () => {
  await emu.close();
});

describe('accepting a push', () => {
  it('answers OK with a TaskId in the documented shape and records the push', async () => {
    const body = textBody();
    const r = await json({ body });
    expect(r).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' });
    expect(r.TaskId).toMatch(new RegExp(`^${SDKAPPID}_\\d{18}_\\d{1,10}_\\d+$`));
    expect(emu.pushes).toEqual([{ taskId: r.TaskId, body, at: T0, query: { identifier: ADMIN, sdkappid: String(SDKAPPID), random: '99999999', contenttype: 'json' } }]);
    expect(log).toEqual([{ path: PUSH, code: 0, taskId: r.TaskId }]);
  });

  it('never stores the usersig', async () => {
    await json();
    await json({ sig: { secretKey: 'wrong' } });
    expect(JSON.stringify([emu.pushes, emu.requests, log])).not.toMatch(/usersig|eJ[\w*-]{20}/);
  });

  it('answers im_get_attr_name with the configured names', async () => {
    await start({ attrNames: ['sex', 'city'] });
    expect(await json({ path: ATTRS, body: {} })).toEqual({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', AttrNames: { '0': 'sex', '1': 'city' } });
  });
});

describe('getappinfo (operations data)', () => {
  type Day = Record<string, string>;
  const days = async (o: CallOptions = {}) => (await json({ path: APP_INFO, body: {}, ...o })) as unknown as { ErrorCode: number; ErrorInfo: string; Result: Day[]; ActionStatus?: string };

  it('answers the documented shape: no ActionStatus, ErrorInfo "OK", newest day first, figures as strings', async () => {
    await start({ registeredUsers: 5000 });
    const r = await days();
    expect(r).toMatchObject({ ErrorCode: 0, ErrorInfo: 'OK' });
    expect(r.ActionStatus).toBeUndefined();
    expect(r.Result.map((d) => d.Date)).toEqual(['20260109', '20260108', '20260107']); // T0 is 2026-01-10 in Beijing
    expect(r.Result[0]).toMatchObject({ RegistUserNumTotal: '5000', AppId: String(SDKAPPID) });
    for (const d of r.Result) for (const v of Object.values(d)) expect(typeof v).toBe('string');
    for (const f of ['ActiveUserNum', 'LoginUserNum', 'MaxOnlineNum', 'RegistUserNumOneDay']) expect(r.Result[0]).toHaveProperty(f);
    // History grows towards the latest day.
    const totals = r.Result.map((d) => Number(d.RegistUserNumTotal));
    expect(totals[0]).toBeGreaterThan(totals[2]!);
  });

  it('counts days in Beijing time', async () => {
    nowMs = Date.UTC(2026, 0, 10, 16, 30); // 00:30 on 11 January in Beijing
    expect((await days()).Result[0]?.Date).toBe('20260110');
  });

  it('RequestField selects the fields (Date always comes along)', async () => {
    const r = await days({ body: { RequestField: ['RegistUserNumTotal'] } });
    expect(r.Result).toHaveLength(3);
    for (const d of r.Result) expect(Object.keys(d).sort()).toEqual(['Date', 'RegistUserNumTotal']);
  });

  it('the default is 12345 registered users, and setRegisteredUsers changes it', async () => {
    expect((await days()).Result[0]?.RegistUserNumTotal).toBe('12345');
    emu.setRegisteredUsers(77);
    expect((await days()).Result[0]?.RegistUserNumTotal).toBe('77');
  });

  it.each([
    ['body not JSON', { rawBody: '{' }, 130001],
    ['RequestField not a list', { body: { RequestField: 'Date' } }, 130001],
    ['sig made with another key', { sig: { secretKey: 'another-key' } }, 70009],
    ['non-admin identifier', { query: { identifier: 'bob' } }, 90009],
    ['URL SDKAppID of another app', { query: { sdkappid: '1400000001' } }, 70016],
  ] as [string, CallOptions, number][])('%s → %i (same checks as im_push)', async (_name, o, code) => {
    expect(await json({ path: APP_INFO, ...o })).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: code });
  });
});

describe('rejecting a request', () => {
  it.each([
    ['GET', { method: 'GET' }],
    ['an unknown path', { path: '/v4/openim/sendmsg' }],
  ])('%s → HTTP 404', async (_name, o) => {
    expect((await call(o as CallOptions)).status).toBe(404);
  });

  it.each([
    ['missing sdkappid', { query: { sdkappid: undefined } }, 60012],
    ['missing contenttype', { query: { contenttype: undefined } }, 60002],
    ['random not a number', { query: { random: 'abc' } }, 60002],
    ['random above uint32', { query: { random: '4294967296' } }, 60002],
    ['missing usersig', { query: { usersig: undefined } }, 70002],
    ['sig made with another key', { sig: { secretKey: 'another-key' } }, 70009],
    ['sig made for another identifier', { sig: { identifier: 'bob' } }, 70013],
    ['sig made for another SDKAppID', { sig: { sdkAppId: 1400000001 } }, 70014],
    ['expired sig', { sig: { nowSeconds: Math.floor(T0 / 1000) - 7200 } }, 70001],
    ['garbage sig', { query: { usersig: 'garbage' } }, 70003],
    ['URL SDKAppID of another app', { query: { sdkappid: '1400000001' } }, 70016],
    ['non-admin identifier (validly signed)', { query: { identifier: 'bob' } }, 90009],
    ['body not JSON', { rawBody: '{"MsgRandom":' }, 90001],
    ['11 tags', { body: { ...textBody(), Condition: { TagsOr: Array.from({ length: 11 }, (_, i) => `t${i}`) } } }, 90032],
    ['MsgLifeTime 604801', { body: { ...textBody(), MsgLifeTime: 604801 } }, 90026],
  ] as [string, CallOptions, number][])('%s → %i', async (_name, o, code) => {
    const r = await json(o);
    expect(r).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: code });
    expect(r.ErrorInfo).not.toBe('');
    expect(emu.pushes).toHaveLength(0);
  });

  it('checks the signature before the admin', async () => {
    expect((await json({ query: { identifier: 'bob' }, sig: { secretKey: 'wrong' } })).ErrorCode).toBe(70009);
  });

  it('answers the first rule violation with its plain message', async () => {
    const r = await json({ body: { ...textBody(), Condition: { TagsAnd: ['汉'.repeat(17)] } } });
    expect(r.ErrorCode).toBe(90020);
    expect(r.ErrorInfo).toContain('51 bytes');
  });
});

describe('limits', () => {
  it('daily quota → 90047 (setQuotaUsed)', async () => {
    emu.setQuotaUsed(100);
    expect((await json()).ErrorCode).toBe(90047);
    expect(emu.pushes).toHaveLength(0);
  });

  it('the quota resets at midnight in the quota time zone', async () => {
    await start({ dailyQuota: 1, minIntervalMs: 0 });
    nowMs = Date.UTC(2026, 0, 10, 15, 59, 0); // 23:59 in Shanghai
    expect((await json()).ErrorCode).toBe(0);
    nowMs = Date.UTC(2026, 0, 10, 15, 59, 30);
    expect((await json()).ErrorCode).toBe(90047);
    nowMs = Date.UTC(2026, 0, 10, 16, 0, 30); // 00:00:30 the next day in Shanghai
    expect((await json()).ErrorCode).toBe(0);
  });

  it('pushes must be more than minIntervalMs apart → 90024', async () => {
    expect((await json()).ErrorCode).toBe(0);
    nowMs = T0 + 1000;
    expect((await json()).ErrorCode).toBe(90024);
    nowMs = T0 + 1001;
    expect((await json()).ErrorCode).toBe(0);
    expect(emu.pushes).toHaveLength(2);
  });

  it('a repeated MsgRandom returns the same TaskId without a second push, before spacing and quota', async () => {
    const body = textBody();
    const first = await json({ body });
    emu.setQuotaUsed(100);
    const again = await json({ body }); // same instant: spacing and quota would both refuse
    expect(again).toMatchObject({ ActionStatus: 'OK', TaskId: first.TaskId });
    expect(emu.pushes).toHaveLength(1);
  });

  it('de-duplicates within 1 second by default: the same body 1.2 s later is a second task', async () => {
    const body = textBody();
    const first = await json({ body });
    nowMs = T0 + 999;
    expect(await json({ body })).toMatchObject({ ErrorCode: 0, TaskId: first.TaskId });
    nowMs = T0 + 1200;
    const later = await json({ body });
    expect(later.ErrorCode).toBe(0);
    expect(later.TaskId).not.toBe(first.TaskId);
    expect(emu.acceptedFor(body.MsgRandom).map((p) => p.taskId)).toEqual([first.TaskId, later.TaskId]);
  });

  it('dedupWindowMs sets the window (here the old 7-day reading)', async () => {
    await start({ dedupWindowMs: 7 * 24 * 3600 * 1000, dailyQuota: 1000 });
    const body = textBody();
    const first = await json({ body });
    nowMs = T0 + 7 * 24 * 3600 * 1000 - 1;
    expect((await json({ body })).TaskId).toBe(first.TaskId);
    nowMs = T0 + 7 * 24 * 3600 * 1000;
    expect((await json({ body })).TaskId).not.toBe(first.TaskId);
    expect(emu.acceptedFor(body.MsgRandom)).toHaveLength(2);
  });

  it('dedupWindowMs 0 de-duplicates nothing', async () => {
    await start({ dedupWindowMs: 0, minIntervalMs: 0 });
    const body = textBody();
    const first = await json({ body });
    nowMs += 1;
    expect((await json({ body })).TaskId).not.toBe(first.TaskId);
    expect(emu.acceptedFor(body.MsgRandom)).toHaveLength(2);
  });

  it('acceptedFor counts only the tasks of that MsgRandom', async () => {
    await start({ minIntervalMs: 0 });
    await json({ body: textBody('a', 7) });
    nowMs += 1;
    await json({ body: textBody('b', 8) });
    expect(emu.pushes).toHaveLength(2);
    expect(emu.acceptedFor(7).map((p) => p.body.MsgRandom)).toEqual([7]);
    expect(emu.acceptedFor(9)).toEqual([]);
  });
});

describe('fault injection', () => {
  it('error: answers the code for exactly n requests, then behaves normally', async () => {
    emu.failNext(2, { kind: 'error', code: 91000, info: 'internal' });
    expect(await json()).toEqual({ ActionStatus: 'FAIL', ErrorCode: 91000, ErrorInfo: 'internal' });
    expect((await json()).ErrorCode).toBe(91000);
    expect((await json()).ErrorCode).toBe(0);
    expect(emu.pushes).toHaveLength(1);
  });

  it('faults apply before any other check', async () => {
    emu.failNext(1, { kind: 'error', code: 90045 });
    expect((await json({ sig: { secretKey: 'wrong' } })).ErrorCode).toBe(90045);
  });

  it('http: answers the status with a non-JSON page and records nothing', async () => {
    emu.failNext(1, { kind: 'http', status: 503 });
    const res = await call();
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow();
    expect(emu.pushes).toHaveLength(0);
  });

  it('malformed: answers 200 with text that is not JSON', async () => {
    emu.failNext(1, { kind: 'malformed' });
    const res = await call();
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow();
    expect(emu.pushes).toHaveLength(0);
  });

  it('delay with accept: the push is recorded and the late answer carries its TaskId', async () => {
    emu.failNext(1, { kind: 'delay', ms: 50, accept: true });
    const r = await json();
    expect(r.ErrorCode).toBe(0);
    expect(emu.pushes.map((p) => p.taskId)).toEqual([r.TaskId]);
  });

  it('delay with accept still applies the normal checks', async () => {
    emu.failNext(1, { kind: 'delay', ms: 10, accept: true });
    expect((await json({ sig: { secretKey: 'wrong' } })).ErrorCode).toBe(70009);
    expect(emu.pushes).toHaveLength(0);
  });

  it('delay without accept: nothing is recorded and the late answer is a timeout', async () => {
    emu.failNext(1, { kind: 'delay', ms: 10, accept: false });
    expect((await json()).ErrorCode).toBe(60008);
    expect(emu.pushes).toHaveLength(0);
  });

  it.each([
    [true, 1],
    [false, 0],
  ])('drop (accept %s): the connection is destroyed without an answer; %i push recorded', async (accept, n) => {
    emu.failNext(1, { kind: 'drop', accept });
    await expect(call()).rejects.toThrow();
    expect(emu.pushes).toHaveLength(n);
    expect(emu.requests[0]?.response).toBeNull();
  });

  it('faults aim at im_push by default: other paths do not consume them', async () => {
    await start({ attrNames: ['sex'] });
    emu.failNext(1, { kind: 'error', code: 91000 });
    expect((await json({ path: ATTRS, body: {} })).ErrorCode).toBe(0);
    expect((await json({ path: APP_INFO, body: {} })).ErrorCode).toBe(0);
    expect((await json()).ErrorCode).toBe(91000);
    expect((await json()).ErrorCode).toBe(0);
  });

  it('a fault can aim at another path, or at any path', async () => {
    emu.failNext(1, { kind: 'http', status: 502 }, APP_INFO);
    expect((await json()).ErrorCode).toBe(0);
    expect((await call({ path: APP_INFO, body: {} })).status).toBe(502);
    emu.failNext(1, { kind: 'error', code: 60008 }, '*');
    expect((await json({ path: ATTRS, body: {} })).ErrorCode).toBe(60008);
    expect(() => emu.failNext(1, { kind: 'malformed' }, '/v4/openim/sendmsg')).toThrow(RangeError);
  });

  it('error with accept: the push goes out, then the error is answered', async () => {
    const body = textBody();
    emu.failNext(1, { kind: 'error', code: 60008, accept: true });
    expect((await json({ body })).ErrorCode).toBe(60008);
    expect(emu.acceptedFor(body.MsgRandom)).toHaveLength(1);
  });

  it('http with accept: the push goes out, then the gateway answers 502', async () => {
    const body = textBody();
    emu.failNext(1, { kind: 'http', status: 502, accept: true });
    expect((await call({ body })).status).toBe(502);
    expect(emu.acceptedFor(body.MsgRandom)).toHaveLength(1);
  });

  it('error and http without accept push nothing (91000, 503)', async () => {
    emu.failNext(1, { kind: 'error', code: 91000 });
    emu.failNext(1, { kind: 'http', status: 503 });
    expect((await json()).ErrorCode).toBe(91000);
    expect((await call()).status).toBe(503);
    expect(emu.pushes).toHaveLength(0);
  });

  it('reset clears pushes, requests, faults and limits', async () => {
    await json();
    emu.failNext(5, { kind: 'error', code: 91000 });
    emu.setQuotaUsed(100);
    emu.reset();
    expect(emu.pushes).toHaveLength(0);
    expect(emu.requests).toHaveLength(0);
    expect((await json()).ErrorCode).toBe(0);
  });
});
