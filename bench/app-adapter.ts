/**
 * The ONE place where the bench touches code outside bench/: the app's domain and store, its start
 * command and environment, and the test helpers that speak Slack's and Tencent's wire formats.
 * When the store/domain API, `npm start`, the health route or the slash-command grammar change,
 * update this file only; the rest of bench/ sees nothing but what is exported here.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { withEvent } from '../src/broadcast/requests.js';
import { BroadcastService, type Clock, type Pusher } from '../src/broadcast/service.js';
import { openStore } from '../src/broadcast/store/open.js';
import type { Store } from '../src/broadcast/store/store.js';
import type { BroadcastDraft, BroadcastRequest, RequestState } from '../src/broadcast/types.js';
import { explainError } from '../src/tim/errors.js';
import { genUserSig } from '../src/tim/usersig.js';
import { APPROVAL_CHANNEL, APPROVER, FORMS, REQUESTER, SDKAPPID, SIGNING_SECRET, TIM_SECRET_KEY, baseEnv, clickBody, submissionBody } from '../test/helpers/harness.js';

// Everything the bench needs from the test helpers, re-exported so that only this file imports test/.
export { FakeSlack, FAKE_SLACK_DEFAULTS } from '../test/fakes/fake-slack.js';
export { PushEmulator } from '../src/tim/emulator.js';
export { postSigned, slashCommandBody, signBody, REQUEST_DEFAULTS } from '../test/helpers/slack-requests.js';
export { startRedis, redisAvailable, type RedisHandle } from '../test/helpers/redis-server.js';
export { freePort } from '../test/helpers/ports.js';
export { APPROVAL_CHANNEL, APPROVER, REQUESTER, SDKAPPID, SIGNING_SECRET, TIM_SECRET_KEY, clickBody, submissionBody };

export const ROOT = resolve(import.meta.dirname, '..');

// ------------------------------------------------------------------ how the app is started

/** HTTP routes of the app (and of the bare-Bolt baseline, which copies them). */
export const APP_EVENTS_PATH = '/slack/events';
export const APP_HEALTH_PATH = '/healthz';

export interface Launch {
  /** Executable and arguments; `node` options (e.g. --cpu-prof) are inserted after the executable. */
  command: string;
  args: string[];
  /** How the table names it. */
  label: string;
}

/**
 * How the app child is started. 'compiled' (default) is what `npm start` runs: the app compiled by
 * `npm run build` to plain JS and started with plain `node`, so cold start compares like with like
 * against the bare-Bolt baseline (also plain JS). 'tsx' is `npm run dev`'s way (compiled at load time).
 */
export type AppMode = 'compiled' | 'tsx';
const APP_COMPILED_MAIN = join(ROOT, 'dist', 'tim-broadcast.mjs');
const APP_TS_MAIN = join(ROOT, 'src', 'main.ts');

