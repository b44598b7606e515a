/**
 * BroadcastService on a real in-memory store, with a fake pusher and a clock whose sleep returns at
 * once (it only moves the clock forward): decisions, exactly-once push, quota, recovery, store failures.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BroadcastService, type Clock, type Pusher } from '../../src/broadcast/service.js';
import { StoreUnavailableError, type AtomicKv } from '../../src/broadcast/store/atomic-kv.js';
import { openKv } from '../../src/broadcast/store/open.js';
import type { BroadcastDraft, BroadcastRequest } from '../../src/broadcast/types.js';
import type { PushAttempt } from '../../src/tim/client.js';
import { explainError } from '../../src/tim/errors.js';
import type { ImPushBody } from '../../src/tim/push-body.js';

const REQUESTER = 'U0REQ';
const APPROVER = 'U0APP';
const DRAFT: BroadcastDraft = { message: 'Maintenance tonight', audience: { kind: 'tags', all: ['vip'], any: [] }, lifetimeSeconds: 3600 };

// ------------------------------------------------------------------ helpers

/** A clock that starts at noon in Shanghai; sleep() resolves at once and moves time forward. */
function testClock(start = '2026-11-27T04:00:00.000Z'): Clock & { slept: number[] } {
  let t = Date.parse(start);
  const slept: number[] = [];
  return {
    slept,
    now: () => new Date(t),
    sleep: async (ms) => {
      slept.push(ms);
      t += Math.max(0, ms);
    },
  };
}

const refused = (code: number): PushAttempt => ({ kind: 'refused', code, info: `error ${code}`, explanation: explainError(code) });

/** A pusher answering `answers` in turn, then 'sent'; records every body it was given. */
function fakePusher(...answers: PushAttempt[]): Pusher & { bodies: ImPushBody[] } {
  const bodies: ImPushBody[] = [];
  return {
    bodies,
    push: async (body) => {
      bodies.push(structuredClone(body));
      await new Promise((r) => setImmediate(r));
      return answers.shift() ?? { kind: 'sent', taskId: `T${bodies.length}` };
    },
  };
}

/** A pusher that must never be called. */
const forbiddenPusher: Pusher = {
  push: async () => {
    throw new Error('the pusher must not be called');
  },
};

/** Wraps a store; while `down` names a method (or is 'all'), that method throws StoreUnavailableError. */
function flakyKv(kv: AtomicKv): AtomicKv & { down: Set<string> } {
  const down = new Set<string>();
  return new Proxy(kv as AtomicKv & { down: Set<string> }, {
    get(target, prop, receiver) {
      if (prop === 'down') return down;
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (down.has('all') || down.has(String(prop))) return Promise.reject(new StoreUnavailableError(`store down (${String(prop)})`));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

const opened: AtomicKv[] = [];
afterEach(async () => {
  for (const kv of opened.splice(0)) await kv.close();
});

async function setup(o: { pusher?: Pusher; dailyQuota?: number; kv?: AtomicKv; clock?: Clock } = {}) {
  const kv = o.kv ?? (await openKv('memory://'));
  if (!o.kv) opened.push(kv);
  const clock = o.clock ?? testClock();
  const pusher = o.pusher ?? fakePusher();
  const service = new BroadcastService({
    kv,
    pusher,
    dailyQuota: o.dailyQuota ?? 100,
    quotaTimeZone: 'Asia/Shanghai',
    clock,
    retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 50 },
  });
  return { kv, clock, pusher, service };
}

async function submitted(service: BroadcastService, draft: BroadcastDraft = DRAFT): Promise<BroadcastRequest> {
  const res = await service.submit({ requesterId: REQUESTER, draft });
  if (!res.ok) throw new Error(`draft refused: ${JSON.stringify(res.errors)}`);
  return res.request;
}

async function approvedAndSent(service: BroadcastService, id: string, userId = APPROVER): Promise<BroadcastRequest> {
  const res = await service.approve({ requestId: id, userId, isApprover: true });
  if (!res.ok) throw new Error(`approval refused: ${res.refusal}`);
  return res.sent;
}

// ------------------------------------------------------------------ tests

describe('submit', () => {
  it('stores a pending request with the exact body, a fixed MsgRandom and what people must be told', async () => {
    const { service } = await setup();
    const r = await submitted(service);
    expect(r.state).toBe('pending');
    expect(r.body).toStrictEqual({
      MsgRandom: r.body.MsgRandom,
      MsgLifeTime: 3600,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'Maintenance tonight' } }],
      Condition: { TagsAnd: ['vip'] },
    });
    expect(Number.isInteger(r.body.MsgRandom) && r.body.MsgRandom > 0).toBe(true);
    expect(r.payloadHash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.outbox).toEqual([expect.objectContaining({ event: 'pending', targets: ['card', 'requester'] })]);
    expect(await service.get(r.id)).toEqual(r);
  });

  it('refuses a draft that breaks a push rule and stores nothing', async () => {
    const { service } = await setup();
    const res = await service.submit({ requesterId: REQUESTER, draft: { ...DRAFT, audience: { kind: 'tags', all: ['a'], any: ['a'] } } });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.errors).toEqual([expect.objectContaining({ field: 'tagsAny', code: 90022 })]);
    expect(await service.requests.list()).toEqual([]);
  });
});

