/**
 * The store's contract with Keyv. Counters (quota, push slot) and small values live in Keyv's own
 * storage layout, and the store changes counters natively on that layout (Keyv has no atomic
 * operations). So an upgrade of `keyv`, `@keyv/sqlite` or `@keyv/redis` that moves its table, its
 * key prefix or its value envelope would silently split the two views: these tests fail first.
 *
 * Each test writes through a plain Keyv configured as the store configures it and reads through
 * the store's native operations, and the other way round, and pins the physical layout with raw
 * reads. On failure: read the new layout of the upgraded package, change sqlite-store.ts /
 * redis-store.ts to match (and migrate existing data), then update this test.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import KeyvRedis from '@keyv/redis';
import { createClient } from '@redis/client';
import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/broadcast/store/open.js';
import { KEYV_TABLE } from '../../src/broadcast/store/sqlite-store.js';
import { NAMESPACE, type Store } from '../../src/broadcast/store/store.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';

const ROOT = resolve(import.meta.dirname, '../..');
const version = (pkg: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
const VERSIONS = `keyv ${version('keyv')}, @keyv/sqlite ${version('@keyv/sqlite')}, @keyv/redis ${version('@keyv/redis')}`;

/** The assertion message: what broke and what to do. */
const layout = (what: string) =>
  `The store and Keyv disagree on Keyv's storage layout (${VERSIONS}): ${what}. The store's native ` +
  'counter operations depend on that layout; keyv, @keyv/sqlite and @keyv/redis are upgraded together with this test';

// The serializer the store gives Keyv (sqlite-store.ts, redis-store.ts): plain JSON, so the value
// envelope {"value": …, "expires": …} is readable by SQL's json_extract and Lua's cjson.
const JSON_SERDE = { serialize: JSON.stringify, deserialize: (s: string) => JSON.parse(s) };

const dir = mkdtempSync(join(tmpdir(), 'tb-contract-'));
let redis: RedisHandle;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const uniqueKey = (what: string) => `${what}:${++n}`;

