/**
 * The broadcast domain on a real in-memory store, with fake pushers and a clock that moves instead
 * of waiting: submissions, approvals (one and several), rejections, cancel, edit, expiry, quota,
 * exactly-once pushes, payload binding, and the duplicate guard.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { payloadHash } from '../../src/broadcast/draft.js';
import { indexOf } from '../../src/broadcast/requests.js';
import {
  APPROVER,
  APPROVER_2,
  EVERYONE_DRAFT,
  OUTSIDER,
  REQUESTER,
  TAGS_DRAFT,
  approve,
  closeStores,
  fakePusher,
  kinds,
  refused,
  setup,
  submitted,
} from './support.js';

afterEach(closeStores);

describe('submit', () => {
  it('stores a pending request with the exact body, its version, a fixed MsgRandom, an expiry and what people must be told', async () => {
    const { service, clock } = await setup({ requestTtlMs: 3_600_000 });
    const r = await submitted(service);
    const stored = await service.get(r.id);
    expect(stored?.state).toBe('pending');
    expect(stored?.body).toEqual({ MsgRandom: r.body.MsgRandom, MsgLifeTime: 3600, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'Maintenance tonight' } }], Condition: { TagsAnd: ['vip'] } });
    expect(stored?.payloadHash).toBe(payloadHash(r.body));
    expect(stored?.version).toBe(r.payloadHash.slice(0, 12));
    expect(stored?.expiresAt).toBe(new Date(clock.now().getTime() + 3_600_000).toISOString());
    expect(kinds(stored)).toEqual(['submitted']);
    // The card is owed at once (and the submitted thread entry and DM with it).
    expect(indexOf(stored!).outboxDueMs).toBe(clock.now().getTime());
    expect(stored?.outbox.card).toBeDefined();
  });

  it('refuses a draft that breaks a push rule and stores nothing', async () => {
    const { service } = await setup();
    const res = await service.decisions.submit({ requesterId: REQUESTER, draft: { ...TAGS_DRAFT, audience: { kind: 'tags', all: ['a'], any: ['a'] } } });
    expect(res.ok).toBe(false);
    expect(res.ok === false && 'errors' in res && res.errors.map((e) => e.code)).toEqual([90022]);
    expect(await service.queries.recent(10)).toEqual([]);
  });

  it('gives each request its own MsgRandom', async () => {
    const { service } = await setup();
    const a = await submitted(service);
    const b = await submitted(service);
    expect(a.body.MsgRandom).not.toBe(b.body.MsgRandom);
  });

  it('needs EVERYONE_APPROVALS for a push to everyone and TARGETED_APPROVALS for tags', async () => {
    const { service } = await setup({ everyoneApprovals: 2, targetedApprovals: 1 });
    expect((await submitted(service, EVERYONE_DRAFT)).requiredApprovals).toBe(2);
    expect((await submitted(service, TAGS_DRAFT)).requiredApprovals).toBe(1);
  });

  it('refuses a send time in the past, more than 30 days ahead, or inside quiet hours, at the field', async () => {
    const { service, clock } = await setup({ quietHours: { startMinute: 22 * 60, endMinute: 8 * 60 } });
    const at = (ms: number) => new Date(clock.now().getTime() + ms).toISOString();
    for (const sendAt of [at(-60_000), at(31 * 86_400_000), '2026-11-27T15:00:00.000Z' /* 23:00 in Shanghai */]) {
      const res = await service.decisions.submit({ requesterId: REQUESTER, draft: { ...TAGS_DRAFT, sendAt } });
      expect(res.ok === false && 'errors' in res && res.errors.map((e) => e.field)).toEqual(['sendAt']);
    }
    const ok = await service.decisions.submit({ requesterId: REQUESTER, draft: { ...TAGS_DRAFT, sendAt: at(3_600_000) } });
    expect(ok.ok).toBe(true);
    expect(ok.ok && ok.request.version).toMatch(/^[0-9a-f]{12}@\d+$/);
  });
});