describe('approve', () => {
  it('20 concurrent approvals: exactly one wins and exactly one push is made', async () => {
    const pusher = fakePusher();
    const { service } = await setup({ pusher });
    const r = await submitted(service);

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => service.approve({ requestId: r.id, userId: `U0APP${i}`, isApprover: true })),
    );
    const winners = results.filter((x) => x.ok);
    expect(winners).toHaveLength(1);
    for (const lost of results.filter((x) => !x.ok)) expect(lost).toMatchObject({ ok: false, refusal: 'already_decided' });

    const final = await (winners[0] as Extract<(typeof results)[number], { ok: true }>).sent;
    expect(final.state).toBe('sent');
    expect(pusher.bodies).toHaveLength(1);
    expect(pusher.bodies[0]).toStrictEqual(r.body);
    expect(final.approvals).toHaveLength(1);
    expect((await service.quotaStatus()).used).toBe(1);
  });

  it('refuses the requester, non-approvers and unknown requests without changing anything', async () => {
    const { service } = await setup({ pusher: forbiddenPusher });
    const r = await submitted(service);
    expect(await service.approve({ requestId: r.id, userId: REQUESTER, isApprover: true })).toMatchObject({ ok: false, refusal: 'is_requester' });
    expect(await service.approve({ requestId: r.id, userId: 'U0OUT', isApprover: false })).toMatchObject({ ok: false, refusal: 'not_approver' });
    expect(await service.approve({ requestId: 'br-nope', userId: APPROVER, isApprover: true })).toEqual({ ok: false, refusal: 'unknown_request' });
    expect((await service.get(r.id))!.rev).toBe(r.rev);
    expect((await service.quotaStatus()).used).toBe(0);
  });

  it('retries with the same body (same MsgRandom) and records the attempts', async () => {
    const pusher = fakePusher(refused(91000), { kind: 'unknown', reason: 'connection reset' });
    const { service } = await setup({ pusher });
    const r = await submitted(service);
    const final = await approvedAndSent(service, r.id);
    expect(final.state).toBe('sent');
    expect(final.result).toMatchObject({ kind: 'sent', taskId: 'T3', attempts: 3 });
    expect(pusher.bodies).toEqual([r.body, r.body, r.body]);
  });
});