export async function prepareAppLaunch(mode: AppMode): Promise<Launch & { buildSeconds?: number }> {
  if (mode === 'tsx') {
    const tsx = pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('tsx')).href;
    return { command: process.execPath, args: ['--import', tsx, APP_TS_MAIN], label: 'node --import tsx src/main.ts' };
  }
  // Exactly what `npm start` runs: `npm run build` (tsc, then the esbuild bundle), then node.
  const started = performance.now();
  try {
    await promisify(execFile)('npm', ['run', '--silent', 'build'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    throw new Error(`npm run build failed: ${(error as { stdout?: string }).stdout ?? error}`);
  }
  if (!existsSync(APP_COMPILED_MAIN)) throw new Error(`the build produced no ${APP_COMPILED_MAIN}`);
  return { command: process.execPath, args: [APP_COMPILED_MAIN], label: 'node dist/tim-broadcast.mjs (npm start)', buildSeconds: (performance.now() - started) / 1000 };
}

/** The app's environment: the tests' settings, with quotas out of the way of a benchmark. */
export function appEnv(o: { slackApiUrl: string; timBaseUrl: string; storeUrl: string; port: number }): Record<string, string> {
  return {
    ...baseEnv({ slackApiUrl: o.slackApiUrl, timBaseUrl: o.timBaseUrl, storeUrl: o.storeUrl }),
    PORT: String(o.port),
    DAILY_QUOTA: '1000000',
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
  };
}

/** Settings of the push emulator the app is pointed at (same keys as appEnv). */
export const EMULATOR_SETTINGS = { sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY, minIntervalMs: 1000, dailyQuota: 1_000_000 };

// ------------------------------------------------------------------ what people send

/** Form fields (block_id → value) of a valid request; `marker` makes the card findable. */
export function requestForm(marker: string): Record<string, string> {
  return { ...FORMS.all, message: `${FORMS.all.message} [${marker}]` };
}

/** A request id as shown on the approval card. */
export function requestIdIn(text: string): string | undefined {
  return /br-[a-z0-9]+/.exec(text)?.[0];
}

/** `/broadcast status <TaskId>`. */
export function statusCommandText(taskId: string): string {
  return `status ${taskId}`;
}

/** The audit export as `npm run audit` runs it (its preaudit build already happened: the bench built the app). */
export function auditCommand(since: Date): { command: string; args: string[] } | undefined {
  const script = join(ROOT, 'dist', 'src', 'audit.js');
  if (!existsSync(script)) return undefined;
  // The node flags of package.json's "audit" script, so the bench runs what `npm run audit` runs (without its prebuild).
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  const flags = (scripts['audit'] ?? '').split(/\s+/).filter((w) => w.startsWith('--'));
  return { command: process.execPath, args: [...flags, script, '--since', since.toISOString().slice(0, 10), '--format', 'json'] };
}

/** URL and body of a bare im_push to the emulator, signed as the app signs it (the floor of approve → push). */
export function pushFloorRequest(emulatorUrl: string, body: unknown): { url: string; body: string } {
  const usersig = genUserSig({ sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY, identifier: 'administrator', expireSeconds: 86400 });
  const q = new URLSearchParams({ sdkappid: String(SDKAPPID), identifier: 'administrator', usersig, random: '12345', contenttype: 'json' });
  return { url: `${emulatorUrl}/v4/all_member_push/im_push?${q}`, body: JSON.stringify(body) };
}

// ------------------------------------------------------------------ history, through the app's own store code

export interface SeedSummary {
  requests: number;
  states: Partial<Record<RequestState, number>>;
  /** TaskIds of the sent ones (for `/broadcast status`). */
  taskIds: string[];
  earliest: Date;
  seconds: number;
  workers: number;
}

const DAY_MS = 24 * 3600 * 1000;
const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000; // the quota time zone (no DST)

/** The year of history: request i is made on day floor(i / perDay), spread over that day. */
function yearPlan(n: number): { earliest: number; perDay: number; days: number; at: (i: number) => number } {
  const todayStart = Math.floor((Date.now() + SHANGHAI_OFFSET_MS) / DAY_MS) * DAY_MS - SHANGHAI_OFFSET_MS;
  const earliest = todayStart - 366 * DAY_MS;
  const perDay = Math.max(1, Math.ceil(n / 365));
  return { earliest, perDay, days: Math.ceil(n / perDay), at: (i) => earliest + Math.floor(i / perDay) * DAY_MS + (i % perDay) * Math.floor(DAY_MS / perDay) };
}

/**
 * Store `n` requests spread over the past year (at most 100 a day, the default quota), each taken
 * through BroadcastService as the app would: submit, then 1/3 approved and sent (with a TaskId), the
 * rest rejected, expired or failed; every notification marked delivered, as after a year of running.
 * The app's store code costs a few ms per request, so a large history is written by one worker process
 * per core, each a whole-day slice of the year (quota days never straddle two workers); on SQLite each
 * worker writes its own file and the rows are then copied verbatim into the store.
 */
export async function seedHistory(storeUrl: string, n: number): Promise<SeedSummary> {
  const started = performance.now();
  const plan = yearPlan(n);
  const workers = n >= 2000 ? Math.min(cpus().length, 4) : 1;
  let parts: Array<{ states: Partial<Record<RequestState, number>>; taskIds: string[] }>;
  if (workers === 1) {
    parts = [await seedRange(storeUrl, n, 0, n)];
  } else {
    const daysEach = Math.ceil(plan.days / workers);
    const slices = Array.from({ length: workers }, (_, k) => ({ from: k * daysEach * plan.perDay, to: Math.min(n, (k + 1) * daysEach * plan.perDay) })).filter((s) => s.from < s.to);
    const sqlitePath = storeUrl.startsWith('sqlite://') ? storeUrl.slice('sqlite://'.length) : undefined;
    const partUrl = (k: number) => (sqlitePath ? `sqlite://${sqlitePath}.part-${k}` : storeUrl);
    const tsx = pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('tsx')).href;
    parts = await Promise.all(
      slices.map(async (slice, k) => {
        const { stdout } = await promisify(execFile)(
          process.execPath,
          ['--import', tsx, join(ROOT, 'bench', 'seed-worker.ts'), JSON.stringify({ storeUrl: partUrl(k), n, ...slice })],
          { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
        );
        return JSON.parse(stdout) as { states: Partial<Record<RequestState, number>>; taskIds: string[] };
      }),
    );
    if (sqlitePath) {
      const store = await openStore(storeUrl);
      const db = sqliteConnection(store);
      for (let k = 0; k < slices.length; k++) {
        const part = `${sqlitePath}.part-${k}`;
        await db.query(`ATTACH DATABASE '${part.replace(/'/g, "''")}' AS part`);
        await db.query('INSERT INTO requests SELECT * FROM part.requests');
        // Quota counters are per day and the slices are whole days; the push-slot row exists in every part.
        await db.query('INSERT INTO keyv(key, value) SELECT key, value FROM part.keyv WHERE true ON CONFLICT(key) DO NOTHING');
        await db.query('DETACH DATABASE part');
        for (const f of [part, `${part}-wal`, `${part}-shm`, `${part}.writer-lock`]) rmSync(f, { force: true });
      }
      await store.close();
    }
  }
  const states: Partial<Record<RequestState, number>> = {};
  for (const p of parts) for (const [s, c] of Object.entries(p.states)) states[s as RequestState] = (states[s as RequestState] ?? 0) + (c ?? 0);
  return { requests: n, states, taskIds: parts.flatMap((p) => p.taskIds), earliest: new Date(plan.earliest), seconds: (performance.now() - started) / 1000, workers };
}

/** The SqliteStore's own connection (private), for the seeding-only statements above. */
function sqliteConnection(store: Store): { query(sql: string): Promise<unknown> } {
  const db = (store as unknown as { db?: { exec(sql: string): unknown } }).db;
  if (typeof db?.exec !== 'function') throw new Error('SqliteStore changed: bench/app-adapter.ts needs its connection to seed quickly');
  return { query: async (sql) => db.exec(sql) };
}

/** Requests [from, to) of a year of `n`, through the domain service (see seedHistory). */
export async function seedRange(storeUrl: string, n: number, from: number, to: number): Promise<{ states: Partial<Record<RequestState, number>>; taskIds: string[] }> {
  const plan = yearPlan(n);
  const store = await openStore(storeUrl);
  if (store.kind === 'sqlite') {
    // Seeding only: a year of writes in one go would otherwise wait for a disk sync per write.
    // The rows are still written by the store's own statements; the app's own connection is unaffected.
    await sqliteConnection(store).query('PRAGMA synchronous = OFF');
  }
  const outcomes = new Map<number, 'sent' | 'failed'>();
  const pusher: Pusher = {
    push: async (body) =>
      outcomes.get(body.MsgRandom) === 'failed'
        ? { kind: 'refused', code: 90026, info: 'bad offline push info', explanation: explainError(90026) }
        : { kind: 'sent', taskId: `${SDKAPPID}_144115212910570789_${body.MsgRandom}_${10_000_000 + outcomes.size}` },
  };
  // One service per request, each with its own moment of the year for a clock (nothing sleeps).
  const serviceAt = (ms: number) => {
    const clock: Clock = { now: () => new Date(ms), sleep: async () => undefined };
    return new BroadcastService({ store, pusher, dailyQuota: 100, quotaTimeZone: 'Asia/Shanghai', minPushGapMs: 0, clock, retry: { maxAttempts: 1 }, instanceId: 'bench-seed' });
  };
  const states: Partial<Record<RequestState, number>> = {};
  const taskIds: string[] = [];
  const card = (i: number) => ({ channel: APPROVAL_CHANNEL, ts: `${Math.floor(plan.at(i) / 1000)}.${String(i % 1e6).padStart(6, '0')}` });
  const one = async (i: number): Promise<void> => {
    const service = serviceAt(plan.at(i));
    // 1/3 sent, 1/3 rejected, 2/9 expired, 1/9 failed.
    const kind = i % 3 === 0 ? 'sent' : i % 3 === 1 ? 'rejected' : i % 9 === 2 ? 'failed' : 'expired';
    const draft: BroadcastDraft = { message: `History #${i}: maintenance window tonight, please update the app.`, audience: { kind: 'all' }, lifetimeSeconds: 3600 };
    const submitted = await service.decisions.submit({ requesterId: REQUESTER, teamId: 'T0FAKETEAM', draft });
    if (!submitted.ok) throw new Error(`seed request ${i} refused: ${JSON.stringify(submitted)}`);
    const r = submitted.request;
    if (kind === 'sent' || kind === 'failed') {
      outcomes.set(r.body.MsgRandom, kind);
      const approved = await service.decisions.approve({ requestId: r.id, version: r.version, userId: APPROVER, isApprover: true });
      if (!approved.ok) throw new Error(`seed request ${i} not approved: ${approved.refusal}`);
      const done = await approved.pushed;
      if (done?.result?.kind === 'sent') taskIds.push(done.result.taskId);
    } else if (kind === 'rejected') {
      await service.decisions.reject({ requestId: r.id, userId: APPROVER, isApprover: true, reason: 'not this week' });
    } else {
      // Expired a day later, as the sweep would have done.
      await service.requests.update(r.id, (cur) => {
        const next = withEvent(cur, 'expired', new Date(plan.at(i) + DAY_MS), {}, { decision: { by: 'system', at: new Date(plan.at(i) + DAY_MS).toISOString() } });
        return next ? { next } : { refuse: 'not pending' };
      });
    }
    // Every notification was delivered long ago: the card was posted, the thread and DM sent.
    const final = await service.requests.update(r.id, (cur) => {
      const { card: _due, lease: _lease, ...rest } = cur.outbox;
      return { next: { ...cur, card: card(i), outbox: { ...rest, thread: { cursor: cur.history.length }, dm: { cursor: cur.history.length } } } };
    });
    const state = final.ok ? final.request.state : r.state;
    states[state] = (states[state] ?? 0) + 1;
  };
  // Small concurrent batches keep the store busy without reordering the year much.
  const BATCH = 16;
  for (let i = from; i < to; i += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, to - i) }, (_, k) => one(i + k)));
  }
  await store.close();
  return { states, taskIds };
}

/** The approve click on a request's card as Slack sends it (the card is read from the fake). */
export const approveClickBody = (fake: Parameters<typeof clickBody>[0], requestId: string) => clickBody(fake, 'approve', requestId, APPROVER);
