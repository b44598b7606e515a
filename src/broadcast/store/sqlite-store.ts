import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import sqlite3 from 'sqlite3';
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

/** Keyv's table (counters, small values); its layout is pinned by the store contract test. */
export const KEYV_TABLE = 'keyv';
const REQUESTS = 'requests';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ${REQUESTS} (
     id TEXT PRIMARY KEY, rev INTEGER NOT NULL, state TEXT NOT NULL, created_ms INTEGER NOT NULL,
     requester TEXT NOT NULL, task_id TEXT, dedup_key TEXT, sent_ms INTEGER,
     outbox_due_ms INTEGER, lease_until_ms INTEGER, expires_ms INTEGER, schedule_ms INTEGER,
     data TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS requests_created ON ${REQUESTS}(created_ms, id)`,
  `CREATE INDEX IF NOT EXISTS requests_state ON ${REQUESTS}(state, created_ms)`,
  `CREATE INDEX IF NOT EXISTS requests_requester ON ${REQUESTS}(requester, created_ms)`,
  `CREATE INDEX IF NOT EXISTS requests_task ON ${REQUESTS}(task_id) WHERE task_id IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS requests_dedup ON ${REQUESTS}(dedup_key, sent_ms) WHERE dedup_key IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS requests_outbox ON ${REQUESTS}(outbox_due_ms) WHERE outbox_due_ms IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS requests_lease ON ${REQUESTS}(lease_until_ms) WHERE lease_until_ms IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS requests_expiry ON ${REQUESTS}(expires_ms) WHERE expires_ms IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS requests_schedule ON ${REQUESTS}(schedule_ms) WHERE schedule_ms IS NOT NULL`,
];

const DUE_COLUMN: Record<DueIndex, string> = {
  outbox: 'outbox_due_ms',
  lease: 'lease_until_ms',
  expiry: 'expires_ms',
  schedule: 'schedule_ms',
};

const INDEX_COLUMNS = 'state, created_ms, requester, task_id, dedup_key, sent_ms, outbox_due_ms, lease_until_ms, expires_ms, schedule_ms';

function indexValues(ix: RequestIndex): unknown[] {
  return [
    ix.state,
    ix.createdMs,
    ix.requester,
    ix.taskId ?? null,
    ix.dedupKey ?? null,
    ix.sentMs ?? null,
    ix.outboxDueMs ?? null,
    ix.leaseUntilMs ?? null,
    ix.expiresMs ?? null,
    ix.scheduleMs ?? null,
  ];
}

type Row = { rev: number; data: string };
const toVersioned = (row: Row): Versioned<RequestDoc> => ({ rev: row.rev, data: JSON.parse(row.data) as RequestDoc });

/**
 * SQLite through @keyv/sqlite's connection (one driver, one connection). The database runs in WAL
 * mode so a read-only reader (the audit export) can read while the app writes; a second app
 * instance is refused by an exclusive lock on a sidecar file, which the OS releases when the
 * process dies. Every statement goes through one queue, so a multi-statement transaction on the
 * shared connection can never interleave with another caller's statement.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly keyv: Keyv,
    private readonly adapter: KeyvSqlite,
    private readonly lock: sqlite3.Database | undefined,
    private readonly indexOf: (doc: RequestDoc) => RequestIndex,
  ) {}

  static async open(path: string, indexOf: (doc: RequestDoc) => RequestIndex): Promise<SqliteStore> {
    const inMemory = path === ':memory:';
    let lock: sqlite3.Database | undefined;
    if (!inMemory) {
      mkdirSync(dirname(path), { recursive: true });
      lock = await holdWriterLock(`${path}.writer-lock`, path);
    }
    // busyTimeout: a reader's brief lock never fails a write.
    const adapter = new KeyvSqlite({ uri: `sqlite://${path}`, table: KEYV_TABLE, busyTimeout: 2000 });
    adapter.on('error', () => {
      /* surfaced through the failing query */
    });
    const keyv = new Keyv({ store: adapter, namespace: NAMESPACE, serialize: JSON.stringify, deserialize: (s: string) => JSON.parse(s), throwOnErrors: true });
    keyv.on('error', () => {
      /* thrown to the caller because throwOnErrors is set */
    });
    const store = new SqliteStore(keyv, adapter, lock, indexOf);
    try {
      if (!inMemory) {
        await adapter.query('PRAGMA journal_mode = WAL');
        // FULL: a commit is on disk before we act on it; `sending` must survive a power cut.
        await adapter.query('PRAGMA synchronous = FULL');
      }
      for (const sql of SCHEMA) await adapter.query(sql);
    } catch (error) {
      await adapter.disconnect().catch(() => undefined);
      await closeDb(lock);
      throw storeError(`Cannot open the SQLite store ${path}`, error);
    }
    return store;
  }

  /** Run `work` alone on the connection. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async raw<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]> {
    try {
      return (await this.adapter.query(sql, ...params)) as T[];
    } catch (error) {
      throw storeError('SQLite store error', error);
    }
  }

  private sql<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]> {
    return this.exclusive(() => this.raw<T>(sql, ...params));
  }

  private physical(key: string): string {
    return `${NAMESPACE}:${key}`;
  }

  async createRequest(doc: RequestDoc): Promise<boolean> {
    const rows = await this.sql(
      `INSERT INTO ${REQUESTS}(id, rev, ${INDEX_COLUMNS}, data) VALUES(?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO NOTHING RETURNING id`,
      doc.id,
      ...indexValues(this.indexOf(doc)),
      JSON.stringify(doc),
    );
    return rows.length === 1;
  }

  async getRequest(id: string): Promise<Versioned<RequestDoc> | undefined> {
    const rows = await this.sql<Row>(`SELECT rev, data FROM ${REQUESTS} WHERE id = ?`, id);
    return rows[0] ? toVersioned(rows[0]) : undefined;
  }

  async writeRequest(current: Versioned<RequestDoc>, doc: RequestDoc, effects: WriteEffects = {}): Promise<WriteResult> {
    const id = current.data.id;
    const expectedRev = current.rev;
    const update = () =>
      this.raw(
        `UPDATE ${REQUESTS} SET rev = rev + 1, state = ?, created_ms = ?, requester = ?, task_id = ?, dedup_key = ?, sent_ms = ?,
           outbox_due_ms = ?, lease_until_ms = ?, expires_ms = ?, schedule_ms = ?, data = ?
         WHERE id = ? AND rev = ? RETURNING id`,
        ...indexValues(this.indexOf(doc)),
        JSON.stringify(doc),
        id,
        expectedRev,
      );
    if (!effects.reserve && !effects.release && !effects.flag && !effects.slot) {
      const rows = await this.exclusive(update);
      return rows.length === 1 ? { ok: true } : { ok: false, reason: 'conflict' };
    }
    return this.exclusive(async () => {
      await this.raw('BEGIN IMMEDIATE');
      try {
        if ((await update()).length !== 1) {
          await this.raw('ROLLBACK');
          return { ok: false, reason: 'conflict' } as const;
        }
        if (effects.reserve) {
          const r = effects.reserve;
          const blocked = r.unlessSet ? (await this.counterRaw(r.unlessSet)) > 0 : false;
          if (blocked || (await this.incrementBelowRaw(r.key, r.limit)) === null) {
            await this.raw('ROLLBACK');
            return { ok: false, reason: 'limit' } as const;
          }
        }
        if (effects.release) await this.addRaw(effects.release.key, -1);
        if (effects.flag) await this.addRaw(effects.flag.key, 1);
        const slotAt = effects.slot ? await this.reserveSlotRaw(effects.slot.key, effects.slot.gapMs, effects.slot.nowMs) : undefined;
        await this.raw('COMMIT');
        return slotAt === undefined ? ({ ok: true } as const) : ({ ok: true, slotAt } as const);
      } catch (error) {
        await this.raw('ROLLBACK').catch(() => undefined);
        throw storeError('SQLite store error', error);
      }
    });
  }

  async due(index: DueIndex, nowMs: number, limit: number): Promise<string[]> {
    const column = DUE_COLUMN[index];
    const rows = await this.sql<{ id: string }>(
      `SELECT id FROM ${REQUESTS} WHERE ${column} IS NOT NULL AND ${column} <= ? ORDER BY ${column} LIMIT ?`,
      nowMs,
      limit,
    );
    return rows.map((r) => r.id);
  }

  async list(q: ListQuery): Promise<Array<Versioned<RequestDoc>>> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.requester !== undefined) {
      where.push('requester = ?');
      params.push(q.requester);
    }
    if (q.states?.length) {
      where.push(`state IN (${q.states.map(() => '?').join(', ')})`);
      params.push(...q.states);
    }
    const rows = await this.sql<Row>(
      `SELECT rev, data FROM ${REQUESTS} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_ms DESC, id DESC LIMIT ?`,
      ...params,
      q.limit,
    );
    return rows.map(toVersioned);
  }

  async idByTaskId(taskId: string): Promise<string | undefined> {
    const rows = await this.sql<{ id: string }>(`SELECT id FROM ${REQUESTS} WHERE task_id = ? LIMIT 1`, taskId);
    return rows[0]?.id;
  }

  async lastSent(dedupKey: string, sinceMs: number): Promise<Versioned<RequestDoc> | undefined> {
    const rows = await this.sql<Row>(
      `SELECT rev, data FROM ${REQUESTS} WHERE dedup_key = ? AND sent_ms >= ? ORDER BY sent_ms DESC LIMIT 1`,
      dedupKey,
      sinceMs,
    );
    return rows[0] ? toVersioned(rows[0]) : undefined;
  }

  scan(sinceMs: number, untilMs: number, pageSize = 500): AsyncIterable<Versioned<RequestDoc>> {
    return scanPages((after) =>
      this.sql<Row & { id: string; created_ms: number }>(
        `SELECT id, created_ms, rev, data FROM ${REQUESTS}
         WHERE created_ms < ? AND (created_ms > ? OR (created_ms = ? AND id > ?)) ORDER BY created_ms, id LIMIT ?`,
        untilMs,
        after.ms,
        after.ms,
        after.id,
        pageSize,
      ),
      sinceMs,
    );
  }

  // ---- counters on Keyv's layout: {"value": n} under "<namespace>:<key>"

  private async counterRaw(key: string): Promise<number> {
    const rows = await this.raw<{ n: number }>(`SELECT json_extract(value, '$.value') AS n FROM ${KEYV_TABLE} WHERE key = ?`, this.physical(key));
    return Number(rows[0]?.n ?? 0);
  }

  private async incrementBelowRaw(key: string, limit: number): Promise<number | null> {
    if (limit <= 0) return null;
    const rows = await this.raw<{ n: number }>(
      `INSERT INTO ${KEYV_TABLE}(key, value) VALUES(?, '{"value":1}')
       ON CONFLICT(key) DO UPDATE SET value = json_set(value, '$.value', json_extract(value, '$.value') + 1)
       WHERE json_extract(value, '$.value') < ?
       RETURNING json_extract(value, '$.value') AS n`,
      this.physical(key),
      limit,
    );
    return rows[0]?.n ?? null;
  }

  private async addRaw(key: string, delta: number): Promise<number> {
    const rows = await this.raw<{ n: number }>(
      `INSERT INTO ${KEYV_TABLE}(key, value) VALUES(?, json_object('value', max(0, ?)))
       ON CONFLICT(key) DO UPDATE SET value = json_set(value, '$.value', max(0, json_extract(value, '$.value') + ?))
       RETURNING json_extract(value, '$.value') AS n`,
      this.physical(key),
      delta,
      delta,
    );
    return rows[0]?.n ?? 0;
  }

  private async reserveSlotRaw(key: string, gapMs: number, nowMs: number): Promise<number> {
    const rows = await this.raw<{ n: number }>(
      `INSERT INTO ${KEYV_TABLE}(key, value) VALUES(?, json_object('value', ?))
       ON CONFLICT(key) DO UPDATE SET value = json_set(value, '$.value', max(?, json_extract(value, '$.value') + ?))
       RETURNING json_extract(value, '$.value') AS n`,
      this.physical(key),
      nowMs,
      nowMs,
      gapMs,
    );
    return Number(rows[0]?.n ?? nowMs);
  }

  counter(key: string): Promise<number> {
    return this.exclusive(() => this.counterRaw(key));
  }
  incrementBelow(key: string, limit: number): Promise<number | null> {
    return this.exclusive(() => this.incrementBelowRaw(key, limit));
  }
  add(key: string, delta: number): Promise<number> {
    return this.exclusive(() => this.addRaw(key, delta));
  }
  reserveSlot(key: string, gapMs: number, nowMs: number): Promise<number> {
    return this.exclusive(() => this.reserveSlotRaw(key, gapMs, nowMs));
  }

  getValue<T>(key: string): Promise<T | undefined> {
    return this.exclusive(async () => {
      try {
        return ((await this.keyv.get<T>(key)) ?? undefined) as T | undefined;
      } catch (error) {
        throw storeError('SQLite store error', error);
      }
    });
  }

  setValue<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    return this.exclusive(async () => {
      try {
        await this.keyv.set(key, value, ttlMs);
      } catch (error) {
        throw storeError('SQLite store error', error);
      }
    });
  }

  async ping(): Promise<void> {
    await this.sql('SELECT 1');
  }

  async close(): Promise<void> {
    await this.exclusive(async () => {
      await this.keyv.disconnect().catch(() => undefined);
    });
    await closeDb(this.lock);
  }
}

/** Keyset pagination over (created_ms, id): each page starts after the last row of the one before. */
export async function* scanPages(
  page: (after: { ms: number; id: string }) => Promise<Array<Row & { id: string; created_ms: number }>>,
  sinceMs: number,
): AsyncIterable<Versioned<RequestDoc>> {
  let after = { ms: sinceMs - 1, id: '\uffff' };
  for (;;) {
    const rows = await page(after);
    if (rows.length === 0) return;
    for (const row of rows) yield toVersioned(row);
    const last = rows[rows.length - 1]!;
    after = { ms: last.created_ms, id: last.id };
  }
}