describe('approve', () => {
  it('20 concurrent approvals: exactly one wins and exactly one push is made', async () => {
    const { service, pusher } = await setup();
    const r = await submitted(service);
    const results = await Promise.all(Array.from({ length: 20 }, () => service.decisions.approve({ requestId: r.id, version: r.version, userId: APPROVER, isApprover: true })));
    await service.drain();
    expect(results.filter((x) => x.ok)).toHaveLength(1);
    expect(pusher.bodies).toHaveLength(1);
    expect(pusher.bodies[0]).toEqual(r.body);
    expect((await service.get(r.id))?.state).toBe('sent');
    expect((await service.quotaStatus()).used).toBe(1);
  });

  it('refuses the requester, non-approvers, unknown requests and an out-of-date card, changing nothing', async () => {
    const { service, pusher } = await setup();
    const r = await submitted(service);
    const refusals = await Promise.all([
      service.decisions.approve({ requestId: r.id, version: r.version, userId: REQUESTER, isApprover: true }),
      service.decisions.approve({ requestId: r.id, version: r.version, userId: OUTSIDER, isApprover: false }),
      service.decisions.approve({ requestId: 'br-nope', version: r.version, userId: APPROVER, isApprover: true }),
      service.decisions.approve({ requestId: r.id, version: 'abcdef012345', userId: APPROVER, isApprover: true }),
      service.decisions.approve({ requestId: r.id, version: '', userId: APPROVER, isApprover: true }),
    ]);
    expect(refusals.map((x) => !x.ok && x.refusal)).toEqual(['is_requester', 'not_approver', 'unknown_request', 'stale_version', 'stale_version']);
    expect(pusher.bodies).toHaveLength(0);
    const stored = await service.get(r.id);
    expect(stored?.rev).toBe(1);
    expect(stored?.state).toBe('pending');
  });

  it('two approvers needed: the first approval is recorded, the same approver twice counts once, the second pushes once', async () => {
    const { service, pusher } = await setup({ everyoneApprovals: 2 });
    const r = await submitted(service, EVERYONE_DRAFT);
    const first = await approve(service, r, APPROVER);
    expect(first.ok && first.request.state).toBe('pending');
    expect(first.ok && first.request.approvals.map((a) => a.userId)).toEqual([APPROVER]);
    const again = await approve(service, r, APPROVER);
    expect(!again.ok && again.refusal).toBe('already_approved_by_you');
    expect(!(await approve(service, r, REQUESTER)).ok).toBe(true);
    expect(pusher.bodies).toHaveLength(0);
    const second = await approve(service, r, APPROVER_2);
    expect(second.ok).toBe(true);
    await service.drain();
    expect(pusher.bodies).toHaveLength(1);
    const done = await service.get(r.id);
    expect(done?.state).toBe('sent');
    expect(kinds(done)).toEqual(['submitted', 'approval', 'approved', 'sending', 'sent']);
    expect(done?.history[1]).toMatchObject({ kind: 'approval', by: APPROVER, count: 1, required: 2 });
  });

  it('concurrent final approvals by different approvers of a two-approver request push once', async () => {
    const { service, pusher } = await setup({ everyoneApprovals: 2 });
    const r = await submitted(service, EVERYONE_DRAFT);
    await approve(service, r, APPROVER);
    const others = ['U0A', 'U0B', 'U0C', 'U0D', 'U0E'];
    await Promise.all(others.map((u) => approve(service, r, u)));
    await service.drain();
    expect(pusher.bodies).toHaveLength(1);
    expect((await service.get(r.id))?.approvals).toHaveLength(2);
  });

  it('retries only where the push provably did not happen, always with the same body', async () => {
    const { service, pusher } = await setup({ pusher: fakePusher(refused(91000), refused(91000)), retry: { baseDelayMs: 1, maxDelayMs: 2 } });
    const r = await submitted(service);
    await approve(service, r);
    expect(pusher.bodies).toHaveLength(3);
    expect(new Set(pusher.bodies.map((b) => b.MsgRandom)).size).toBe(1);
    expect((await service.get(r.id))?.result).toMatchObject({ kind: 'sent', attempts: 3 });
  });

  it('an unknown attempt is never retried: the outcome is unknown at once', async () => {
    const { service, pusher } = await setup({ pusher: fakePusher({ kind: 'unknown', reason: 'connection reset (ECONNRESET)' }) });
    const r = await submitted(service);
    await approve(service, r);
    expect(pusher.bodies).toHaveLength(1);
    const done = await service.get(r.id);
    expect(done?.state).toBe('unknown');
    expect((await service.quotaStatus()).used).toBe(1);
  });
});

