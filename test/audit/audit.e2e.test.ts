/**
 * `npm run audit` end to end: requests are made through the domain (BroadcastService: submit,
 * approve with a fake pusher, reject, cancel, an unknown outcome settled by a person) into a real
 * SQLite file or a real Redis; then, while the real app runs on that store (the harness), the CLI
 * runs as a child process in both formats and its output is parsed and checked request by request.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BroadcastService, type Clock, type Pusher } from '../../src/broadcast/service.js';
import { openStore } from '../../src/broadcast/store/open.js';
import type { BroadcastDraft, BroadcastRequest } from '../../src/broadcast/types.js';
import type { PushAttempt } from '../../src/tim/client.js';
import { explainError } from '../../src/tim/errors.js';
import { startHarness, TIM_SECRET_KEY } from '../helpers/harness.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { ROOT, TSX_LOADER } from '../robustness/support.js';

const AUDIT = resolve(ROOT, 'src/audit.ts');
const dir = mkdtempSync(join(tmpdir(), 'tb-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REQUESTER = 'U0REQ';
const APPROVER_1 = 'U0APP1';
const APPROVER_2 = 'U0APP2';
/**
 * Requests made in one millisecond at the end of January. On SQLite, more than one page of the
 * reader's scan (500); the store tests page through both backends with small pages.
 */
const SAME_MS = { sqlite: 520, redis: 60 };