describe('quota', () => {
  it('an approval refused for the quota leaves the request pending and consumes nothing', async () => {
    const pusher = fakePusher();
    const { service } = await setup({ pusher, dailyQuota: 1 });
    const a = await submitted(service);
    const b = await submitted(service);
    await approvedAndSent(service, a.id);

    const refusedB = await service.approve({ requestId: b.id, userId: APPROVER, isApprover: true });
    expect(refusedB).toMatchObject({ ok: false, refusal: 'quota_exhausted', quota: { used: 1, limit: 1, exhausted: true } });
    const stored = (await service.get(b.id))!;
    expect(stored.state).toBe('pending');
    expect(stored.approvals).toEqual([]);
    expect(stored.decision).toBeUndefined();
    expect(pusher.bodies).toHaveLength(1);
    expect((await service.quotaStatus()).used).toBe(1);
  });

  it('concurrent approvals of different requests never exceed the quota; the losers are handed back untouched', async () => {
    const pusher = fakePusher();
    const { service } = await setup({ pusher, dailyQuota: 2 });
    const requests = await Promise.all(Array.from({ length: 6 }, () => submitted(service)));
    const results = await Promise.all(requests.map((r, i) => service.approve({ requestId: r.id, userId: `U0APP${i}`, isApprover: true })));

    const won = results.filter((x) => x.ok);
    expect(won).toHaveLength(2);
    for (const lost of results.filter((x) => !x.ok)) expect(lost).toMatchObject({ refusal: 'quota_exhausted' });
    await Promise.all(won.map((w) => (w.ok ? w.sent : undefined)));

    const states = await Promise.all(requests.map(async (r) => (await service.get(r.id))!));
    expect(states.filter((s) => s.state === 'sent')).toHaveLength(2);
    for (const s of states.filter((x) => x.state !== 'sent')) {
      expect(s.state).toBe('pending');
      expect(s.approvals).toEqual([]);
      expect(s.decision).toBeUndefined();
    }
    expect(pusher.bodies).toHaveLength(2);
    expect((await service.quotaStatus()).used).toBe(2);
  });

  it('a failed push gives its quota slot back', async () => {
    const { service } = await setup({ pusher: fakePusher(refused(90010)), dailyQuota: 1 });
    const a = await submitted(service);
    const final = await approvedAndSent(service, a.id);
    expect(final.state).toBe('failed');
    expect(final.result).toMatchObject({ kind: 'failed', code: 90010, attempts: 1 });
    expect(await service.quotaStatus()).toMatchObject({ used: 0, exhausted: false });

    // The slot is usable again.
    const b = await submitted(service);
    expect((await approvedAndSent(service, b.id)).state).toBe('sent');
  });

  it('a 90047 from Tencent marks the day used up: later approvals are refused without a push', async () => {
    const pusher = fakePusher(refused(90047));
    const { service } = await setup({ pusher });
    const a = await submitted(service);
    expect((await approvedAndSent(service, a.id)).result).toMatchObject({ kind: 'failed', code: 90047 });
    expect(await service.quotaStatus()).toMatchObject({ used: 0, exhausted: true });

    const b = await submitted(service);
    expect(await service.approve({ requestId: b.id, userId: APPROVER, isApprover: true })).toMatchObject({ ok: false, refusal: 'quota_exhausted' });
    expect((await service.get(b.id))!.state).toBe('pending');
    expect(pusher.bodies).toHaveLength(1);
  });

  it('an unknown outcome keeps its quota slot (the push may have gone out)', async () => {
    const { service } = await setup({ pusher: fakePusher(...Array.from({ length: 4 }, () => ({ kind: 'unknown', reason: 'timeout' }) as PushAttempt)) });
    const a = await submitted(service);
    const final = await approvedAndSent(service, a.id);
    expect(final.state).toBe('unknown');
    expect((await service.quotaStatus()).used).toBe(1);
  });
});

describe('reject', () => {
  it('records who rejected and why, owes the notifications, and blocks any later decision', async () => {
    const { service } = await setup({ pusher: forbiddenPusher });
    const r = await submitted(service);
    const res = await service.reject({ requestId: r.id, userId: APPROVER, isApprover: true, reason: 'Wrong date' });
    expect(res.ok).toBe(true);
    const stored = (await service.get(r.id))!;
    expect(stored.state).toBe('rejected');
    expect(stored.decision).toMatchObject({ by: APPROVER, reason: 'Wrong date' });
    expect(stored.history.at(-1)).toMatchObject({ from: 'pending', to: 'rejected', by: APPROVER, note: 'Wrong date' });
    expect(stored.outbox.at(-1)).toMatchObject({ event: 'rejected', targets: ['card', 'thread', 'requester'] });

    expect(await service.approve({ requestId: r.id, userId: 'U0APP2', isApprover: true })).toMatchObject({ ok: false, refusal: 'already_decided' });
    expect(await service.reject({ requestId: r.id, userId: 'U0APP2', isApprover: true, reason: 'again' })).toMatchObject({
      ok: false,
      refusal: 'already_decided',
    });
    expect((await service.get(r.id))!.decision?.reason).toBe('Wrong date');
  });

  it('refuses the requester and non-approvers', async () => {
    const { service } = await setup({ pusher: forbiddenPusher });
    const r = await submitted(service);
    expect(await service.reject({ requestId: r.id, userId: REQUESTER, isApprover: true, reason: 'x' })).toMatchObject({ refusal: 'is_requester' });
    expect(await service.reject({ requestId: r.id, userId: 'U0OUT', isApprover: false, reason: 'x' })).toMatchObject({ refusal: 'not_approver' });
    expect((await service.get(r.id))!.state).toBe('pending');
  });
});