describe('quota', () => {
  it('a click refused for the quota changes nothing, and earlier approvals stay', async () => {
    const { service, pusher } = await setup({ dailyQuota: 1, everyoneApprovals: 2 });
    await approve(service, await submitted(service));
    const r = await submitted(service, EVERYONE_DRAFT);
    await approve(service, r, APPROVER);
    const refused2 = await approve(service, r, APPROVER_2);
    expect(!refused2.ok && refused2.refusal).toBe('quota_exhausted');
    expect(!refused2.ok && refused2.quota?.used).toBe(1);
    const stored = await service.get(r.id);
    expect(stored?.state).toBe('pending');
    expect(stored?.approvals.map((a) => a.userId)).toEqual([APPROVER]);
    expect(pusher.bodies).toHaveLength(1);
  });

  it('concurrent approvals of different requests never exceed the quota', async () => {
    const { service, pusher } = await setup({ dailyQuota: 3 });
    const rs = await Promise.all(Array.from({ length: 8 }, () => submitted(service)));
    const results = await Promise.all(rs.map((r) => approve(service, r)));
    await service.drain();
    expect(results.filter((x) => x.ok)).toHaveLength(3);
    expect(pusher.bodies).toHaveLength(3);
    expect((await service.quotaStatus()).used).toBe(3);
    for (const [i, x] of results.entries()) if (!x.ok) expect((await service.get(rs[i]!.id))?.state).toBe('pending');
  });

  it('a refused push gives its quota slot back; a 90047 marks the day used up', async () => {
    const { service, pusher } = await setup({ pusher: fakePusher(refused(90045), refused(90047)) });
    await approve(service, await submitted(service));
    expect((await service.quotaStatus()).used).toBe(0);
    await approve(service, await submitted(service));
    const q = await service.quotaStatus();
    expect(q.exhausted).toBe(true);
    const later = await approve(service, await submitted(service));
    expect(!later.ok && later.refusal).toBe('quota_exhausted');
    expect(pusher.bodies).toHaveLength(2);
  });
});

describe('reject, cancel, edit', () => {
  it('a rejection records who and why; a later approval is refused', async () => {
    const { service, pusher } = await setup();
    const r = await submitted(service);
    const rej = await service.decisions.reject({ requestId: r.id, userId: APPROVER, isApprover: true, reason: 'wrong audience' });
    expect(rej.ok && rej.request.decision).toMatchObject({ by: APPROVER, reason: 'wrong audience' });
    const late = await approve(service, r, APPROVER_2);
    expect(!late.ok && late.refusal).toBe('already_decided');
    expect(pusher.bodies).toHaveLength(0);
  });

  it('the requester can cancel a pending request; anyone else is refused', async () => {
    const { service } = await setup();
    const r = await submitted(service);
    expect(await service.decisions.cancel({ requestId: r.id, userId: APPROVER, isApprover: true })).toMatchObject({ ok: false, refusal: 'not_requester' });
    const done = await service.decisions.cancel({ requestId: r.id, userId: REQUESTER, isApprover: false });
    expect(done.ok && done.request.state).toBe('cancelled');
    expect(done.ok && done.request.decision?.by).toBe(REQUESTER);
  });

  it('an edit resets approvals, gets a new MsgRandom and version, and old-card clicks are refused', async () => {
    const { service, pusher } = await setup({ targetedApprovals: 2 });
    const r = await submitted(service);
    await approve(service, r, APPROVER);
    const edited = await service.decisions.edit({ requestId: r.id, userId: REQUESTER, draft: { ...TAGS_DRAFT, message: 'Maintenance tomorrow' } });
    expect(edited.ok).toBe(true);
    if (!edited.ok) return;
    expect(edited.request.approvals).toEqual([]);
    expect(edited.request.version).not.toBe(r.version);
    expect(edited.request.body.MsgRandom).not.toBe(r.body.MsgRandom);
    expect(kinds(edited.request)).toEqual(['submitted', 'approval', 'edited']);
    const old = await approve(service, r, APPROVER_2);
    expect(!old.ok && old.refusal).toBe('stale_version');
    await approve(service, edited.request, APPROVER);
    await approve(service, edited.request, APPROVER_2);
    expect(pusher.bodies.map((b) => (b.MsgBody[0]!.MsgContent as { Text: string }).Text)).toEqual(['Maintenance tomorrow']);
  });

  it('only the requester can edit; an edit is checked against every push rule', async () => {
    const { service } = await setup();
    const r = await submitted(service);
    expect(await service.decisions.edit({ requestId: r.id, userId: APPROVER, draft: TAGS_DRAFT })).toMatchObject({ ok: false, refusal: 'not_requester' });
    const bad = await service.decisions.edit({ requestId: r.id, userId: REQUESTER, draft: { ...TAGS_DRAFT, audience: { kind: 'tags', all: ['x'.repeat(51)], any: [] } } });
    expect(bad.ok === false && 'errors' in bad && bad.errors[0]?.code).toBe(90020);
    expect((await service.get(r.id))?.rev).toBe(1);
  });

  it('request again: only the requester, only from an ended request; the two requests link to each other', async () => {
    const { service } = await setup();
    const r = await submitted(service);
    expect(await service.decisions.againSource({ requestId: r.id, userId: REQUESTER })).toMatchObject({ ok: false, refusal: 'already_decided' });
    await service.decisions.reject({ requestId: r.id, userId: APPROVER, isApprover: true, reason: 'typo' });
    expect(await service.decisions.againSource({ requestId: r.id, userId: APPROVER })).toMatchObject({ ok: false, refusal: 'not_requester' });
    expect((await service.decisions.againSource({ requestId: r.id, userId: REQUESTER })).ok).toBe(true);
    const again = await service.decisions.submit({ requesterId: REQUESTER, draft: TAGS_DRAFT, againOf: r.id });
    expect(again.ok && again.request.againOf).toBe(r.id);
    const old = await service.get(r.id);
    expect(old?.againAs).toEqual([again.ok ? again.request.id : '']);
    expect(kinds(old).at(-1)).toBe('requested_again');
    expect(old?.state).toBe('rejected');
  });
});

