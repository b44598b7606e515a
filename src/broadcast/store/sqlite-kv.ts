import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import { type AtomicKv, NAMESPACE, StoreUnavailableError, type Versioned } from './atomic-kv.js';

const TABLE = 'keyv';

/**
 * SQLite through @keyv/sqlite. Atomicity comes from single SQL statements
 * (conditional UPDATE / UPSERT ... RETURNING) on the adapter's own table.
 * The file is held with an exclusive lock so a second instance cannot share it.
 */
export class SqliteKv implements AtomicKv {
  readonly kind = 'sqlite' as const;
  private constructor(
    private readonly keyv: Keyv,
    private readonly adapter: KeyvSqlite,
  ) {}

  static async open(path: string): Promise<SqliteKv> {
    const inMemory = path === ':memory:';
    if (!inMemory) mkdirSync(dirname(path), { recursive: true });
    // busyTimeout 0: a file locked by another instance fails at once instead of waiting.
    const adapter = new KeyvSqlite({ uri: `sqlite://${path}`, table: TABLE, busyTimeout: 0 });
    adapter.on('error', () => {
      /* surfaced through the failing query */
    });
    const keyv = new Keyv({
      store: adapter,
      namespace: NAMESPACE,
      serialize: JSON.stringify,
      deserialize: (s: string) => JSON.parse(s),
      throwOnErrors: true,
    });
    keyv.on('error', () => {
      /* thrown to the caller because throwOnErrors is set */
    });
    const kv = new SqliteKv(keyv, adapter);
    try {
      if (!inMemory) {
        // One writer only: exclusive locking mode keeps the lock until the connection closes.
        await adapter.query('PRAGMA locking_mode = EXCLUSIVE');
        await adapter.query('BEGIN EXCLUSIVE');
        await adapter.query('COMMIT');
      } else {
        await adapter.query('SELECT 1');
      }
    } catch (error) {
      await adapter.disconnect().catch(() => undefined);
      const busy = String((error as Error)?.message ?? error).includes('SQLITE_BUSY');
      throw new StoreUnavailableError(
        busy
          ? `The SQLite store ${path} is in use by another running instance of tim-broadcast. ` +
              'SQLite is for a single instance; use STORE_URL=redis://… to run several.'
          : `Cannot open the SQLite store ${path}: ${(error as Error)?.message ?? error}`,
        { cause: error },
      );
    }
    return kv;
  }

  private physical(key: string): string {
    return `${NAMESPACE}:${key}`;
  }

  private async sql<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]> {
    try {
      return (await this.adapter.query(sql, ...params)) as T[];
    } catch (error) {
      throw new StoreUnavailableError(`SQLite store error: ${(error as Error)?.message ?? error}`, { cause: error });
    }
  }

  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    try {
      return (await this.keyv.get<Versioned<T>>(key)) ?? undefined;
    } catch (error) {
      throw new StoreUnavailableError(`SQLite store error: ${(error as Error)?.message ?? error}`, { cause: error });
    }
  }

  async create<T>(key: string, data: T): Promise<boolean> {
    const rows = await this.sql(
      `INSERT INTO ${TABLE}(key, value) VALUES(?, ?) ON CONFLICT(key) DO NOTHING RETURNING key`,
      this.physical(key),
      JSON.stringify({ value: { rev: 1, data } }),
    );
    return rows.length === 1;
  }

  async swap<T>(key: string, expectedRev: number, data: T): Promise<boolean> {
    const rows = await this.sql(
      `UPDATE ${TABLE} SET value = ? WHERE key = ? AND json_extract(value, '$.value.rev') = ? RETURNING key`,
      JSON.stringify({ value: { rev: expectedRev + 1, data } }),
      this.physical(key),
      expectedRev,
    );
    return rows.length === 1;
  }

  async delete(key: string): Promise<void> {
    await this.sql(`DELETE FROM ${TABLE} WHERE key = ?`, this.physical(key));
  }

  async incrementBelow(key: string, limit: number): Promise<number | null> {
    if (limit <= 0) return null;
    const rows = await this.sql<{ n: number }>(
      `INSERT INTO ${TABLE}(key, value) VALUES(?, '{"value":1}')
       ON CONFLICT(key) DO UPDATE SET value = json_set(value, '$.value', json_extract(value, '$.value') + 1)
       WHERE json_extract(value, '$.value') < ?
       RETURNING json_extract(value, '$.value') AS n`,
      this.physical(key),
      limit,
    );
    return rows[0]?.n ?? null;
  }

  async add(key: string, delta: number): Promise<number> {
    const rows = await this.sql<{ n: number }>(
      `INSERT INTO ${TABLE}(key, value) VALUES(?, json_object('value', max(0, ?)))
       ON CONFLICT(key) DO UPDATE SET value = json_set(value, '$.value', max(0, json_extract(value, '$.value') + ?))
       RETURNING json_extract(value, '$.value') AS n`,
      this.physical(key),
      delta,
      delta,
    );
    return rows[0]?.n ?? 0;
  }

  async counter(key: string): Promise<number> {
    const rows = await this.sql<{ n: number }>(
      `SELECT json_extract(value, '$.value') AS n FROM ${TABLE} WHERE key = ?`,
      this.physical(key),
    );
    return rows[0]?.n ?? 0;
  }

  async reserveSlot(key: string, gapMs: number, nowMs: number): Promise<number> {
    const rows = await this.sql<{ n: number }>(
      `INSERT INTO ${TABLE}(key, value) VALUES(?, json_object('value', ?))
       ON CONFLICT(key) DO UPDATE SET value = json_set(value, '$.value', max(?, json_extract(value, '$.value') + ?))
       RETURNING json_extract(value, '$.value') AS n`,
      this.physical(key),
      nowMs,
      nowMs,
      gapMs,
    );
    return rows[0]?.n ?? nowMs;
  }

  async scan<T>(prefix: string): Promise<Array<{ key: string; value: Versioned<T> }>> {
    const physicalPrefix = this.physical(prefix);
    const rows = await this.sql<{ key: string; value: string }>(
      `SELECT key, value FROM ${TABLE} WHERE substr(key, 1, ?) = ? ORDER BY key`,
      physicalPrefix.length,
      physicalPrefix,
    );
    return rows.map((row) => ({
      key: row.key.slice(NAMESPACE.length + 1),
      value: (JSON.parse(row.value) as { value: Versioned<T> }).value,
    }));
  }

  async close(): Promise<void> {
    await this.keyv.disconnect().catch(() => undefined);
  }
}
