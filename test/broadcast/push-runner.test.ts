/**
 * Exactly once under real operations, in the domain: ownership leases (a second instance never
 * touches a live push; a dead one's work is settled), late results, scheduled pushes, quiet hours,
 * people settling an unknown outcome, and store failures that hide whether a write landed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/broadcast/store/store.js';
import type { PushAttempt } from '../../src/tim/client.js';
import {
  APPROVER,
  APPROVER_2,
  REQUESTER,
  TAGS_DRAFT,
  approve,
  closeStores,
  fakePusher,
  flakyStore,
  kinds,
  setup,
  submitted,
  testClock,
} from './support.js';

afterEach(closeStores);

/** A store that says it is shared (Redis-like), so start-up recovery only touches expired leases. */
function shared(store: Store): Store {
  return new Proxy(store, { get: (t, p, r) => (p === 'kind' ? 'redis' : Reflect.get(t, p, r)) });
}

/** A pusher whose answer waits until `release()`. */
function heldPusher(answer: PushAttempt = { kind: 'sent', taskId: 'T-held' }) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const p = fakePusher(async () => {
    await gate;
    return answer;
  });
  return { ...p, release: () => release() };
}

const until = async (probe: () => Promise<boolean>) => {
  for (let i = 0; i < 500; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('condition not reached');
};

describe('ownership leases', () => {
  it('a second instance starting on the same shared store never touches the first one’s push in flight', async () => {
    const held = heldPusher();
    const a = await setup({ pusher: held, instanceId: 'A' });
    const sharedStore = shared(a.store);
    const r = await submitted(a.service);
    const res = await a.service.decisions.approve({ requestId: r.id, version: r.version, userId: APPROVER, isApprover: true });
    await until(async () => (await a.service.get(r.id))?.state === 'sending');
    // A rolling deploy: instance B starts and runs its recovery while A's push is in flight.
    const b = await setup({ store: sharedStore, clock: a.clock, instanceId: 'B' });
    await b.service.start(60_000);
    expect(await b.service.runner.reap()).toEqual({ unknown: [], returned: [] });
    held.release();
    if (res.ok) await res.pushed;
    const done = await a.service.get(r.id);
    expect(done?.state).toBe('sent');
    expect(kinds(done)).not.toContain('unknown');
    await b.service.stop();
  });

  it('a push whose owner went silent becomes unknown once its lease ran out; its late answer then settles it', async () => {
    const held = heldPusher({ kind: 'sent', taskId: 'T-late' });
    const a = await setup({ pusher: held, instanceId: 'A', leaseMs: 30_000 });
    const b = await setup({ store: shared(a.store), clock: a.clock, instanceId: 'B', leaseMs: 30_000 });
    const r = await submitted(a.service);
    const res = await a.service.decisions.approve({ requestId: r.id, version: r.version, userId: APPROVER, isApprover: true });
    await until(async () => (await a.service.get(r.id))?.state === 'sending');
    // Not expired yet: B leaves it alone.
    expect((await b.service.runner.reap()).unknown).toEqual([]);
    a.clock.advance(31_000);
    expect((await b.service.runner.reap()).unknown).toEqual([r.id]);
    expect((await a.service.get(r.id))?.state).toBe('unknown');
    held.release();
    if (res.ok) await res.pushed;
    const done = await a.service.get(r.id);
    expect(done?.state).toBe('sent');
    expect(done?.result).toMatchObject({ kind: 'sent', taskId: 'T-late' });
    expect(kinds(done)).toEqual(['submitted', 'approved', 'sending', 'unknown', 'sent']);
    expect(held.bodies).toHaveLength(1);
  });

  it('an approved request whose owner died before pushing goes back to pending with its quota slot, never pushed', async () => {
    const a = await setup({ instanceId: 'A' });
    const r = await submitted(a.service);
    // Claim as A would, then "die" before the push: write the claim directly through the decisions
    // path with a runner that never runs (approve, but drop the push by stopping A first).
    const runner = a.service.runner as unknown as { start: (...args: unknown[]) => Promise<undefined> };
    runner.start = async () => undefined;
    // Another push holds the slot for a minute, so the claim stays 'approved' (not yet 'sending').
    await a.store.reserveSlot('push-slot', 0, a.clock.now().getTime() + 60_000);
    expect((await a.service.decisions.approve({ requestId: r.id, version: r.version, userId: APPROVER, isApprover: true })).ok).toBe(true);
    expect((await a.service.quotaStatus()).used).toBe(1);
    const b = await setup({ store: shared(a.store), clock: a.clock, instanceId: 'B' });
    a.clock.advance(31_000);
    expect((await b.service.runner.reap()).returned).toEqual([r.id]);
    const back = await a.service.get(r.id);
    expect(back?.state).toBe('pending');
    expect(back?.approvals).toEqual([]);
    expect((await a.service.quotaStatus()).used).toBe(0);
    expect(b.pusher.bodies).toHaveLength(0);
  });

  it('on the single-instance SQLite store every lease found at start-up is a dead process’s', async () => {
    const held = heldPusher();
    const a = await setup({ pusher: held, instanceId: 'A' });
    const r = await submitted(a.service);
    void a.service.decisions.approve({ requestId: r.id, version: r.version, userId: APPROVER, isApprover: true });
    await until(async () => (await a.service.get(r.id))?.state === 'sending');
    // The process "restarts": a new service on the same (sqlite) store, no time has passed.
    const b = await setup({ store: a.store, clock: a.clock, instanceId: 'A2' });
    expect(await b.service.runner.reap({ atStart: true })).toEqual({ unknown: [r.id], returned: [] });
    held.release();
    await a.service.drain();
    // The first incarnation's late answer still settles the truth.
    expect((await a.service.get(r.id))?.state).toBe('sent');
  });
});

describe('settling an unknown outcome', () => {
  it('approvers mark it as sent (with a TaskId) or not sent; others are refused; nothing is re-sent', async () => {
    const { service, pusher } = await setup({ pusher: fakePusher({ kind: 'unknown', reason: 'timeout' }, { kind: 'unknown', reason: 'timeout' }) });
    const a = await submitted(service);
    const b = await submitted(service, { ...TAGS_DRAFT, message: 'other' });
    await approve(service, a);
    await approve(service, b);
    expect(await service.decisions.resolveUnknown({ requestId: a.id, userId: REQUESTER, isApprover: false, wentOut: true })).toMatchObject({ ok: false, refusal: 'not_approver' });
    const sent = await service.decisions.resolveUnknown({ requestId: a.id, userId: APPROVER, isApprover: true, wentOut: true, taskId: 'T-console' });
    expect(sent.ok && sent.request.state).toBe('sent');
    expect((await service.queries.find('T-console'))?.id).toBe(a.id);
    expect((await service.quotaStatus()).used).toBe(2);
    const notSent = await service.decisions.resolveUnknown({ requestId: b.id, userId: APPROVER_2, isApprover: true, wentOut: false });
    expect(notSent.ok && notSent.request.state).toBe('not_sent');
    expect(notSent.ok && notSent.request.resolution).toMatchObject({ kind: 'not_sent', by: APPROVER_2 });
    // It did not go out: Tencent did not count it, so neither do we.
    expect((await service.quotaStatus()).used).toBe(1);
    expect(await service.decisions.resolveUnknown({ requestId: b.id, userId: APPROVER, isApprover: true, wentOut: true })).toMatchObject({ ok: false, refusal: 'not_unknown' });
    expect((await service.decisions.againSource({ requestId: b.id, userId: REQUESTER })).ok).toBe(true);
    expect(pusher.bodies).toHaveLength(2);
  });
});

describe('scheduled pushes', () => {
  it('an approval with a send time schedules it; it is pushed once at its time, not before', async () => {
    const { service, clock, pusher } = await setup();
    const sendAt = new Date(clock.now().getTime() + 3_600_000).toISOString();
    const r = await submitted(service, { ...TAGS_DRAFT, sendAt });
    const res = await approve(service, r);
    expect(res.ok && res.request.state).toBe('scheduled');
    expect(await service.runner.claimDue()).toBe(0);
    clock.advance(3_599_000);
    expect(await service.runner.claimDue()).toBe(0);
    clock.advance(1_000);
    expect(await service.runner.claimDue()).toBe(1);
    await service.drain();
    expect(await service.runner.claimDue()).toBe(0);
    expect(pusher.bodies).toHaveLength(1);
    expect((await service.get(r.id))?.state).toBe('sent');
    expect((await service.quotaStatus()).day).toBe('2026-11-27');
  });

  it('two instances claiming at the same moment push once', async () => {
    const a = await setup({ instanceId: 'A' });
    const b = await setup({ store: shared(a.store), clock: a.clock, instanceId: 'B', pusher: a.pusher });
    const r = await submitted(a.service, { ...TAGS_DRAFT, sendAt: new Date(a.clock.now().getTime() + 60_000).toISOString() });
    await approve(a.service, r);
    a.clock.advance(60_000);
    await Promise.all([a.service.runner.claimDue(), b.service.runner.claimDue(), a.service.runner.claimDue()]);
    await a.service.drain();
    await b.service.drain();
    expect(a.pusher.bodies).toHaveLength(1);
  });

  it('cancelled before its time (by an approver), nothing is pushed', async () => {
    const { service, clock, pusher } = await setup();
    const r = await submitted(service, { ...TAGS_DRAFT, sendAt: new Date(clock.now().getTime() + 60_000).toISOString() });
    await approve(service, r);
    const c = await service.decisions.cancel({ requestId: r.id, userId: APPROVER_2, isApprover: true });
    expect(c.ok && c.request.state).toBe('cancelled');
    clock.advance(120_000);
    expect(await service.runner.claimDue()).toBe(0);
    expect(pusher.bodies).toHaveLength(0);
  });

  it('an edit of a scheduled request sends it back to pending with approvals reset', async () => {
    const { service, clock } = await setup();
    const r = await submitted(service, { ...TAGS_DRAFT, sendAt: new Date(clock.now().getTime() + 60_000).toISOString() });
    await approve(service, r);
    const e = await service.decisions.edit({ requestId: r.id, userId: REQUESTER, draft: { ...TAGS_DRAFT, sendAt: new Date(clock.now().getTime() + 120_000).toISOString() } });
    expect(e.ok && e.request.state).toBe('pending');
    expect(e.ok && e.request.approvals).toEqual([]);
    expect(e.ok && e.request.scheduledFor).toBeUndefined();
  });

  it('more than SCHEDULE_MAX_LATE late (every instance was down), it is not pushed and needs a new approval', async () => {
    const { service, clock, pusher } = await setup({ maxLateMs: 3_600_000 });
    const r = await submitted(service, { ...TAGS_DRAFT, sendAt: new Date(clock.now().getTime() + 60_000).toISOString() });
    await approve(service, r);
    clock.advance(60_000 + 3_600_001);
    expect(await service.runner.claimDue()).toBe(0);
    const late = await service.get(r.id);
    expect(late?.state).toBe('pending');
    expect(late?.approvals).toEqual([]);
    expect(kinds(late).at(-1)).toBe('late');
    expect(pusher.bodies).toHaveLength(0);
  });

  it('a little late (within SCHEDULE_MAX_LATE), it is pushed and the history says how late', async () => {
    const { service, clock, pusher } = await setup({ maxLateMs: 3_600_000 });
    const r = await submitted(service, { ...TAGS_DRAFT, sendAt: new Date(clock.now().getTime() + 60_000).toISOString() });
    await approve(service, r);
    clock.advance(60_000 + 600_000);
    await service.runner.claimDue();
    await service.drain();
    expect(pusher.bodies).toHaveLength(1);
    expect((await service.get(r.id))?.history.find((e) => e.kind === 'claimed')?.note).toBe('600');
  });

  it('the quota of the sending day used up: the scheduled request fails, explained, and nothing is pushed', async () => {
    const { service, clock, pusher } = await setup({ dailyQuota: 1 });
    const r = await submitted(service, { ...TAGS_DRAFT, sendAt: new Date(clock.now().getTime() + 60_000).toISOString() });
    await approve(service, r);
    await approve(service, await submitted(service, { ...TAGS_DRAFT, message: 'immediate' }));
    clock.advance(60_000);
    await service.runner.claimDue();
    const failed = await service.get(r.id);
    expect(failed?.state).toBe('failed');
    expect(failed?.result).toMatchObject({ kind: 'failed', code: 90047 });
    expect(pusher.bodies).toHaveLength(1);
  });
});

describe('quiet hours (22:00–08:00 Shanghai)', () => {
  const quietHours = { startMinute: 22 * 60, endMinute: 8 * 60 };

  it('an immediate approval inside quiet hours is held until they end, then pushed', async () => {
    const clock = testClock('2026-11-27T15:00:00.000Z'); // 23:00 in Shanghai
    const { service, pusher } = await setup({ clock, quietHours });
    const r = await submitted(service);
    const res = await approve(service, r);
    expect(res.ok && res.request.state).toBe('scheduled');
    expect(res.ok && res.request.holdReason).toBe('quiet_hours');
    expect(res.ok && res.request.scheduledFor).toBe('2026-11-28T00:00:00.000Z'); // 08:00 in Shanghai
    clock.set('2026-11-27T23:59:00.000Z');
    expect(await service.runner.claimDue()).toBe(0);
    clock.set('2026-11-28T00:00:00.000Z');
    expect(await service.runner.claimDue()).toBe(1);
    await service.drain();
    expect(pusher.bodies).toHaveLength(1);
  });

  it('“send now anyway” pushes at once, from pending or from the hold', async () => {
    const clock = testClock('2026-11-27T15:00:00.000Z');
    const { service, pusher } = await setup({ clock, quietHours });
    const a = await submitted(service);
    expect((await approve(service, a, APPROVER, { sendNow: true })).ok).toBe(true);
    const b = await submitted(service, { ...TAGS_DRAFT, message: 'b' });
    await approve(service, b);
    expect((await service.get(b.id))?.state).toBe('scheduled');
    expect((await approve(service, b, APPROVER_2, { sendNow: true })).ok).toBe(true);
    await service.drain();
    expect(pusher.bodies).toHaveLength(2);
    expect((await service.get(b.id))?.state).toBe('sent');
  });
});

describe('a store that hiccups', () => {
  it('a claim whose reply is lost is read back: it landed, so the push runs once and the clicker is told it worked', async () => {
    const base = await setup();
    const store = flakyStore(base.store);
    const { service, pusher } = await setup({ store });
    const r = await submitted(service);
    store.afterWrite.add('writeRequest');
    const res = await approve(service, r);
    expect(res.ok).toBe(true);
    expect(pusher.bodies).toHaveLength(1);
    expect((await service.get(r.id))?.state).toBe('sent');
  });

  it('a store that is down refuses decisions and changes nothing', async () => {
    const base = await setup();
    const store = flakyStore(base.store);
    const { service, pusher } = await setup({ store });
    const r = await submitted(service);
    store.down.add('all');
    const res = await approve(service, r);
    expect(!res.ok && res.refusal).toBe('store_unavailable');
    store.down.clear();
    expect((await service.get(r.id))?.rev).toBe(1);
    expect(pusher.bodies).toHaveLength(0);
  });

  it('the store down for longer than any backoff right after a push: the result waits, then is recorded once', async () => {
    const base = await setup();
    const store = flakyStore(base.store);
    const held = heldPusher({ kind: 'sent', taskId: 'T-kept' });
    const { service } = await setup({ store, pusher: held });
    const r = await submitted(service);
    const res = await service.decisions.approve({ requestId: r.id, version: r.version, userId: APPROVER, isApprover: true });
    await until(async () => (await service.get(r.id))?.state === 'sending');
    store.down.add('all');
    held.release();
    await until(async () => service.unrecordedResults().length === 1);
    expect(service.unrecordedResults()[0]).toMatchObject({ requestId: r.id, outcome: { kind: 'sent', taskId: 'T-kept' } });
    // Many retries later (the test clock makes the backoff instant) the store comes back.
    await new Promise((resolve) => setTimeout(resolve, 50));
    store.down.clear();
    if (res.ok) await res.pushed;
    expect(service.unrecordedResults()).toEqual([]);
    expect((await service.get(r.id))?.result).toMatchObject({ kind: 'sent', taskId: 'T-kept' });
  });
});