describe('recover after a restart', () => {
  it("turns 'sending' into 'unknown' and 'approved' back into 'pending', and never pushes", async () => {
    const kv = await openKv('memory://');
    opened.push(kv);
    const { service: first } = await setup({ kv, pusher: forbiddenPusher });
    const inFlight = await submitted(first);
    const notStarted = await submitted(first);
    const untouched = await submitted(first);
    const now = new Date('2026-11-27T04:00:00.000Z');

    // What a crash leaves behind: one push in flight, one approval whose push had not started.
    const day1 = await first.quota.reserve(now);
    const day2 = await first.quota.reserve(now);
    if (!day1.ok || !day2.ok) throw new Error('quota');
    await first.requests.transition(inFlight.id, ['pending'], 'approved');
    await first.requests.transition(inFlight.id, ['approved'], 'sending', () => ({ sendingAt: now.toISOString(), quotaDay: day1.day }));
    await first.requests.transition(notStarted.id, ['pending'], 'approved', () => ({ quotaDay: day2.day, decision: { by: APPROVER, at: now.toISOString() } }));
    expect((await first.quotaStatus()).used).toBe(2);

    const pusher = fakePusher();
    const { service } = await setup({ kv, pusher });
    const recovered = await service.recover();
    expect(recovered).toEqual({ unknown: [inFlight.id], reverted: [notStarted.id] });
    expect(pusher.bodies).toHaveLength(0);

    const u = (await service.get(inFlight.id))!;
    expect(u.state).toBe('unknown');
    expect(u.result).toMatchObject({ kind: 'unknown', attempts: 0 });
    expect(u.outbox.at(-1)).toMatchObject({ event: 'unknown', targets: ['card', 'thread', 'requester'] });

    const p = (await service.get(notStarted.id))!;
    expect(p.state).toBe('pending');
    expect(p.decision).toBeUndefined();
    expect(p.approvals).toEqual([]);
    expect(p.outbox.at(-1)).toMatchObject({ event: 'pending', targets: ['card', 'thread'] });
    expect((await service.get(untouched.id))!.state).toBe('pending');

    // The in-flight push may have gone out: its slot stays counted; the other one is given back.
    expect((await service.quotaStatus()).used).toBe(1);
    expect(await service.recover()).toEqual({ unknown: [], reverted: [] });
    expect(pusher.bodies).toHaveLength(0);

    // The unknown one is never pushed again; the reverted one can be approved again, once.
    expect(await service.approve({ requestId: inFlight.id, userId: APPROVER, isApprover: true })).toMatchObject({ refusal: 'already_decided' });
    expect((await approvedAndSent(service, notStarted.id)).state).toBe('sent');
    expect(pusher.bodies).toEqual([notStarted.body]);
  });
});

describe('approval is bound to the exact payload', () => {
  it('never pushes a body that changed after it was approved; the request goes back to pending', async () => {
    let wake!: () => void;
    const clock = testClock();
    const gated: Clock = { now: clock.now, sleep: () => new Promise<void>((r) => (wake = r)) };
    const pusher = fakePusher();
    const { service, kv } = await setup({ pusher, clock: gated });
    const r = await submitted(service);
    // Someone holds the next push slot, so this send waits (in our gated sleep) before it leaves.
    await kv.reserveSlot('push-slot', 1100, clock.now().getTime() + 60_000);
    const approved = await service.approve({ requestId: r.id, userId: APPROVER, isApprover: true });
    if (!approved.ok) throw new Error(approved.refusal);
    await new Promise((res) => setImmediate(res));
    await service.requests.update(r.id, (cur) => ({
      body: { ...cur.body, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'something else' } }] },
    }));
    wake();
    await expect(approved.sent).rejects.toThrow(/could not move from approved to sending/);
    expect(pusher.bodies).toHaveLength(0);
    const after = (await service.get(r.id))!;
    expect(after.state).toBe('pending');
    expect(after.approvals).toEqual([]);
    expect(after.history.at(-1)?.note).toMatch(/no longer matches what was approved/);
    expect((await service.quotaStatus()).used).toBe(0);
  });
});