describe('SQLite: the store and a plain Keyv on the same file see the same counters and values', () => {
  const path = join(dir, 'contract.sqlite');
  let store: Store;
  let keyv: Keyv;
  let raw: sqlite3.Database;
  const rawAll = <T>(sql: string, ...params: unknown[]) =>
    new Promise<T[]>((ok, fail) => raw.all(sql, params, (e, rows) => (e ? fail(e) : ok(rows as T[]))));

  beforeAll(async () => {
    store = await openStore(`sqlite://${path}`);
    // As SqliteStore.open configures it: @keyv/sqlite on the file, table KEYV_TABLE, namespace, JSON.
    keyv = new Keyv({ store: new KeyvSqlite({ uri: `sqlite://${path}`, table: KEYV_TABLE, busyTimeout: 2000 }), namespace: NAMESPACE, ...JSON_SERDE, throwOnErrors: true });
    raw = await new Promise((ok, fail) => {
      const db = new sqlite3.Database(path, sqlite3.OPEN_READONLY, (e) => (e ? fail(e) : ok(db)));
    });
  });
  afterAll(async () => {
    await keyv.disconnect();
    await new Promise((ok) => raw.close(ok));
    await store.close();
  });

  it(`Keyv keeps its data in table "${KEYV_TABLE}" with columns key and value`, async () => {
    await keyv.set(uniqueKey('probe'), 1);
    const columns = await rawAll<{ name: string }>(`PRAGMA table_info(${KEYV_TABLE})`);
    expect(columns.map((c) => c.name), layout(`@keyv/sqlite no longer stores in table "${KEYV_TABLE}" (key, value)`)).toEqual(['key', 'value']);
  });

  it('a counter Keyv wrote is read and changed by the store, and Keyv reads the result', async () => {
    const key = uniqueKey('quota:2026-03-01:used');
    await keyv.set(key, 4);
    const rows = await rawAll<{ key: string; value: string }>(`SELECT key, value FROM ${KEYV_TABLE} WHERE key LIKE ?`, `%${key}`);
    expect(rows.map((r) => r.key), layout(`Keyv no longer stores key "${key}" as "${NAMESPACE}:${key}"`)).toEqual([`${NAMESPACE}:${key}`]);
    expect(JSON.parse(rows[0]!.value), layout('Keyv no longer wraps a value as {"value": …}')).toEqual({ value: 4 });

    expect(await store.counter(key), layout('the store cannot read a counter Keyv wrote')).toBe(4);
    expect(await store.incrementBelow(key, 5)).toBe(5);
    expect(await store.incrementBelow(key, 5)).toBeNull();
    expect(await store.add(key, -2)).toBe(3);
    expect(await keyv.get(key), layout('Keyv cannot read a counter the store changed')).toBe(3);
  });

  it('counters the store creates (add, reserveSlot, write effects) are Keyv values under Keyv keys', async () => {
    const added = uniqueKey('n');
    const slot = uniqueKey('push-slot');
    const used = uniqueKey('quota:used');
    expect(await store.add(added, 2)).toBe(2);
    expect(await store.reserveSlot(slot, 1100, 1_772_323_200_000)).toBe(1_772_323_200_000);
    expect(await store.reserveSlot(slot, 1100, 1_772_323_200_000)).toBe(1_772_323_201_100);
    const doc = { id: `br-contract-${n}`, state: 'pending', requesterId: 'U1', createdAt: new Date(0).toISOString(), expiresAt: new Date(0).toISOString(), history: [], outbox: { thread: { cursor: 0 }, dm: { cursor: 0 } } };
    await store.createRequest(doc as never);
    const current = (await store.getRequest(doc.id))!;
    expect(await store.writeRequest(current, { ...current.data, state: 'approved' }, { reserve: { key: used, limit: 10 }, flag: { key: `${used}:flag` } })).toEqual({ ok: true });

    expect(await keyv.get(added), layout('Keyv cannot read a counter created by the store')).toBe(2);
    expect(await keyv.get(slot), layout('Keyv cannot read the push slot')).toBe(1_772_323_201_100);
    expect(await keyv.get(used), layout('Keyv cannot read a counter reserved in a request write')).toBe(1);
    expect(await keyv.get(`${used}:flag`)).toBe(1);
    const rows = await rawAll<{ value: string }>(`SELECT value FROM ${KEYV_TABLE} WHERE key = ?`, `${NAMESPACE}:${added}`);
    expect(rows.map((r) => JSON.parse(r.value))).toEqual([{ value: 2 }]);
  });

  it('values: the store and Keyv read each other, TTL included', async () => {
    const mine = uniqueKey('cache:mine');
    const theirs = uniqueKey('cache:theirs');
    await store.setValue(mine, { size: 7 }, 60_000);
    expect(await keyv.get(mine)).toEqual({ size: 7 });
    const [row] = await rawAll<{ value: string }>(`SELECT value FROM ${KEYV_TABLE} WHERE key = ?`, `${NAMESPACE}:${mine}`);
    const envelope = JSON.parse(row!.value) as { value: unknown; expires: number };
    expect(envelope.value, layout('the value envelope moved')).toEqual({ size: 7 });
    expect(envelope.expires - Date.now(), layout('Keyv no longer keeps the expiry as epoch ms in "expires"')).toBeGreaterThan(50_000);
    await keyv.set(theirs, ['a', 'b']);
    expect(await store.getValue(theirs)).toEqual(['a', 'b']);
  });
});

