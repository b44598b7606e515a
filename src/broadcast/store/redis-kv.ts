import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { createClient } from '@redis/client';
import { type AtomicKv, NAMESPACE, StoreUnavailableError, type Versioned } from './atomic-kv.js';

// Values are stored in Keyv's envelope {"value": …} so Keyv reads what the scripts write.
const SWAP = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local doc = cjson.decode(cur)
if tonumber(doc.value.rev) ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`;

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
redis.call('SET', KEYS[1], '{"value":' .. n .. '}')
return n`;

const RESERVE_SLOT = `
local cur = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[1])
local slot = now
if cur then slot = math.max(now, tonumber(cjson.decode(cur).value) + tonumber(ARGV[2])) end
redis.call('SET', KEYS[1], '{"value":' .. string.format('%d', slot) .. '}')
return tostring(slot)`;

type Client = ReturnType<typeof createClient>;
const createRedisClient = (url: string): Client =>
  createClient({
    url,
    // Fail fast while disconnected instead of queueing commands: a decision that cannot be
    // recorded must be refused, not delayed into an unknown future.
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
  });

/**
 * Redis through @keyv/redis, shared by several app instances.
 * Claims and counters are Lua scripts, which Redis runs atomically.
 */
export class RedisKv implements AtomicKv {
  readonly kind = 'redis' as const;
  private constructor(
    private readonly keyv: Keyv,
    private readonly client: Client,
  ) {}

  static async open(url: string): Promise<RedisKv> {
    const client = createRedisClient(url);
    client.on('error', () => {
      /* reported through failing commands */
    });
    try {
      await client.connect();
    } catch (error) {
      await client.destroy?.();
      throw new StoreUnavailableError(`Cannot connect to the Redis store: ${(error as Error)?.message ?? error}`, {
        cause: error,
      });
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
    return new RedisKv(keyv, client);
  }

  /** Same key the adapter writes: namespace, '::', key. */
  private physical(key: string): string {
    return `${NAMESPACE}::${key}`;
  }

  private async run<T>(what: () => Promise<T>): Promise<T> {
    try {
      return await what();
    } catch (error) {
      throw new StoreUnavailableError(`Redis store error: ${(error as Error)?.message ?? error}`, { cause: error });
    }
  }

  private eval(script: string, key: string, args: Array<string | number>): Promise<unknown> {
    return this.run(() => this.client.eval(script, { keys: [this.physical(key)], arguments: args.map(String) }));
  }

  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    return this.run(async () => (await this.keyv.get<Versioned<T>>(key)) ?? undefined);
  }

  async create<T>(key: string, data: T): Promise<boolean> {
    const result = await this.run(() =>
      this.client.set(this.physical(key), JSON.stringify({ value: { rev: 1, data } }), { NX: true }),
    );
    return result === 'OK';
  }

  async swap<T>(key: string, expectedRev: number, data: T): Promise<boolean> {
    const next = JSON.stringify({ value: { rev: expectedRev + 1, data } });
    return (await this.eval(SWAP, key, [expectedRev, next])) === 1;
  }

  async delete(key: string): Promise<void> {
    await this.run(() => this.client.del(this.physical(key)));
  }

  async incrementBelow(key: string, limit: number): Promise<number | null> {
    const n = Number(await this.eval(INCREMENT_BELOW, key, [limit]));
    return n < 0 ? null : n;
  }

  async add(key: string, delta: number): Promise<number> {
    return Number(await this.eval(ADD, key, [delta]));
  }

  async counter(key: string): Promise<number> {
    const raw = await this.run(() => this.client.get(this.physical(key)));
    return raw ? Number((JSON.parse(raw) as { value: number }).value) : 0;
  }

  async reserveSlot(key: string, gapMs: number, nowMs: number): Promise<number> {
    return Number(await this.eval(RESERVE_SLOT, key, [nowMs, gapMs]));
  }

  async scan<T>(prefix: string): Promise<Array<{ key: string; value: Versioned<T> }>> {
    return this.run(async () => {
      const found: Array<{ key: string; value: Versioned<T> }> = [];
      const match = `${this.physical(prefix).replace(/([*?[\]\\])/g, '\\$1')}*`;
      for await (const keys of this.client.scanIterator({ MATCH: match, COUNT: 500 })) {
        const batch = Array.isArray(keys) ? keys : [keys];
        if (batch.length === 0) continue;
        const values = await this.client.mGet(batch);
        batch.forEach((k, i) => {
          const raw = values[i];
          if (raw) found.push({ key: k.slice(NAMESPACE.length + 2), value: (JSON.parse(raw) as { value: Versioned<T> }).value });
        });
      }
      return found.sort((a, b) => a.key.localeCompare(b.key));
    });
  }

  async close(): Promise<void> {
    // quit() waits for a reply that never comes while Redis is down; destroy() does not wait.
    if (this.client.isReady) await this.client.quit().catch(() => this.client.destroy());
    else this.client.destroy();
  }
}