// ------------------------------------------------------------------ the CLI as a child process

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runAudit(args: string[], env: Record<string, string | undefined>, cwd = dir): Promise<Run> {
  return new Promise((done, fail) => {
    const childEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, STORE_URL: undefined, ...env })) if (v !== undefined) childEnv[k] = v;
    const child = spawn(process.execPath, ['--import', TSX_LOADER, AUDIT, ...args], { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

// ------------------------------------------------------------------ seeding through the domain

/** A clock the test sets; sleep() moves it forward at once. */
function settableClock(): Clock & { set(iso: string): void } {
  let t = 0;
  return {
    set: (iso) => {
      t = Date.parse(iso);
    },
    now: () => new Date(t),
    sleep: async (ms) => {
      t += Math.max(0, ms);
    },
  };
}

function queuedPusher(answers: PushAttempt[]): Pusher {
  return { push: async () => answers.shift() ?? { kind: 'sent', taskId: 'T-extra' } };
}

/** What the export must say about a request, column by column (CSV header names). */
type Expected = Record<string, string>;

interface Seeded {
  /** In the range, oldest first (ties by id), with the columns each must have. */
  inRange: Array<{ id: string; columns: Partial<Expected> }>;
  outside: string[];
}

const draft = (message: string, audience: BroadcastDraft['audience']): BroadcastDraft => ({ message, audience, lifetimeSeconds: 3600 });

async function seed(storeUrl: string, sameMs: number): Promise<Seeded> {
  const store = await openStore(storeUrl);
  const clock = settableClock();
  const service = new BroadcastService({
    store,
    pusher: queuedPusher([
      { kind: 'sent', taskId: 'TASK-A' },
      { kind: 'refused', code: 90022, info: 'tag in both lists', explanation: explainError(90022) },
      { kind: 'unknown', reason: 'the connection dropped after the request was sent' },
    ]),
    dailyQuota: 100,
    quotaTimeZone: 'Asia/Shanghai',
    everyoneApprovals: 2,
    // Long enough that the app started on this store later expires nothing during the test.
    requestTtlMs: 5 * 365 * 86_400_000,
    clock,
    retry: { maxAttempts: 1 },
  });
  const submit = async (when: string, d: BroadcastDraft): Promise<BroadcastRequest> => {
    clock.set(when);
    const res = await service.decisions.submit({ requesterId: REQUESTER, draft: d });
    if (!res.ok) throw new Error(`submit refused: ${JSON.stringify(res)}`);
    return res.request;
  };
  const approve = async (when: string, r: BroadcastRequest, userId: string) => {
    clock.set(when);
    const res = await service.decisions.approve({ requestId: r.id, userId, isApprover: true, version: r.version });
    if (!res.ok) throw new Error(`approval refused: ${res.refusal}`);
    return (await res.pushed) ?? res.request;
  };

  const before = await submit('2025-12-31T23:59:59.999Z', draft('Happy new year', { kind: 'all' }));

  // A push to everyone: two approvals, then sent.
  const a = await submit('2026-01-05T10:00:00.000Z', draft('Maintenance tonight, 23:00 "UTC"', { kind: 'all' }));
  await approve('2026-01-05T10:05:00.000Z', a, APPROVER_1);
  const aSent = await approve('2026-01-05T10:06:00.000Z', a, APPROVER_2);
  expect(aSent.state).toBe('sent');

  // Rejected, with a reason a spreadsheet would run as a formula, and a message over two lines.
  const b = await submit('2026-01-10T08:00:00.000Z', draft('line one\nline two', { kind: 'tags', all: ['vip', 'beta'], any: ['city-sz'] }));
  clock.set('2026-01-10T08:30:00.000Z');
  expect((await service.decisions.reject({ requestId: b.id, userId: APPROVER_1, isApprover: true, reason: '=HYPERLINK("http://evil.example")' })).ok).toBe(true);

  // Cancelled by the requester.
  const c = await submit('2026-01-12T09:00:00.000Z', draft('-5% off', { kind: 'attributes', all: { city: 'Shenzhen' }, any: { level: 'gold' } }));
  clock.set('2026-01-12T09:01:00.000Z');
  expect((await service.decisions.cancel({ requestId: c.id, userId: REQUESTER, isApprover: false })).ok).toBe(true);

  // Still pending.
  const d = await submit('2026-01-15T12:00:00.000Z', draft('@channel hello', { kind: 'tags', all: [], any: ['beta'] }));

  // Approved, refused by Tencent: failed with its code.
  const e = await submit('2026-01-20T07:00:00.000Z', draft('Failing push', { kind: 'tags', all: ['vip'], any: [] }));
  expect((await approve('2026-01-20T07:10:00.000Z', e, APPROVER_2)).state).toBe('failed');

  // Approved, outcome unknown, then settled by a person: it did not go out.
  const f = await submit('2026-01-25T16:00:00.000Z', draft('Unknown push', { kind: 'tags', all: ['beta'], any: [] }));
  expect((await approve('2026-01-25T16:10:00.000Z', f, APPROVER_1)).state).toBe('unknown');
  clock.set('2026-01-25T17:00:00.000Z');
  expect((await service.decisions.resolveUnknown({ requestId: f.id, userId: APPROVER_2, isApprover: true, wentOut: false })).ok).toBe(true);

  // Many in the very last millisecond of the range.
  clock.set('2026-01-31T23:59:59.999Z');
  const same: BroadcastRequest[] = [];
  for (let i = 0; i < sameMs; i += 40) {
    const batch = Array.from({ length: Math.min(40, sameMs - i) }, (_, j) =>
      service.decisions.submit({ requesterId: REQUESTER, draft: draft(`Batch ${i + j}`, { kind: 'tags', all: [`t${i + j}`], any: [] }) }),
    );
    for (const res of await Promise.all(batch)) same.push((res as { request: BroadcastRequest }).request);
  }
  expect(new Set(same.map((r) => r.createdAt))).toEqual(new Set(['2026-01-31T23:59:59.999Z']));

  // The first millisecond after the range (--until is exclusive).
  const after = await submit('2026-02-01T00:00:00.000Z', draft('February', { kind: 'all' }));
  await store.close();

  const row = (r: BroadcastRequest, columns: Partial<Expected>) => ({ id: r.id, columns: { id: r.id, created: r.createdAt, requester: REQUESTER, ...columns } });
  return {
    inRange: [
      row(a, {
        audience: 'everyone',
        message: 'Maintenance tonight, 23:00 "UTC"',
        state: 'sent',
        approvers: `${APPROVER_1} ${APPROVER_2}`,
        'decided at': '2026-01-05T10:06:00.000Z',
        TaskId: 'TASK-A',
        'error code': '',
        reason: '',
      }),
      row(b, {
        audience: 'tags all: vip, beta; any: city-sz',
        message: 'line one\nline two',
        state: 'rejected',
        approvers: '',
        'decided at': '2026-01-10T08:30:00.000Z',
        TaskId: '',
        reason: `'=HYPERLINK("http://evil.example")`,
      }),
      row(c, { audience: 'attributes all: city=Shenzhen; any: level=gold', message: "'-5% off", state: 'cancelled', 'decided at': '2026-01-12T09:01:00.000Z', reason: '' }),
      row(d, { audience: 'tags any: beta', message: "'@channel hello", state: 'pending', approvers: '', 'decided at': '' }),
      row(e, { state: 'failed', approvers: APPROVER_2, 'decided at': '2026-01-20T07:10:00.000Z', TaskId: '', 'error code': '90022', reason: '' }),
      row(f, {
        state: 'not_sent',
        approvers: APPROVER_1,
        'decided at': '2026-01-25T17:00:00.000Z',
        'error code': '',
        reason: 'the connection dropped after the request was sent',
      }),
      ...same
        .sort((x, y) => (x.id < y.id ? -1 : 1))
        .map((r) => row(r, { state: 'pending', message: r.draft.message, audience: `tags all: ${r.draft.message.replace('Batch ', 't')}`, 'decided at': '' })),
    ],
    outside: [before.id, after.id],
  };
}

// ------------------------------------------------------------------ checks

function checkJson(run: Run, seeded: Seeded): BroadcastRequest[] {
  expect(run.code, run.stderr).toBe(0);
  const records = JSON.parse(run.stdout) as BroadcastRequest[];
  expect(records.map((r) => r.id)).toEqual(seeded.inRange.map((r) => r.id));
  for (const r of records) {
    // Full records: every field of the stored request, with its revision.
    expect(r.rev).toBeGreaterThanOrEqual(1);
    expect(r).toEqual(expect.objectContaining({ draft: expect.any(Object), body: expect.any(Object), history: expect.any(Array), approvals: expect.any(Array), outbox: expect.any(Object) }));
  }
  const byId = new Map(records.map((r) => [r.id, r]));
  for (const { id, columns } of seeded.inRange) expect(byId.get(id)!.state).toBe(columns.state);
  return records;
}

function checkCsv(run: Run, seeded: Seeded): void {
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout.split('\r\n')[0]).toBe('id,created,requester,audience,message,state,approvers,decided at,TaskId,error code,reason');
  const rows = parse(run.stdout, { columns: true }) as Expected[];
  expect(rows.map((r) => r.id)).toEqual(seeded.inRange.map((r) => r.id));
  for (const [i, { columns }] of seeded.inRange.entries()) expect(rows[i], `row ${i}`).toMatchObject(columns);
}

const RANGE = ['--since', '2026-01-01', '--until', '2026-02-01'];

// ------------------------------------------------------------------ SQLite

describe('npm run audit on SQLite, while the app runs on the same file', () => {
  const path = join(dir, 'app.sqlite');
  const storeUrl = `sqlite://${path}`;
  let seeded: Seeded;
  let app: Awaited<ReturnType<typeof startHarness>>;

  beforeAll(async () => {
    seeded = await seed(storeUrl, SAME_MS.sqlite);
    app = await startHarness({ storeUrl });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
  });

  it('the app holds the store: a second app instance is refused', async () => {
    await expect(openStore(storeUrl)).rejects.toThrow(/in use by another running instance/);
  });

  it('JSON and CSV (at the same time): exactly the requests in [since, until), oldest first', async () => {
    const [run, csv] = await Promise.all([
      runAudit([...RANGE, '--format', 'json'], { STORE_URL: storeUrl }),
      runAudit([...RANGE, '--format', 'csv'], { STORE_URL: storeUrl }),
    ]);
    // CSV: a header and one row per request, each column as the request stands.
    checkCsv(csv, seeded);
    // JSON: full records.
    const records = checkJson(run, seeded);
    for (const id of seeded.outside) expect(records.some((r) => r.id === id)).toBe(false);
    expect(run.stderr).toContain(`audit: ${seeded.inRange.length} request(s)`);
    const sent = records[0]!;
    expect(sent.result).toMatchObject({ kind: 'sent', taskId: 'TASK-A' });
    expect(sent.history.map((h) => h.kind)).toEqual(expect.arrayContaining(['submitted', 'approval', 'approved', 'sending', 'sent']));
    // No secret of the app's settings can be in the output.
    expect(run.stdout).not.toContain(TIM_SECRET_KEY);
  });

  it('--until defaults to now; STORE_URL may come from ./.env', async () => {
    const cwd = mkdtempSync(join(dir, 'envdir-'));
    writeFileSync(join(cwd, '.env'), `STORE_URL=${storeUrl}\n`);
    const run = await runAudit(['--since', '2025-12-31', '--format', 'json'], {}, cwd);
    expect(run.code, run.stderr).toBe(0);
    const ids = (JSON.parse(run.stdout) as BroadcastRequest[]).map((r) => r.id);
    expect(ids).toEqual([seeded.outside[0], ...seeded.inRange.map((r) => r.id), seeded.outside[1]]);
  });

  it('--out writes the same records to a file and nothing to stdout', async () => {
    const file = join(dir, 'out.json');
    const run = await runAudit([...RANGE, '--format', 'json', '--out', file], { STORE_URL: storeUrl });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect((JSON.parse(readFileSync(file, 'utf8')) as BroadcastRequest[]).map((r) => r.id)).toEqual(seeded.inRange.map((r) => r.id));
    const bad = await runAudit([...RANGE, '--out', join(dir, 'no-such-dir', 'x.csv')], { STORE_URL: storeUrl });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cannot write/);
  });

  it('an empty range is an empty array, or a header alone', async () => {
    const empty = ['--since', '2030-01-01', '--until', '2030-02-01'];
    const [json, csv] = await Promise.all([runAudit([...empty, '--format', 'json'], { STORE_URL: storeUrl }), runAudit(empty, { STORE_URL: storeUrl })]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([]);
    expect(csv.stdout).toBe('id,created,requester,audience,message,state,approvers,decided at,TaskId,error code,reason\r\n');
  });
});

// ------------------------------------------------------------------ Redis

describe('npm run audit on Redis, while the app runs on it', () => {
  let redis: RedisHandle;
  let seeded: Seeded;
  let app: Awaited<ReturnType<typeof startHarness>>;

  beforeAll(async () => {
    redis = await startRedis();
    seeded = await seed(redis.url, SAME_MS.redis);
    app = await startHarness({ storeUrl: redis.url });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('JSON and CSV: exactly the requests in the range, oldest first', async () => {
    const [json, csv] = await Promise.all([
      runAudit([...RANGE, '--format', 'json'], { STORE_URL: redis.url }),
      runAudit([...RANGE, '--format', 'csv'], { STORE_URL: redis.url }),
    ]);
    checkJson(json, seeded);
    checkCsv(csv, seeded);
  });
});

// ------------------------------------------------------------------ refusals

describe('npm run audit refuses clearly', () => {
  it('bad arguments: exit 2, the problem and the usage on stderr, nothing on stdout', async () => {
    const run = await runAudit(['--since', '2026-02-30'], { STORE_URL: 'sqlite:///nowhere.sqlite' });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/--since must be a date/);
    expect(run.stderr).toMatch(/Usage: npm run audit/);
  });

  it('a store that cannot be read: exit 1 with the reason, nothing on stdout', async () => {
    const [missing, down, memory] = await Promise.all([
      runAudit(['--since', '2026-01-01'], { STORE_URL: `sqlite://${join(dir, 'missing.sqlite')}` }),
      runAudit(['--since', '2026-01-01'], { STORE_URL: 'redis://:s3cret-pass@127.0.0.1:1' }),
      runAudit(['--since', '2026-01-01'], { STORE_URL: 'memory://' }),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/audit: cannot read the store sqlite:\/\/.*missing\.sqlite/);

    expect(down.code).toBe(1);
    expect(down.stdout).toBe('');
    expect(down.stderr).toMatch(/Cannot connect to the Redis store/);
    expect(down.stderr).not.toContain('s3cret-pass');

    expect(memory.code).toBe(1);
    expect(memory.stderr).toMatch(/reads sqlite:\/\/<path> or redis:\/\/… stores/);
  });
});