describe('Redis: the store and a plain Keyv on the same server see the same counters and values', () => {
  let store: Store;
  let keyv: Keyv;
  let client: ReturnType<typeof createClient>;
  let raw: ReturnType<typeof createClient>;

  beforeAll(async () => {
    store = await openStore(redis.url);
    client = createClient({ url: redis.url });
    await client.connect();
    // As RedisStore.open configures it: @keyv/redis on a client, Keyv's namespace without Keyv's own prefix, JSON.
    keyv = new Keyv({
      store: new KeyvRedis(client as never, { throwOnErrors: true, throwOnConnectError: true }),
      namespace: NAMESPACE,
      useKeyPrefix: false,
      ...JSON_SERDE,
      throwOnErrors: true,
    });
    raw = createClient({ url: redis.url });
    await raw.connect();
  });
  afterAll(async () => {
    await raw.quit();
    if (client.isOpen) await client.quit();
    await store.close();
  });

  it('a counter Keyv wrote is read and changed by the store, and Keyv reads the result', async () => {
    const key = uniqueKey('quota:2026-03-01:used');
    await keyv.set(key, 4);
    const physical = `${NAMESPACE}::${key}`;
    expect(await raw.sendCommand(['KEYS', `*${key}`]), layout(`Keyv no longer stores key "${key}" as "${physical}"`)).toEqual([physical]);
    expect(await raw.sendCommand(['TYPE', physical]), layout('Keyv no longer stores a value as a Redis string')).toBe('string');
    expect(JSON.parse(String(await raw.sendCommand(['GET', physical]))), layout('Keyv no longer wraps a value as {"value": …}')).toEqual({ value: 4 });

    expect(await store.counter(key), layout('the store cannot read a counter Keyv wrote')).toBe(4);
    expect(await store.incrementBelow(key, 5)).toBe(5);
    expect(await store.incrementBelow(key, 5)).toBeNull();
    expect(await store.add(key, -2)).toBe(3);
    expect(await keyv.get(key), layout('Keyv cannot read a counter the store changed')).toBe(3);
  });

  it('counters the store creates (add, reserveSlot, write effects) are Keyv values under Keyv keys', async () => {
    const added = uniqueKey('n');
    const slot = uniqueKey('push-slot');
    const used = uniqueKey('quota:used');
    expect(await store.add(added, 2)).toBe(2);
    expect(await store.reserveSlot(slot, 1100, 1_772_323_200_000)).toBe(1_772_323_200_000);
    expect(await store.reserveSlot(slot, 1100, 1_772_323_200_000)).toBe(1_772_323_201_100);
    const doc = { id: `br-contract-${n}`, state: 'pending', requesterId: 'U1', createdAt: new Date(0).toISOString(), expiresAt: new Date(0).toISOString(), history: [], outbox: { thread: { cursor: 0 }, dm: { cursor: 0 } } };
    await store.createRequest(doc as never);
    const current = (await store.getRequest(doc.id))!;
    expect(await store.writeRequest(current, { ...current.data, state: 'approved' }, { reserve: { key: used, limit: 10 }, flag: { key: `${used}:flag` } })).toEqual({ ok: true });

    expect(await keyv.get(added), layout('Keyv cannot read a counter created by the store')).toBe(2);
    expect(await keyv.get(slot), layout('Keyv cannot read the push slot')).toBe(1_772_323_201_100);
    expect(await keyv.get(used), layout('Keyv cannot read a counter reserved in a request write')).toBe(1);
    expect(await keyv.get(`${used}:flag`)).toBe(1);
    expect(JSON.parse(String(await raw.sendCommand(['GET', `${NAMESPACE}::${added}`])))).toEqual({ value: 2 });
  });

  it('values: the store and Keyv read each other, TTL included', async () => {
    const mine = uniqueKey('cache:mine');
    const theirs = uniqueKey('cache:theirs');
    await store.setValue(mine, { size: 7 }, 60_000);
    expect(await keyv.get(mine)).toEqual({ size: 7 });
    const physical = `${NAMESPACE}::${mine}`;
    expect((JSON.parse(String(await raw.sendCommand(['GET', physical]))) as { value: unknown }).value, layout('the value envelope moved')).toEqual({ size: 7 });
    expect(Number(await raw.sendCommand(['PTTL', physical])), layout('@keyv/redis no longer sets a Redis TTL')).toBeGreaterThan(50_000);
    await keyv.set(theirs, ['a', 'b']);
    expect(await store.getValue(theirs)).toEqual(['a', 'b']);
  });
});