/**
 * Take the single-writer lock: an exclusive lock on a sidecar SQLite file, held for the life of the
 * process. A second instance on the same store fails here at once; a crashed instance's lock is
 * released by the operating system, so a restart never waits.
 */
async function holdWriterLock(lockPath: string, storePath: string): Promise<sqlite3.Database> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const d = new sqlite3.Database(lockPath, (error) => (error ? reject(error) : resolve(d)));
  }).catch((error: unknown) => {
    throw storeError(`Cannot open the SQLite store's lock file ${lockPath}`, error);
  });
  db.configure('busyTimeout', 0);
  const run = (sql: string) => new Promise<void>((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));
  try {
    await run('PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS writer(at TEXT); COMMIT;');
  } catch (error) {
    await closeDb(db);
    const busy = /SQLITE_BUSY|locked/i.test(String((error as Error)?.message ?? error));
    throw new StoreUnavailableError(
      busy
        ? `The SQLite store ${storePath} is in use by another running instance of tim-broadcast. ` +
          'SQLite is for a single instance; use STORE_URL=redis://… to run several.'
        : `Cannot lock the SQLite store ${storePath}: ${(error as Error)?.message ?? error}`,
      { cause: error },
    );
  }
  return db;
}

function closeDb(db: sqlite3.Database | undefined): Promise<void> {
  if (!db) return Promise.resolve();
  return new Promise((resolve) => db.close(() => resolve()));
}

