import { createHash } from 'node:crypto';
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { createClient } from '@redis/client';
import {
  NAMESPACE,
  StoreUnavailableError,
  storeError,
  type DueIndex,
  type ListQuery,
  type RequestDoc,
  type RequestIndex,
  type Store,
  type Versioned,
  type WriteEffects,
  type WriteResult,
} from './store.js';

// Layout: a request is a hash {rev, data} at "tim-broadcast::request:<id>"; its indexes are sorted
// sets (score = a time in ms) and one hash (TaskId → id) under "tim-broadcast::idx:…"; counters use
// Keyv's layout, {"value": n} at "tim-broadcast::<key>". One Lua script writes a request, its index
// changes and its counter effects together, so they can never disagree.

const P = `${NAMESPACE}::`;
const requestKey = (id: string) => `${P}request:${id}`;
const IDX = {
  created: `${P}idx:created`,
  state: (s: string) => `${P}idx:state:${s}`,
  requester: (u: string) => `${P}idx:requester:${u}`,
  task: `${P}idx:task`,
  dedup: (k: string) => `${P}idx:dedup:${k}`,
  outbox: `${P}idx:outbox`,
  lease: `${P}idx:lease`,
  expiry: `${P}idx:expiry`,
  schedule: `${P}idx:schedule`,
} as const;

/** [command, key, arg1, arg2?]: ZADD key score member | ZREM key member | HSET key field value | HDEL key field. */
type IndexOp = ['ZADD', string, number, string] | ['ZREM', string, string] | ['HSET', string, string, string] | ['HDEL', string, string];

/** The index changes that take a request from `before` (absent for a new one) to `after`. */
export function indexOps(id: string, before: RequestIndex | undefined, after: RequestIndex): IndexOp[] {
  const ops: IndexOp[] = [];
  const zset = (key: (ix: RequestIndex) => string | undefined, score: (ix: RequestIndex) => number | undefined) => {
    const oldKey = before ? key(before) : undefined;
    const oldScore = before ? score(before) : undefined;
    const newKey = key(after);
    const newScore = score(after);
    const present = newKey !== undefined && newScore !== undefined;
    if (oldKey !== undefined && oldScore !== undefined && (!present || oldKey !== newKey)) ops.push(['ZREM', oldKey, id]);
    if (present && (oldKey !== newKey || oldScore !== newScore)) ops.push(['ZADD', newKey!, newScore!, id]);
  };
  zset(() => IDX.created, (ix) => ix.createdMs);
  zset((ix) => IDX.state(ix.state), (ix) => ix.createdMs);
  zset((ix) => IDX.requester(ix.requester), (ix) => ix.createdMs);
  zset((ix) => (ix.dedupKey ? IDX.dedup(ix.dedupKey) : undefined), (ix) => ix.sentMs);
  zset(() => IDX.outbox, (ix) => ix.outboxDueMs);
  zset(() => IDX.lease, (ix) => ix.leaseUntilMs);
  zset(() => IDX.expiry, (ix) => ix.expiresMs);
  zset(() => IDX.schedule, (ix) => ix.scheduleMs);
  if (before?.taskId && before.taskId !== after.taskId) ops.push(['HDEL', IDX.task, before.taskId]);
  if (after.taskId && after.taskId !== before?.taskId) ops.push(['HSET', IDX.task, after.taskId, id]);
  return ops;
}

