/**
 * The store contract (src/broadcast/store/store.ts) on every backend: a real SQLite file, memory://
 * and a real redis-server. Requests are built here as plain documents; `indexOf` (the one the app
 * uses) derives their index columns, so these tests also check that every index follows the
 * document through its state changes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore, openStoreReader } from '../../src/broadcast/store/open.js';
import { StoreUnavailableError, type RequestDoc, type Store, type Versioned } from '../../src/broadcast/store/store.js';
import type { ImPushBody } from '../../src/tim/push-body.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { ROOT, TSX_LOADER, eventually } from '../robustness/support.js';

const dir = mkdtempSync(join(tmpdir(), 'tb-store-'));
let redis: RedisHandle;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Empty the shared Redis so each test starts from a clean store. */
async function flushRedis(url: string): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  await client.sendCommand(['FLUSHALL']);
  await client.quit();
}

let fileSeq = 0;
const sqliteUrl = () => `sqlite://${join(dir, `store-${++fileSeq}.sqlite`)}`;

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

let idSeq = 0;
/** A valid stored request; nothing owed to Slack unless the caller says so, so no index is set by accident. */
function doc(o: Partial<RequestDoc> & { createdMs?: number } = {}): RequestDoc {
  const { createdMs, ...rest } = o;
  const created = iso(createdMs ?? T0 + idSeq);
  return {
    id: `br-${String(++idSeq).padStart(6, '0')}`,
    state: 'rejected',
    requesterId: 'U0REQ',
    createdAt: created,
    updatedAt: created,
    draft: { message: 'Maintenance tonight', audience: { kind: 'all' }, lifetimeSeconds: 0 },
    body: { MsgRandom: 1234, MsgLifeTime: 0, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'Maintenance tonight' } }] } as ImPushBody,
    payloadHash: 'a'.repeat(64),
    version: 'v1',
    requiredApprovals: 1,
    approvals: [],
    expiresAt: iso(T0 + 86_400_000),
    history: [],
    outbox: { thread: { cursor: 0 }, dm: { cursor: 0 } },
    dedupKey: 'dedup-1',
    ...rest,
  };
}

async function created(store: Store, d: RequestDoc): Promise<Versioned<RequestDoc>> {
  expect(await store.createRequest(d)).toBe(true);
  return (await store.getRequest(d.id))!;
}

/** Write `patch` over the stored request at its current rev; fails the test on a conflict. */
async function move(store: Store, id: string, patch: Partial<RequestDoc>): Promise<Versioned<RequestDoc>> {
  const current = (await store.getRequest(id))!;
  const next = { ...current.data, ...patch };
  for (const key of Object.keys(patch) as Array<keyof RequestDoc>) if (patch[key] === undefined) delete next[key];
  expect(await store.writeRequest(current, next)).toEqual({ ok: true });
  return (await store.getRequest(id))!;
}

const ids = (rows: Array<Versioned<RequestDoc>>) => rows.map((r) => r.data.id);

const backends: Array<[string, () => Promise<string>]> = [
  ['a SQLite file', async () => sqliteUrl()],
  ['memory://', async () => 'memory://'],
  [
    'Redis',
    async () => {
      await flushRedis(redis.url);
      return redis.url;
    },
  ],
];