describe('delivery leases at start-up', () => {
  it('clears leases left by a dead process on the single-instance SQLite store', async () => {
    const { service } = await setup();
    const r = await submitted(service);
    await service.requests.update(r.id, () => ({ outboxLease: { owner: 'i-dead', until: '2999-01-01T00:00:00.000Z' } }));
    await service.recover();
    expect((await service.get(r.id))!.outboxLease).toBeUndefined();
  });
});

describe('store unavailable', () => {
  it("every decision answers 'store_unavailable' and changes nothing while the store is down", async () => {
    const base = await openKv('memory://');
    opened.push(base);
    const kv = flakyKv(base);
    const { service } = await setup({ kv, pusher: forbiddenPusher });
    const r = await submitted(service);

    kv.down.add('all');
    expect(await service.precheck({ requestId: r.id, userId: APPROVER, isApprover: true })).toEqual({ ok: false, refusal: 'store_unavailable' });
    expect(await service.approve({ requestId: r.id, userId: APPROVER, isApprover: true })).toEqual({ ok: false, refusal: 'store_unavailable' });
    expect(await service.reject({ requestId: r.id, userId: APPROVER, isApprover: true, reason: 'x' })).toEqual({
      ok: false,
      refusal: 'store_unavailable',
    });
    await expect(service.submit({ requesterId: REQUESTER, draft: DRAFT })).rejects.toBeInstanceOf(StoreUnavailableError);
    kv.down.clear();

    const stored = (await service.get(r.id))!;
    expect(stored.state).toBe('pending');
    expect(stored.rev).toBe(r.rev);
    expect(await service.requests.list()).toHaveLength(1);
  });

  it('a store failure while claiming the request leaves it pending with no quota used', async () => {
    const base = await openKv('memory://');
    opened.push(base);
    const kv = flakyKv(base);
    const { service } = await setup({ kv, pusher: forbiddenPusher });
    const r = await submitted(service);
    kv.down.add('swap');
    expect(await service.approve({ requestId: r.id, userId: APPROVER, isApprover: true })).toEqual({ ok: false, refusal: 'store_unavailable' });
    kv.down.clear();
    expect((await service.get(r.id))!.state).toBe('pending');
    expect((await service.quotaStatus()).used).toBe(0);
  });

  it('a store failure while counting the quota leaves the request pending', async () => {
    const base = await openKv('memory://');
    opened.push(base);
    const kv = flakyKv(base);
    const pusher = fakePusher();
    const { service } = await setup({ kv, pusher });
    const r = await submitted(service);
    kv.down.add('incrementBelow');
    expect(await service.approve({ requestId: r.id, userId: APPROVER, isApprover: true })).toEqual({ ok: false, refusal: 'store_unavailable' });
    kv.down.clear();

    // Nothing was claimed or counted: once the store answers, it can be approved as usual.
    const stored = (await service.get(r.id))!;
    expect(stored.state).toBe('pending');
    expect(stored.approvals).toEqual([]);
    expect(stored.decision).toBeUndefined();
    expect((await service.quotaStatus()).used).toBe(0);
    expect((await approvedAndSent(service, r.id)).state).toBe('sent');
    expect(pusher.bodies).toHaveLength(1);
  });

  it('a store failure after the approval, before the push left, hands the request and its quota slot back', async () => {
    const base = await openKv('memory://');
    opened.push(base);
    const kv = flakyKv(base);
    const pusher = fakePusher();
    const { service } = await setup({ kv, pusher });
    const r = await submitted(service);
    kv.down.add('reserveSlot');
    const res = await service.approve({ requestId: r.id, userId: APPROVER, isApprover: true });
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    await expect(res.sent).rejects.toBeInstanceOf(StoreUnavailableError);
    kv.down.clear();

    const stored = (await service.get(r.id))!;
    expect(stored.state).toBe('pending');
    expect(stored.approvals).toEqual([]);
    expect(stored.outbox.at(-1)).toMatchObject({ event: 'pending' });
    expect(pusher.bodies).toHaveLength(0);
    expect((await service.quotaStatus()).used).toBe(0);
    expect((await approvedAndSent(service, r.id)).state).toBe('sent');
  });
});