// KEYS[1] = the request; KEYS[2..] = keys used by ops and effects (referred to by position).
// ARGV[1] = 'create' | expected rev; ARGV[2] = the document JSON; ARGV[3] = its index ops;
// ARGV[4] = effects; ARGV[5], ARGV[6] = the document and ops to write instead when the push slot is
// free at once (or ''). A script cannot roll back, so every check comes before the first write.
const WRITE = `
local rev = redis.call('HGET', KEYS[1], 'rev')
if ARGV[1] == 'create' then
  if rev then return {0} end
  rev = 0
else
  if (not rev) or tonumber(rev) ~= tonumber(ARGV[1]) then return {0} end
end
local fx = cjson.decode(ARGV[4])
local function num(k)
  local v = redis.call('GET', KEYS[k])
  if not v then return 0 end
  return tonumber(cjson.decode(v).value)
end
local function put(k, n) redis.call('SET', KEYS[k], '{"value":' .. string.format('%d', n) .. '}') end
if fx.reserve then
  if fx.reserve.unless and num(fx.reserve.unless) > 0 then return {-1} end
  if num(fx.reserve.k) >= tonumber(fx.reserve.limit) then return {-1} end
end
local slot = nil
local ready = false
if fx.slot then
  local now = tonumber(fx.slot.now)
  slot = now
  local cur = redis.call('GET', KEYS[fx.slot.k])
  if cur then slot = math.max(now, tonumber(cjson.decode(cur).value) + tonumber(fx.slot.gap)) end
  put(fx.slot.k, slot)
  ready = ARGV[5] ~= nil and ARGV[5] ~= '' and slot <= now
end
local doc = ARGV[2]
local ops = ARGV[3]
if ready then
  doc = ARGV[5]
  ops = ARGV[6]
end
if fx.reserve then put(fx.reserve.k, num(fx.reserve.k) + 1) end
redis.call('HSET', KEYS[1], 'rev', tonumber(rev) + 1, 'data', doc)
for _, op in ipairs(cjson.decode(ops)) do
  local c = op[1]
  local k = KEYS[op[2]]
  if c == 'ZADD' then redis.call('ZADD', k, op[3], op[4])
  elseif c == 'ZREM' then redis.call('ZREM', k, op[3])
  elseif c == 'HSET' then redis.call('HSET', k, op[3], op[4])
  elseif c == 'HDEL' then redis.call('HDEL', k, op[3]) end
end
if fx.release then put(fx.release, math.max(0, num(fx.release) - 1)) end
if fx.flag then put(fx.flag, num(fx.flag) + 1) end
if slot then return {1, string.format('%d', slot), ready and 1 or 0} end
return {1}`;

const INCREMENT_BELOW = `
local cur = redis.call('GET', KEYS[1])
local n = 0
if cur then n = tonumber(cjson.decode(cur).value) end
if n >= tonumber(ARGV[1]) then return -1 end
n = n + 1
redis.call('SET', KEYS[1], '{"value":' .. n .. '}')
return n`;

const ADD = `
local cur = redis.call('GET', KEYS[1])
local n = 0
if cur then n = tonumber(cjson.decode(cur).value) end
n = math.max(0, n + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], '{"value":' .. string.format('%d', n) .. '}')
return n`;

const RESERVE_SLOT = `
local cur = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[1])
local slot = now
if cur then slot = math.max(now, tonumber(cjson.decode(cur).value) + tonumber(ARGV[2])) end
redis.call('SET', KEYS[1], '{"value":' .. string.format('%d', slot) .. '}')
return tostring(slot)`;

type Client = ReturnType<typeof createClient>;

/**
 * Redis, shared by several app instances. Writes are Lua scripts (atomic in Redis); reads are plain
 * commands. The client fails fast while disconnected instead of queueing: a decision that cannot be
 * recorded must be refused, not delayed into an unknown future.
 */