describe.each(backends)('the store on %s', (_name, freshUrl) => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore(await freshUrl());
  });
  afterEach(async () => {
    await store.close();
  });

  describe('requests', () => {
    it('creates a request once, at rev 1, and reads it back as written', async () => {
      const d = doc({ state: 'pending' });
      expect(await store.createRequest(d)).toBe(true);
      expect(await store.createRequest({ ...d, requesterId: 'U0OTHER' })).toBe(false);
      expect(await store.getRequest(d.id)).toEqual({ rev: 1, data: d });
      expect(await store.getRequest('br-missing')).toBeUndefined();
    });

    it('writes only at the revision read, one more each time', async () => {
      const v1 = await created(store, doc({ state: 'pending' }));
      expect(await store.writeRequest(v1, { ...v1.data, state: 'approved' })).toEqual({ ok: true });
      expect(await store.writeRequest(v1, { ...v1.data, state: 'cancelled' })).toEqual({ ok: false, reason: 'conflict' });
      const v2 = (await store.getRequest(v1.data.id))!;
      expect(v2).toEqual({ rev: 2, data: { ...v1.data, state: 'approved' } });
      expect(await store.writeRequest(v2, { ...v2.data, state: 'sending' })).toEqual({ ok: true });
      expect((await store.getRequest(v1.data.id))!.rev).toBe(3);
      const ghost = { rev: 1, data: doc() };
      expect(await store.writeRequest(ghost, ghost.data)).toEqual({ ok: false, reason: 'conflict' });
      expect(await store.getRequest(ghost.data.id)).toBeUndefined();
    });

    it('50 concurrent writes from the same revision: exactly one wins, and its document is the one stored', async () => {
      const v1 = await created(store, doc({ state: 'pending' }));
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.writeRequest(v1, { ...v1.data, state: 'cancelled', note: `writer ${i}` } as RequestDoc)),
      );
      const winners = results.flatMap((r, i) => (r.ok ? [i] : []));
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual(Array(49).fill({ ok: false, reason: 'conflict' }));
      const stored = (await store.getRequest(v1.data.id))!;
      expect(stored.rev).toBe(2);
      expect((stored.data as RequestDoc & { note: string }).note).toBe(`writer ${winners[0]}`);
    });
  });

  describe('write effects, in the same atomic step as the document', () => {
    it('reserve counts one below the limit; at the limit, or with the flag set, it fails with "limit" and changes nothing', async () => {
      const a = await created(store, doc({ state: 'pending' }));
      const b = await created(store, doc({ state: 'pending' }));
      const reserve = { key: 'quota:d1:used', limit: 1, unlessSet: 'quota:d1:exhausted' };

      expect(await store.writeRequest(a, { ...a.data, state: 'approved' }, { reserve })).toEqual({ ok: true });
      expect(await store.counter('quota:d1:used')).toBe(1);

      expect(await store.writeRequest(b, { ...b.data, state: 'approved' }, { reserve })).toEqual({ ok: false, reason: 'limit' });
      expect(await store.getRequest(b.data.id)).toEqual(b);
      expect(await store.counter('quota:d1:used')).toBe(1);

      // Below the limit, but Tencent said the day is used up (the flag): still refused, still nothing changed.
      const roomy = { ...reserve, limit: 5 };
      await store.add('quota:d1:exhausted', 1);
      expect(await store.writeRequest(b, { ...b.data, state: 'approved' }, { reserve: roomy })).toEqual({ ok: false, reason: 'limit' });
      expect(await store.getRequest(b.data.id)).toEqual(b);
      expect(await store.counter('quota:d1:used')).toBe(1);
      expect(await store.due('expiry', T0 + 10 * 86_400_000, 10)).toEqual([b.data.id]); // b's indexes did not move either
    });

    it('a write that loses on revision applies none of its effects', async () => {
      const a = await created(store, doc({ state: 'pending' }));
      await move(store, a.data.id, { state: 'cancelled' });
      const effects = { reserve: { key: 'q', limit: 5 }, flag: { key: 'f' }, slot: { key: 's', gapMs: 1000, nowMs: T0 } };
      expect(await store.writeRequest(a, { ...a.data, state: 'approved' }, effects)).toEqual({ ok: false, reason: 'conflict' });
      expect([await store.counter('q'), await store.counter('f'), await store.counter('s')]).toEqual([0, 0, 0]);
    });

    it('release gives one back but never goes below 0; flag adds one', async () => {
      const a = await created(store, doc({ state: 'unknown' }));
      expect(await store.writeRequest(a, { ...a.data, state: 'not_sent' }, { release: { key: 'used' } })).toEqual({ ok: true });
      expect(await store.counter('used')).toBe(0);

      await store.add('used', 2);
      const b = await created(store, doc({ state: 'unknown' }));
      expect(await store.writeRequest(b, { ...b.data, state: 'not_sent' }, { release: { key: 'used' } })).toEqual({ ok: true });
      expect(await store.counter('used')).toBe(1);

      const c = await created(store, doc({ state: 'sending' }));
      expect(await store.writeRequest(c, { ...c.data, state: 'failed' }, { flag: { key: 'exhausted' } })).toEqual({ ok: true });
      expect(await store.counter('exhausted')).toBe(1);
      expect((await store.getRequest(c.data.id))!.data.state).toBe('failed');
    });

    it('20 concurrent writes reserving a send slot get slots at least the gap apart, the first at once', async () => {
      const gapMs = 1100;
      const docs = await Promise.all(Array.from({ length: 20 }, () => created(store, doc({ state: 'pending' }))));
      const results = await Promise.all(
        docs.map((d) => store.writeRequest(d, { ...d.data, state: 'approved' }, { slot: { key: 'push-slot', gapMs, nowMs: T0 } })),
      );
      const slots = results.map((r) => (r.ok ? r.slotAt : undefined));
      expect(slots.every((s) => typeof s === 'number')).toBe(true);
      const sorted = (slots as number[]).sort((x, y) => x - y);
      expect(sorted[0]).toBe(T0);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(gapMs);
      expect(await store.counter('push-slot')).toBe(sorted[sorted.length - 1]);
    });
  });

  describe('indexes follow every state change', () => {
    it('expiry: pending requests, most overdue first, gone once decided or pushed back', async () => {
      const late = await created(store, doc({ state: 'pending', expiresAt: iso(T0 + 10_000) }));
      const later = await created(store, doc({ state: 'pending', expiresAt: iso(T0 + 20_000) }));
      const earliest = await created(store, doc({ state: 'pending', expiresAt: iso(T0 + 5_000) }));
      await created(store, doc({ state: 'pending', expiresAt: iso(T0 + 60_000) }));
      await created(store, doc({ state: 'rejected', expiresAt: iso(T0 + 1_000) })); // not pending: never due

      expect(await store.due('expiry', T0 + 30_000, 10)).toEqual([earliest, late, later].map((r) => r.data.id));
      expect(await store.due('expiry', T0 + 30_000, 2)).toEqual([earliest, late].map((r) => r.data.id));
      expect(await store.due('expiry', T0 + 10_000, 10)).toEqual([earliest, late].map((r) => r.data.id)); // due at exactly now
      expect(await store.due('expiry', T0 + 4_999, 10)).toEqual([]);

      await move(store, earliest.data.id, { state: 'expired' });
      await move(store, late.data.id, { expiresAt: iso(T0 + 50_000) }); // an edit renews the expiry
      expect(await store.due('expiry', T0 + 30_000, 10)).toEqual([later.data.id]);
    });

    it('lease: approved and sending requests by lease end; none once the push is recorded', async () => {
      const a = await created(store, doc({ state: 'approved', lease: { owner: 'i-1', until: iso(T0 + 3_000) } }));
      const b = await created(store, doc({ state: 'sending', lease: { owner: 'i-1', until: iso(T0 + 1_000) } }));
      await created(store, doc({ state: 'pending', lease: { owner: 'i-1', until: iso(T0) } })); // not leased state
      expect(await store.due('lease', T0 + 5_000, 10)).toEqual([b.data.id, a.data.id]);

      await move(store, a.data.id, { state: 'sending', lease: { owner: 'i-1', until: iso(T0 + 9_000) } }); // renewed
      expect(await store.due('lease', T0 + 5_000, 10)).toEqual([b.data.id]);
      await move(store, b.data.id, { state: 'sent', lease: undefined, result: { kind: 'sent', taskId: 'T-b', attempts: 1, at: iso(T0 + 2_000) } });
      expect(await store.due('lease', T0 + 10_000, 10)).toEqual([a.data.id]);
    });

    it('schedule: scheduled requests by send time; gone once claimed or cancelled', async () => {
      const a = await created(store, doc({ state: 'scheduled', scheduledFor: iso(T0 + 7_000) }));
      const b = await created(store, doc({ state: 'scheduled', scheduledFor: iso(T0 + 2_000) }));
      const c = await created(store, doc({ state: 'scheduled', scheduledFor: iso(T0 + 4_000) }));
      expect(await store.due('schedule', T0 + 5_000, 10)).toEqual([b.data.id, c.data.id]);
      expect(await store.due('schedule', T0 + 8_000, 10)).toEqual([b.data.id, c.data.id, a.data.id]);

      await move(store, b.data.id, { state: 'approved', lease: { owner: 'i-1', until: iso(T0 + 30_000) } });
      await move(store, c.data.id, { state: 'cancelled' });
      await move(store, a.data.id, { scheduledFor: iso(T0 + 20_000) }); // rescheduled
      expect(await store.due('schedule', T0 + 8_000, 10)).toEqual([]);
      expect(await store.due('schedule', T0 + 20_000, 10)).toEqual([a.data.id]);
    });

    it('outbox: requests owing Slack something, by when it is due; gone once delivered', async () => {
      const card = (atMs: number) => ({ thread: { cursor: 0 }, dm: { cursor: 0 }, card: { attempts: 0, nextAt: iso(atMs), mark: 'm' } });
      const a = await created(store, doc({ outbox: card(T0 + 300) }));
      const b = await created(store, doc({ outbox: card(T0 + 100) }));
      await created(store, doc()); // owes nothing
      expect(await store.due('outbox', T0 + 1_000, 10)).toEqual([b.data.id, a.data.id]);
      expect(await store.due('outbox', T0 + 200, 10)).toEqual([b.data.id]);

      await move(store, b.data.id, { outbox: { thread: { cursor: 0 }, dm: { cursor: 0 } } }); // delivered
      await move(store, a.data.id, { outbox: card(T0 + 5_000) }); // failed, retried later
      expect(await store.due('outbox', T0 + 1_000, 10)).toEqual([]);
      expect(await store.due('outbox', T0 + 5_000, 10)).toEqual([a.data.id]);
    });

    it('list: newest first, by states and requester, with a limit, and right after a state moves', async () => {
      const r1 = await created(store, doc({ state: 'pending', requesterId: 'U1', createdMs: T0 + 1 }));
      const r2 = await created(store, doc({ state: 'sent', requesterId: 'U2', createdMs: T0 + 2 }));
      const r3 = await created(store, doc({ state: 'pending', requesterId: 'U1', createdMs: T0 + 3 }));
      const r4 = await created(store, doc({ state: 'scheduled', requesterId: 'U1', createdMs: T0 + 4 }));
      const r5 = await created(store, doc({ state: 'failed', requesterId: 'U2', createdMs: T0 + 5 }));

      expect(ids(await store.list({ limit: 10 }))).toEqual([r5, r4, r3, r2, r1].map((r) => r.data.id));
      expect(ids(await store.list({ limit: 2 }))).toEqual([r5, r4].map((r) => r.data.id));
      expect(ids(await store.list({ states: ['pending', 'scheduled'], limit: 10 }))).toEqual([r4, r3, r1].map((r) => r.data.id));
      expect(ids(await store.list({ states: ['pending', 'scheduled'], limit: 2 }))).toEqual([r4, r3].map((r) => r.data.id));
      expect(ids(await store.list({ requester: 'U1', limit: 10 }))).toEqual([r4, r3, r1].map((r) => r.data.id));
      expect(ids(await store.list({ requester: 'U2', states: ['failed'], limit: 10 }))).toEqual([r5.data.id]);
      expect(await store.list({ requester: 'U9', limit: 10 })).toEqual([]);

      await move(store, r3.data.id, { state: 'rejected' });
      expect(ids(await store.list({ states: ['pending'], limit: 10 }))).toEqual([r1.data.id]);
      expect(ids(await store.list({ states: ['rejected'], limit: 10 }))).toEqual([r3.data.id]);
      expect(ids(await store.list({ requester: 'U1', states: ['pending', 'scheduled'], limit: 10 }))).toEqual([r4, r1].map((r) => r.data.id));
      const listed = (await store.list({ requester: 'U1', limit: 10 })).find((r) => r.data.id === r3.data.id)!;
      expect(listed).toEqual({ rev: 2, data: { ...r3.data, state: 'rejected' } });
    });

    it('list on a requester with a long history still finds the few in the asked states', async () => {
      const pending = await created(store, doc({ state: 'pending', requesterId: 'U1', createdMs: T0 }));
      for (let i = 1; i <= 60; i++) await created(store, doc({ state: 'sent', requesterId: 'U1', createdMs: T0 + i }));
      expect(ids(await store.list({ requester: 'U1', states: ['pending'], limit: 5 }))).toEqual([pending.data.id]);
    });

    it('idByTaskId: the request a TaskId came from, pushed or marked sent by a person', async () => {
      const pushed = await created(store, doc({ state: 'sending' }));
      await move(store, pushed.data.id, { state: 'sent', result: { kind: 'sent', taskId: 'TASK-1', attempts: 1, at: iso(T0) } });
      const marked = await created(store, doc({ state: 'unknown' }));
      expect(await store.idByTaskId('TASK-2')).toBeUndefined();
      await move(store, marked.data.id, { state: 'sent', resolution: { kind: 'sent', by: 'U0APP', at: iso(T0), taskId: 'TASK-2' } });
      expect(await store.idByTaskId('TASK-1')).toBe(pushed.data.id);
      expect(await store.idByTaskId('TASK-2')).toBe(marked.data.id);
      expect(await store.idByTaskId('TASK-3')).toBeUndefined();
    });

    it('lastSent: the latest push of a fingerprint since a time, and only pushes', async () => {
      const sent = (dedupKey: string, atMs: number) =>
        created(store, doc({ state: 'sent', dedupKey, result: { kind: 'sent', taskId: `T-${atMs}`, attempts: 1, at: iso(atMs) } }));
      const older = await sent('k1', T0 + 1_000);
      const newer = await sent('k1', T0 + 5_000);
      await sent('k2', T0 + 9_000);
      await created(store, doc({ state: 'pending', dedupKey: 'k1' }));
      await created(store, doc({ state: 'failed', dedupKey: 'k1' }));

      expect((await store.lastSent('k1', T0))?.data.id).toBe(newer.data.id);
      expect((await store.lastSent('k1', T0 + 5_000))?.data.id).toBe(newer.data.id);
      expect(await store.lastSent('k1', T0 + 5_001)).toBeUndefined();
      expect(await store.lastSent('k3', T0)).toBeUndefined();

      // A request that moves into "sent" joins the index at that moment.
      const fresh = await created(store, doc({ state: 'sending', dedupKey: 'k1' }));
      await move(store, fresh.data.id, { state: 'sent', result: { kind: 'sent', taskId: 'T-x', attempts: 1, at: iso(T0 + 7_000) } });
      expect((await store.lastSent('k1', T0))?.data.id).toBe(fresh.data.id);
      expect(older.data.id).not.toBe(fresh.data.id);
    });
  });

  describe('scan', () => {
    it('returns every request in [since, until) exactly once, oldest first, across pages, with many in the same millisecond', async () => {
      const all: RequestDoc[] = [];
      // 25 before the range, 300 in one millisecond at its start, 30 spread, 40 in one later millisecond, 20 at `until`.
      const times = [
        ...Array.from({ length: 25 }, (_, i) => T0 - 1 - i),
        ...Array(300).fill(T0),
        ...Array.from({ length: 30 }, (_, i) => T0 + 10 + i),
        ...Array(40).fill(T0 + 500),
        ...Array(20).fill(T0 + 1_000),
      ];
      // Created in random order, with ids not in time order, so neither hides a wrong sort.
      const shuffled = times.map((t) => ({ t, k: Math.random() })).sort((a, b) => a.k - b.k);
      for (const [i, { t }] of shuffled.entries()) {
        const d = doc({ createdMs: t, id: `br-${(Math.random().toString(36) + 'x').slice(2, 9)}${i}` });
        all.push(d);
        expect(await store.createRequest(d)).toBe(true);
      }
      const expected = all
        .filter((d) => Date.parse(d.createdAt) >= T0 && Date.parse(d.createdAt) < T0 + 1_000)
        .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((d) => d.id);
      expect(expected).toHaveLength(370);

      for (const pageSize of [7, 100, 300, 1_000]) {
        const seen: string[] = [];
        for await (const r of store.scan(T0, T0 + 1_000, pageSize)) seen.push(r.data.id);
        expect(seen, `page size ${pageSize}`).toEqual(expected);
      }
      const defaultPage: string[] = [];
      for await (const r of store.scan(T0, T0 + 1_000)) defaultPage.push(r.data.id);
      expect(defaultPage).toEqual(expected);

      const empty: string[] = [];
      for await (const r of store.scan(T0 + 2_000, T0 + 3_000, 10)) empty.push(r.data.id);
      expect(empty).toEqual([]);
    });

    it('returns each request once and as it now stands, even when requests change state during the scan', async () => {
      for (let i = 0; i < 40; i++) await store.createRequest(doc({ state: 'pending', createdMs: T0 + (i % 4) }));
      const seen: Array<Versioned<RequestDoc>> = [];
      for await (const r of store.scan(T0, T0 + 10, 5)) {
        seen.push(r);
        // Every state change rewrites the row / re-indexes the sorted sets: it must not move the request in the scan.
        await move(store, r.data.id, { state: 'rejected' });
      }
      expect(new Set(ids(seen)).size).toBe(40);
      expect(seen).toHaveLength(40);
    });
  });

  describe('counters and values (Keyv layout)', () => {
    it('incrementBelow under 50 concurrent calls never passes the limit', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, () => store.incrementBelow('quota:x:used', 10)));
      expect(results.filter((n) => n !== null).sort((a, b) => a! - b!)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(results.filter((n) => n === null)).toHaveLength(40);
      expect(await store.counter('quota:x:used')).toBe(10);
      expect(await store.incrementBelow('quota:x:used', 11)).toBe(11);
      expect(await store.incrementBelow('other', 0)).toBeNull();
      expect(await store.counter('other')).toBe(0);
    });

    it('add adds, subtracts and never goes below 0', async () => {
      expect(await store.counter('n')).toBe(0);
      expect(await store.add('n', 3)).toBe(3);
      expect(await store.add('n', -1)).toBe(2);
      expect(await store.add('n', -10)).toBe(0);
      expect(await store.add('fresh', -2)).toBe(0);
      const parallel = await Promise.all(Array.from({ length: 20 }, () => store.add('m', 1)));
      expect(parallel.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('reserveSlot spaces reservations by the gap, and never hands out a slot in the past', async () => {
      expect(await store.reserveSlot('slot', 1_000, T0)).toBe(T0);
      expect(await store.reserveSlot('slot', 1_000, T0 + 10)).toBe(T0 + 1_000);
      expect(await store.reserveSlot('slot', 1_000, T0 + 10)).toBe(T0 + 2_000);
      expect(await store.reserveSlot('slot', 1_000, T0 + 60_000)).toBe(T0 + 60_000);
      const parallel = (await Promise.all(Array.from({ length: 20 }, () => store.reserveSlot('p', 1_100, T0)))).sort((a, b) => a - b);
      expect(parallel).toEqual(Array.from({ length: 20 }, (_, i) => T0 + i * 1_100));
    });

    it('getValue/setValue keep JSON values, and forget them after their TTL', async () => {
      expect(await store.getValue('cache:missing')).toBeUndefined();
      await store.setValue('cache:obj', { size: 42, names: ['a', 'b'] });
      expect(await store.getValue('cache:obj')).toEqual({ size: 42, names: ['a', 'b'] });
      await store.setValue('cache:obj', { size: 43, names: [] });
      expect(await store.getValue('cache:obj')).toEqual({ size: 43, names: [] });
      await store.setValue('cache:short', 'soon gone', 150);
      expect(await store.getValue('cache:short')).toBe('soon gone');
      await eventually(async () => (await store.getValue('cache:short')) === undefined, { what: 'the value to expire', timeoutMs: 5_000 });
      expect(await store.getValue('cache:obj')).toEqual({ size: 43, names: [] });
    });

    it('ping answers while the store is up; a closed store refuses with StoreUnavailableError', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      const other = await openStore(store.kind === 'redis' ? redis.url : 'memory://');
      await other.close();
      await expect(other.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(other.getRequest('br-x')).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
});

describe('SQLite: one app instance per file, readers welcome', () => {
  it('a second openStore on the same file is refused, naming the cause, and works once the first is closed', async () => {
    const url = sqliteUrl();
    const first = await openStore(url);
    await first.createRequest(doc({ state: 'pending' }));
    const refused = await openStore(url).then(
      async (s) => {
        await s.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect((refused as Error).message).toMatch(/in use by another running instance/);
    await first.ping(); // the refused attempt did not disturb the running instance
    await first.close();

    const second = await openStore(url);
    expect(await second.list({ limit: 10 })).toHaveLength(1);
    await second.close();
  });

  it('a read-only reader scans while the app holds the store, and sees what it just wrote', async () => {
    const url = sqliteUrl();
    const app = await openStore(url);
    const a = await created(app, doc({ state: 'pending', createdMs: T0 }));
    const reader = await openStoreReader(url);
    try {
      const before: string[] = [];
      for await (const r of reader.scan(T0, T0 + 1, 10)) before.push(r.data.id);
      expect(before).toEqual([a.data.id]);
      // The app keeps writing while the reader is open.
      await move(app, a.data.id, { state: 'rejected' });
      const b = await created(app, doc({ createdMs: T0 }));
      const after: Array<Versioned<RequestDoc>> = [];
      for await (const r of reader.scan(T0, T0 + 1, 10)) after.push(r);
      expect(after.map((r) => [r.data.id, r.data.state])).toEqual(
        [[a.data.id, 'rejected'], [b.data.id, b.data.state]].sort((x, y) => (x[0]! < y[0]! ? -1 : 1)),
      );
    } finally {
      await reader.close();
      await app.close();
    }
  });

  it('the reader pages like the store: every request once, in creation order, across pages within one millisecond', async () => {
    const url = sqliteUrl();
    const app = await openStore(url);
    for (let i = 0; i < 45; i++) await app.createRequest(doc({ createdMs: T0 + (i < 30 ? 0 : i), id: `br-r${(i * 7919) % 45}` }));
    await app.createRequest(doc({ createdMs: T0 - 1 }));
    await app.createRequest(doc({ createdMs: T0 + 1_000 }));
    const reader = await openStoreReader(url);
    try {
      const fromStore: string[] = [];
      for await (const r of app.scan(T0, T0 + 1_000, 1_000)) fromStore.push(r.data.id);
      expect(fromStore).toHaveLength(45);
      for (const pageSize of [4, 30, 500]) {
        const fromReader: string[] = [];
        for await (const r of reader.scan(T0, T0 + 1_000, pageSize)) fromReader.push(r.data.id);
        expect(fromReader, `page size ${pageSize}`).toEqual(fromStore);
      }
    } finally {
      await reader.close();
      await app.close();
    }
  });

  it('a killed instance leaves no lock behind: the next start opens the file at once, with its data', async () => {
    const path = join(dir, `killed-${++fileSeq}.sqlite`);
    const child = spawnStoreHolder(path);
    try {
      await waitForLine(child, 'ready');
      const whileRunning = await openStore(`sqlite://${path}`).then(
        async (s) => {
          await s.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect((whileRunning as Error | undefined)?.message).toMatch(/in use by another running instance/);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
    }
    expect(child.signalCode).toBe('SIGKILL');
    const next = await openStore(`sqlite://${path}`);
    try {
      expect((await next.getRequest('br-from-child'))?.data.state).toBe('pending');
    } finally {
      await next.close();
    }
  });
});

/** A node process that opens the store, writes one request, says "ready" and holds the store until killed. */
function spawnStoreHolder(path: string): ChildProcess {
  const open = resolve(ROOT, 'src/broadcast/store/open.ts');
  const d = doc({ id: 'br-from-child', state: 'pending' });
  const script = `
    const { openStore } = await import(${JSON.stringify(pathToFileURL(open).href)});
    const store = await openStore(${JSON.stringify(`sqlite://${path}`)});
    await store.createRequest(${JSON.stringify(d)});
    process.stdout.write('ready\\n');
    setInterval(() => {}, 60_000);
  `;
  return spawn(process.execPath, ['--import', TSX_LOADER, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function waitForLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolveLine, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').includes(line)) resolveLine();
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`the child exited (${code}) before "${line}": ${err}`)));
  });
}

describe('Redis: down and back', () => {
  it('opening a store on a Redis that is not there fails at once with StoreUnavailableError (no endless retry)', async () => {
    const gone = await startRedis();
    await gone.stop();
    const opened = await openStore(gone.url).then(
      async (s) => {
        await s.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(opened).toBeInstanceOf(StoreUnavailableError);
    expect((opened as Error).message).toMatch(/Cannot connect to the Redis store/);
  });

  it('refuses with StoreUnavailableError while Redis is down, and works again once it is back', async () => {
    const own = await startRedis();
    const store = await openStore(own.url);
    try {
      const a = await created(store, doc({ state: 'pending' }));
      await own.kill();
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.getRequest(a.data.id)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.writeRequest(a, { ...a.data, state: 'rejected' })).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.createRequest(doc())).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.incrementBelow('q', 5)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.getValue('v')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.setValue('v', 1)).rejects.toBeInstanceOf(StoreUnavailableError);

      await own.restart(); // no persistence: an empty Redis on the same port
      await eventually(() => store.ping().then(() => true), { what: 'the store to reconnect', timeoutMs: 15_000 });
      // Scripts are loaded again after the restart emptied Redis's script cache.
      const b = await created(store, doc({ state: 'pending' }));
      expect(await store.writeRequest(b, { ...b.data, state: 'approved' }, { reserve: { key: 'q', limit: 1 } })).toEqual({ ok: true });
      expect(await store.incrementBelow('q', 5)).toBe(2);
      await store.setValue('v', { back: true });
      expect(await store.getValue('v')).toEqual({ back: true });
    } finally {
      await store.close();
      await own.stop();
    }
  });
});