/** A read-only view of a SQLite store for the audit export: it never takes the writer lock. */
export async function openSqliteReader(path: string): Promise<{ scan: Store['scan']; close(): Promise<void> }> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const d = new sqlite3.Database(path, sqlite3.OPEN_READONLY, (error) => (error ? reject(error) : resolve(d)));
  }).catch((error: unknown) => {
    throw storeError(`Cannot open the SQLite store ${path} for reading`, error);
  });
  db.configure('busyTimeout', 5000);
  const all = <T>(sql: string, ...params: unknown[]) =>
    new Promise<T[]>((resolve, reject) => db.all(sql, params, (error, rows) => (error ? reject(storeError('SQLite store error', error)) : resolve(rows as T[]))));
  return {
    scan: (sinceMs, untilMs, pageSize = 500) =>
      scanPages(
        (after) =>
          all<Row & { id: string; created_ms: number }>(
            `SELECT id, created_ms, rev, data FROM ${REQUESTS}
             WHERE created_ms < ? AND (created_ms > ? OR (created_ms = ? AND id > ?)) ORDER BY created_ms, id LIMIT ?`,
            untilMs,
            after.ms,
            after.ms,
            after.id,
            pageSize,
          ),
        sinceMs,
      ),
    close: () => closeDb(db),
  };
}