export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  private readonly shas = new Map<string, string>();

  private constructor(
    private readonly keyv: Keyv,
    private readonly client: Client,
    private readonly indexOf: (doc: RequestDoc) => RequestIndex,
  ) {}

  static async open(url: string, indexOf: (doc: RequestDoc) => RequestIndex): Promise<RedisStore> {
    let connected = false;
    const client: Client = createClient({
      url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 2000,
        // Until the first connection, do not retry: node-redis would otherwise retry the first
        // connect() forever, so a start (or an audit export) on an unreachable Redis would hang
        // instead of failing with the reason. Once connected, reconnect with backoff.
        reconnectStrategy: (retries: number) => (connected ? Math.min(100 * 2 ** retries, 2000) : false),
      },
    }) as unknown as Client;
    client.on('error', () => {
      /* reported through failing commands */
    });
    try {
      await client.connect();
      connected = true;
    } catch (error) {
      try {
        client.destroy();
      } catch {
        /* already closed by the failed connect */
      }
      throw storeError('Cannot connect to the Redis store', error);
    }
    const adapter = new KeyvRedis(client as never, { throwOnErrors: true, throwOnConnectError: true });
    const keyv = new Keyv({
      store: adapter,
      namespace: NAMESPACE,
      useKeyPrefix: false,
      serialize: JSON.stringify,
      deserialize: (s: string) => JSON.parse(s),
      throwOnErrors: true,
    });
    keyv.on('error', () => {
      /* thrown to the caller because throwOnErrors is set */
    });
    return new RedisStore(keyv, client, indexOf);
  }

  private async run<T>(what: () => Promise<T>): Promise<T> {
    try {
      return await what();
    } catch (error) {
      throw storeError('Redis store error', error);
    }
  }

  private cmd<T = unknown>(args: string[]): Promise<T> {
    return this.run(() => this.client.sendCommand(args) as Promise<T>);
  }

  /** EVALSHA, loading the script on first use (or after a Redis restart emptied the script cache). */
  private async script<T = unknown>(source: string, keys: string[], args: string[]): Promise<T> {
    let sha = this.shas.get(source);
    if (!sha) {
      sha = createHash('sha1').update(source).digest('hex');
      this.shas.set(source, sha);
    }
    const call = () => this.client.sendCommand(['EVALSHA', sha!, String(keys.length), ...keys, ...args]) as Promise<T>;
    return this.run(async () => {
      try {
        return await call();
      } catch (error) {
        if (!String((error as Error)?.message ?? error).includes('NOSCRIPT')) throw error;
        await this.client.sendCommand(['SCRIPT', 'LOAD', source]);
        return call();
      }
    });
  }

  private counterKey(key: string): string {
    return `${P}${key}`;
  }

  private async write(id: string, mode: 'create' | number, doc: RequestDoc, before: RequestIndex | undefined, effects: WriteEffects): Promise<WriteResult> {
    const keys = [requestKey(id)];
    const at = (key: string) => {
      let i = keys.indexOf(key);
      if (i < 0) i = keys.push(key) - 1;
      return i + 1; // Lua is 1-based
    };
    const opsFor = (d: RequestDoc) =>
      indexOps(id, before, this.indexOf(d)).map((op) => {
        const [c, key, ...rest] = op;
        return [c, at(key), ...rest.map(String)];
      });
    const ops = opsFor(doc);
    const ready = effects.slot?.readyDoc;
    const fx: Record<string, unknown> = {};
    if (effects.reserve) {
      fx.reserve = {
        k: at(this.counterKey(effects.reserve.key)),
        limit: effects.reserve.limit,
        ...(effects.reserve.unlessSet ? { unless: at(this.counterKey(effects.reserve.unlessSet)) } : {}),
      };
    }
    if (effects.release) fx.release = at(this.counterKey(effects.release.key));
    if (effects.flag) fx.flag = at(this.counterKey(effects.flag.key));
    if (effects.slot) fx.slot = { k: at(this.counterKey(effects.slot.key)), gap: effects.slot.gapMs, now: effects.slot.nowMs };
    const reply = await this.script<Array<number | string>>(WRITE, keys, [
      mode === 'create' ? 'create' : String(mode),
      JSON.stringify(doc),
      JSON.stringify(ops),
      JSON.stringify(Object.keys(fx).length ? fx : { none: true }),
      ready ? JSON.stringify(ready) : '',
      ready ? JSON.stringify(opsFor(ready)) : '[]',
    ]);
    const status = Number(reply[0]);
    if (status === 1) {
      if (reply[1] === undefined) return { ok: true };
      return { ok: true, slotAt: Number(reply[1]), ...(Number(reply[2]) === 1 ? { wroteReady: true } : {}) };
    }
    return { ok: false, reason: status === -1 ? 'limit' : 'conflict' };
  }

  async createRequest(doc: RequestDoc): Promise<boolean> {
    return (await this.write(doc.id, 'create', doc, undefined, {})).ok;
  }

  async getRequest(id: string): Promise<Versioned<RequestDoc> | undefined> {
    const [rev, data] = await this.cmd<Array<string | null>>(['HMGET', requestKey(id), 'rev', 'data']);
    if (rev === null || rev === undefined || data === null || data === undefined) return undefined;
    return { rev: Number(rev), data: JSON.parse(data) as RequestDoc };
  }

  async writeRequest(current: Versioned<RequestDoc>, next: RequestDoc, effects: WriteEffects = {}): Promise<WriteResult> {
    // The index changes are computed from the version read; the script applies them only at that rev.
    return this.write(current.data.id, current.rev, next, this.indexOf(current.data), effects);
  }

  private async many(ids: string[]): Promise<Array<Versioned<RequestDoc>>> {
    if (ids.length === 0) return [];
    const out: Array<Versioned<RequestDoc>> = [];
    // One round trip for the page: MULTI-less pipelining of HMGETs.
    const replies = await this.run(() =>
      Promise.all(ids.map((id) => this.client.sendCommand(['HMGET', requestKey(id), 'rev', 'data']) as Promise<Array<string | null>>)),
    );
    for (const [rev, data] of replies) if (rev && data) out.push({ rev: Number(rev), data: JSON.parse(data) as RequestDoc });
    return out;
  }

  async due(index: DueIndex, nowMs: number, limit: number): Promise<string[]> {
    return this.cmd<string[]>(['ZRANGEBYSCORE', IDX[index], '-inf', String(nowMs), 'LIMIT', '0', String(limit)]);
  }

  async list(q: ListQuery): Promise<Array<Versioned<RequestDoc>>> {
    const states = q.states?.length ? new Set(q.states) : undefined;
    if (q.requester === undefined && states && states.size > 0) {
      // Newest `limit` of each state, merged: bounded by limit × states, never by history.
      const ids = await Promise.all(
        [...states].map((s) => this.cmd<string[]>(['ZREVRANGEBYSCORE', IDX.state(s), '+inf', '-inf', 'WITHSCORES', 'LIMIT', '0', String(q.limit)])),
      );
      const scored: Array<{ id: string; score: number }> = [];
      for (const flat of ids) for (let i = 0; i < flat.length; i += 2) scored.push({ id: flat[i]!, score: Number(flat[i + 1]) });
      scored.sort((a, b) => b.score - a.score || (a.id < b.id ? 1 : -1));
      return this.many(scored.slice(0, q.limit).map((s) => s.id));
    }
    const key = q.requester !== undefined ? IDX.requester(q.requester) : IDX.created;
    const out: Array<Versioned<RequestDoc>> = [];
    const page = Math.max(q.limit, 20);
    for (let offset = 0; out.length < q.limit; offset += page) {
      const ids = await this.cmd<string[]>(['ZREVRANGEBYSCORE', key, '+inf', '-inf', 'LIMIT', String(offset), String(page)]);
      for (const r of await this.many(ids)) if (!states || states.has(r.data.state)) out.push(r);
      if (ids.length < page) break;
    }
    return out.slice(0, q.limit);
  }

  async idByTaskId(taskId: string): Promise<string | undefined> {
    return (await this.cmd<string | null>(['HGET', IDX.task, taskId])) ?? undefined;
  }

  async lastSent(dedupKey: string, sinceMs: number): Promise<Versioned<RequestDoc> | undefined> {
    const ids = await this.cmd<string[]>(['ZREVRANGEBYSCORE', IDX.dedup(dedupKey), '+inf', String(sinceMs), 'LIMIT', '0', '1']);
    return (await this.many(ids))[0];
  }

  async *scan(sinceMs: number, untilMs: number, pageSize = 500): AsyncIterable<Versioned<RequestDoc>> {
    // Keyset over (score, member): members with equal scores come in lexicographic order.
    let fromScore = sinceMs;
    let seenAtScore = 0;
    for (;;) {
      const flat = await this.cmd<string[]>([
        'ZRANGEBYSCORE', IDX.created, String(fromScore), `(${untilMs}`, 'WITHSCORES', 'LIMIT', String(seenAtScore), String(pageSize),
      ]);
      if (flat.length === 0) return;
      const ids: string[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        const id = flat[i]!;
        const score = Number(flat[i + 1]);
        ids.push(id);
        if (score === fromScore) seenAtScore++;
        else {
          fromScore = score;
          seenAtScore = 1;
        }
      }
      for (const r of await this.many(ids)) yield r;
      if (ids.length < pageSize) return;
    }
  }

  async counter(key: string): Promise<number> {
    const raw = await this.cmd<string | null>(['GET', this.counterKey(key)]);
    return raw ? Number((JSON.parse(raw) as { value: number }).value) : 0;
  }

  async incrementBelow(key: string, limit: number): Promise<number | null> {
    const n = Number(await this.script(INCREMENT_BELOW, [this.counterKey(key)], [String(limit)]));
    return n < 0 ? null : n;
  }

  async add(key: string, delta: number): Promise<number> {
    return Number(await this.script(ADD, [this.counterKey(key)], [String(delta)]));
  }

  async reserveSlot(key: string, gapMs: number, nowMs: number): Promise<number> {
    return Number(await this.script(RESERVE_SLOT, [this.counterKey(key)], [String(nowMs), String(gapMs)]));
  }

  async getValue<T>(key: string): Promise<T | undefined> {
    return this.run(async () => ((await this.keyv.get<T>(key)) ?? undefined) as T | undefined);
  }

  async setValue<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    await this.run(() => this.keyv.set(key, value, ttlMs));
  }

  async ping(): Promise<void> {
    const pong = await this.cmd<string>(['PING']);
    if (pong !== 'PONG') throw new StoreUnavailableError(`Redis answered ${String(pong)} to PING`);
  }

  async close(): Promise<void> {
    // quit() waits for a reply that never comes while Redis is down; destroy() does not wait.
    if (this.client.isReady) await this.client.quit().catch(() => this.client.destroy());
    else this.client.destroy();
  }
}
