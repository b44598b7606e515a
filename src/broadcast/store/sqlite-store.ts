import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import Keyv from 'keyv';
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
  // Exactly the table @keyv/sqlite creates, so either side may create it first.
  `CREATE TABLE IF NOT EXISTS ${KEYV_TABLE}(key VARCHAR(255) PRIMARY KEY, value TEXT )`,
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
type PageRow = Row & { id: string; created_ms: number };
const toVersioned = (row: Row): Versioned<RequestDoc> => ({ rev: row.rev, data: JSON.parse(row.data) as RequestDoc });

/** Run one synchronous database step; any SQLite failure becomes StoreUnavailableError. */
function guarded<T>(what: () => T): T {
  try {
    return what();
  } catch (error) {
    throw storeError('SQLite store error', error);
  }
}

/**
 * SQLite: the requests table and the counters on Keyv's table, through better-sqlite3 (synchronous,
 * so a transaction is a plain function call that nothing can interleave with, and a statement costs
 * microseconds instead of a thread-pool round trip; the approval path makes several). Small values go
 * through Keyv itself (@keyv/sqlite, on a second connection opened on first use); the counters are
 * kept in Keyv's layout so any Keyv client reads them (pinned by the store contract test). The database runs in WAL mode,
 * so a read-only reader (the audit export) can read while the app writes, and with
 * synchronous = FULL, so a commit is on disk before the app acts on it (`sending` must survive a
 * power cut). A second app instance is refused by an exclusive lock on a sidecar file, which the
 * operating system releases when the process dies, so a restart after a crash never waits.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();

  /** Keyv on its own connection, opened on first use of a small value (the hot paths never need it). */
  private keyvConnection: Keyv | undefined;

  private constructor(
    private readonly db: Database.Database,
    private readonly file: string,
    private readonly lock: Database.Database | undefined,
    private readonly indexOf: (doc: RequestDoc) => RequestIndex,
    private readonly scratch: string | undefined,
  ) {}

  /** `:memory:` is a throw-away database in a temporary file (Keyv's connection must see the same data). */
  static async open(path: string, indexOf: (doc: RequestDoc) => RequestIndex): Promise<SqliteStore> {
    const scratch = path === ':memory:' ? mkdtempSync(join(tmpdir(), 'tim-broadcast-memory-')) : undefined;
    const file = scratch ? join(scratch, 'store.sqlite') : path;
    let lock: Database.Database | undefined;
    let db: Database.Database | undefined;
    try {
      if (!scratch) {
        mkdirSync(dirname(file), { recursive: true });
        lock = holdWriterLock(`${file}.writer-lock`, file);
      }
      db = new Database(file, { timeout: 2000 });
      db.pragma('journal_mode = WAL');
      // FULL: a commit is on disk before we act on it. A scratch database needs no durability.
      db.pragma(scratch ? 'synchronous = OFF' : 'synchronous = FULL');
      for (const sql of SCHEMA) db.exec(sql);
    } catch (error) {
      db?.close();
      lock?.close();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      if (error instanceof StoreUnavailableError) throw error;
      throw storeError(`Cannot open the SQLite store ${path}`, error);
    }
    return new SqliteStore(db, file, lock, indexOf, scratch);
  }

  /** A cached prepared statement. */
  private st(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private physical(key: string): string {
    return `${NAMESPACE}:${key}`;
  }

  async createRequest(doc: RequestDoc): Promise<boolean> {
    return guarded(
      () =>
        this.st(`INSERT INTO ${REQUESTS}(id, rev, ${INDEX_COLUMNS}, data) VALUES(?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`).run(
          doc.id,
          ...indexValues(this.indexOf(doc)),
          JSON.stringify(doc),
        ).changes === 1,
    );
  }

  async getRequest(id: string): Promise<Versioned<RequestDoc> | undefined> {
    const row = guarded(() => this.st(`SELECT rev, data FROM ${REQUESTS} WHERE id = ?`).get(id) as Row | undefined);
    return row ? toVersioned(row) : undefined;
  }

  private update(id: string, expectedRev: number, doc: RequestDoc): boolean {
    return (
      this.st(
        `UPDATE ${REQUESTS} SET rev = rev + 1, state = ?, created_ms = ?, requester = ?, task_id = ?, dedup_key = ?, sent_ms = ?,
           outbox_due_ms = ?, lease_until_ms = ?, expires_ms = ?, schedule_ms = ?, data = ?
         WHERE id = ? AND rev = ?`,
      ).run(...indexValues(this.indexOf(doc)), JSON.stringify(doc), id, expectedRev).changes === 1
    );
  }

  async writeRequest(current: Versioned<RequestDoc>, doc: RequestDoc, effects: WriteEffects = {}): Promise<WriteResult> {
    const id = current.data.id;
    // One transaction: the request and its counter effects land together or not at all.
    const write = this.db.transaction((): WriteResult => {
      let slotAt: number | undefined;
      if (effects.slot) slotAt = this.reserveSlotNow(effects.slot.key, effects.slot.gapMs, effects.slot.nowMs);
      const ready = effects.slot?.readyDoc && slotAt !== undefined && slotAt <= effects.slot.nowMs;
      if (!this.update(id, current.rev, ready ? effects.slot!.readyDoc! : doc)) throw new Rollback('conflict');
      if (effects.reserve) {
        const r = effects.reserve;
        const blocked = r.unlessSet ? this.counterNow(r.unlessSet) > 0 : false;
        if (blocked || this.incrementBelowNow(r.key, r.limit) === null) throw new Rollback('limit');
      }
      if (effects.release) this.addNow(effects.release.key, -1);
      if (effects.flag) this.addNow(effects.flag.key, 1);
      return slotAt === undefined ? { ok: true } : { ok: true, slotAt, ...(ready ? { wroteReady: true } : {}) };
    });
    try {
      return write.immediate();
    } catch (error) {
      if (error instanceof Rollback) return { ok: false, reason: error.reason };
      throw storeError('SQLite store error', error);
    }
  }

  async due(index: DueIndex, nowMs: number, limit: number): Promise<string[]> {
    const column = DUE_COLUMN[index];
    const rows = guarded(
      () => this.st(`SELECT id FROM ${REQUESTS} WHERE ${column} IS NOT NULL AND ${column} <= ? ORDER BY ${column} LIMIT ?`).all(nowMs, limit) as Array<{ id: string }>,
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
    const sql = `SELECT rev, data FROM ${REQUESTS} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_ms DESC, id DESC LIMIT ?`;
    return guarded(() => this.st(sql).all(...params, q.limit) as Row[]).map(toVersioned);
  }

  async idByTaskId(taskId: string): Promise<string | undefined> {
    return guarded(() => (this.st(`SELECT id FROM ${REQUESTS} WHERE task_id = ? LIMIT 1`).get(taskId) as { id: string } | undefined)?.id);
  }

  async lastSent(dedupKey: string, sinceMs: number): Promise<Versioned<RequestDoc> | undefined> {
    const row = guarded(
      () => this.st(`SELECT rev, data FROM ${REQUESTS} WHERE dedup_key = ? AND sent_ms >= ? ORDER BY sent_ms DESC LIMIT 1`).get(dedupKey, sinceMs) as Row | undefined,
    );
    return row ? toVersioned(row) : undefined;
  }

  scan(sinceMs: number, untilMs: number, pageSize = 500): AsyncIterable<Versioned<RequestDoc>> {
    return scanPages(async (after) => guarded(() => this.st(PAGE_SQL).all(untilMs, after.ms, after.ms, after.id, pageSize) as PageRow[]), sinceMs);
  }

  // ---- counters on Keyv's layout: {"value": n} under "<namespace>:<key>"

  private counterNow(key: string): number {
    const row = this.st(`SELECT json_extract(value, '$.value') AS n FROM ${KEYV_TABLE} WHERE key = ?`).get(this.physical(key)) as { n: number } | undefined;
    return Number(row?.n ?? 0);
  }

  private incrementBelowNow(key: string, limit: number): number | null {
    if (limit <= 0) return null;
    const row = this.st(
      `INSERT INTO ${KEYV_TABLE}(key, value) VALUES(?, '{"value":1}')
       ON CONFLICT(key) DO UPDATE SET value = json_set(value, '$.value', json_extract(value, '$.value') + 1)
       WHERE json_extract(value, '$.value') < ?
       RETURNING json_extract(value, '$.value') AS n`,
    ).get(this.physical(key), limit) as { n: number } | undefined;
    return row ? Number(row.n) : null;
  }

  private addNow(key: string, delta: number): number {
    const row = this.st(
      `INSERT INTO ${KEYV_TABLE}(key, value) VALUES(?, json_object('value', max(0, ?)))
       ON CONFLICT(key) DO UPDATE SET value = json_set(value, '$.value', max(0, json_extract(value, '$.value') + ?))
       RETURNING json_extract(value, '$.value') AS n`,
    ).get(this.physical(key), delta, delta) as { n: number } | undefined;
    return Number(row?.n ?? 0);
  }

  private reserveSlotNow(key: string, gapMs: number, nowMs: number): number {
    const row = this.st(
      `INSERT INTO ${KEYV_TABLE}(key, value) VALUES(?, json_object('value', ?))
       ON CONFLICT(key) DO UPDATE SET value = json_set(value, '$.value', max(?, json_extract(value, '$.value') + ?))
       RETURNING json_extract(value, '$.value') AS n`,
    ).get(this.physical(key), nowMs, nowMs, gapMs) as { n: number } | undefined;
    return Number(row?.n ?? nowMs);
  }

  async counter(key: string): Promise<number> {
    return guarded(() => this.counterNow(key));
  }
  async incrementBelow(key: string, limit: number): Promise<number | null> {
    return guarded(() => this.incrementBelowNow(key, limit));
  }
  async add(key: string, delta: number): Promise<number> {
    return guarded(() => this.addNow(key, delta));
  }
  async reserveSlot(key: string, gapMs: number, nowMs: number): Promise<number> {
    return guarded(() => this.reserveSlotNow(key, gapMs, nowMs));
  }

  private async keyv(): Promise<Keyv> {
    if (!this.keyvConnection) {
      // Loaded on first use: its driver (sqlite3) costs memory a running app otherwise never needs.
      const { default: KeyvSqlite } = await import('@keyv/sqlite');
      const adapter = new KeyvSqlite({ uri: `sqlite://${this.file}`, table: KEYV_TABLE, busyTimeout: 2000 });
      adapter.on('error', () => {
        /* surfaced through the failing call */
      });
      const keyv = new Keyv({ store: adapter, namespace: NAMESPACE, serialize: JSON.stringify, deserialize: (s: string) => JSON.parse(s), throwOnErrors: true });
      keyv.on('error', () => {
        /* thrown to the caller because throwOnErrors is set */
      });
      this.keyvConnection = keyv;
    }
    return this.keyvConnection;
  }

  async getValue<T>(key: string): Promise<T | undefined> {
    try {
      return ((await (await this.keyv()).get<T>(key)) ?? undefined) as T | undefined;
    } catch (error) {
      throw storeError('SQLite store error', error);
    }
  }

  async setValue<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    try {
      await (await this.keyv()).set(key, value, ttlMs);
    } catch (error) {
      throw storeError('SQLite store error', error);
    }
  }

  async ping(): Promise<void> {
    guarded(() => this.st('SELECT 1').get());
  }

  async close(): Promise<void> {
    await this.keyvConnection?.disconnect().catch(() => undefined);
    this.db.close();
    this.lock?.close();
    if (this.scratch) rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** A transaction that must not commit: the write's compare-and-swap or its limit said no. */
class Rollback extends Error {
  constructor(readonly reason: 'conflict' | 'limit') {
    super(reason);
  }
}

const PAGE_SQL = `SELECT id, created_ms, rev, data FROM ${REQUESTS}
  WHERE created_ms < ? AND (created_ms > ? OR (created_ms = ? AND id > ?)) ORDER BY created_ms, id LIMIT ?`;

/** Keyset pagination over (created_ms, id): each page starts after the last row of the one before. */
export async function* scanPages(page: (after: { ms: number; id: string }) => Promise<PageRow[]>, sinceMs: number): AsyncIterable<Versioned<RequestDoc>> {
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
function holdWriterLock(lockPath: string, storePath: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(lockPath, { timeout: 0 });
  } catch (error) {
    throw storeError(`Cannot open the SQLite store's lock file ${lockPath}`, error);
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS writer(at TEXT); COMMIT;');
  } catch (error) {
    db.close();
    const busy = /SQLITE_BUSY|locked/i.test(String((error as { code?: string })?.code ?? '') + String((error as Error)?.message ?? error));
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

/** A read-only view of a SQLite store for the audit export: it never takes the writer lock. */
export async function openSqliteReader(path: string): Promise<{ scan: Store['scan']; close(): Promise<void> }> {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 });
  } catch (error) {
    throw storeError(`Cannot open the SQLite store ${path} for reading`, error);
  }
  // One pass in key order reads each page once: better-sqlite3's 16 MB page cache would only fill up.
  db.pragma('cache_size = -512');
  const page = db.prepare(PAGE_SQL);
  return {
    scan: (sinceMs, untilMs, pageSize = 500) =>
      scanPages(async (after) => guarded(() => page.all(untilMs, after.ms, after.ms, after.id, pageSize) as PageRow[]), sinceMs),
    close: async () => {
      db.close();
    },
  };
}