describe('expiry', () => {
  it('a pending request expires once after REQUEST_TTL, even with two instances sweeping; a late click is told so', async () => {
    const a = await setup({ requestTtlMs: 60_000 });
    const b = await setup({ store: a.store, clock: a.clock, requestTtlMs: 60_000 });
    const r = await submitted(a.service);
    expect(await a.service.decisions.expireDue()).toBe(0);
    a.clock.advance(60_001);
    const counts = await Promise.all([a.service.decisions.expireDue(), b.service.decisions.expireDue()]);
    expect(counts[0]! + counts[1]!).toBe(1);
    const stored = await a.service.get(r.id);
    expect(stored?.state).toBe('expired');
    expect(kinds(stored).filter((k) => k === 'expired')).toHaveLength(1);
    const late = await approve(a.service, r);
    expect(!late.ok && late.refusal).toBe('expired');
  });

  it('an approval after the expiry time but before the sweep is refused as expired', async () => {
    const { service, clock, pusher } = await setup({ requestTtlMs: 60_000 });
    const r = await submitted(service);
    clock.advance(61_000);
    const late = await approve(service, r);
    expect(!late.ok && late.refusal).toBe('expired');
    expect(pusher.bodies).toHaveLength(0);
  });
});

describe('duplicate guard', () => {
  it('warns when the same message went to the same audience in the last 24 hours', async () => {
    const { service, clock } = await setup();
    const first = await submitted(service);
    await approve(service, first);
    const dup = await submitted(service);
    expect(dup.duplicateOf?.id).toBe(first.id);
    expect(dup.duplicateOf?.taskId).toBe('T1');
    expect((await submitted(service, { ...TAGS_DRAFT, audience: { kind: 'tags', all: ['other'], any: [] } })).duplicateOf).toBeUndefined();
    clock.advance(24 * 3600_000 + 1000);
    expect((await submitted(service)).duplicateOf).toBeUndefined();
  });
});

describe('payload binding', () => {
  it('never pushes a body that no longer matches its approval; the request goes back to pending', async () => {
    const { service, store, pusher } = await setup();
    const r = await submitted(service);
    // Tamper with the stored body behind the domain's back, between approval and push.
    const stored = (await store.getRequest(r.id))!;
    await store.writeRequest(stored, { ...stored.data, body: { ...stored.data.body, MsgLifeTime: 604800 } });
    await approve(service, r);
    expect(pusher.bodies).toHaveLength(0);
    const back = await service.get(r.id);
    expect(back?.state).toBe('pending');
    expect(kinds(back).at(-1)).toBe('handed_back');
    expect((await service.quotaStatus()).used).toBe(0);
  });
});
