/**
 * A seeded randomized fault campaign against the real app: two instances (child processes, compiled
 * JavaScript) on one real Redis, the fake Slack and the push emulator (one-second de-duplication).
 * Each trial submits one to three requests and fires a random mix at them at once — approvals
 * (repeated, to the other instance, re-sent with X-Slack-Retry-Num, from an out-of-date card),
 * rejections racing them, edits, clicks by the requester and by an outsider — with Tencent faults
 * (91000, 90024, 60008, a refusal, HTTP 5xx, answers slower than the client timeout, slow answers,
 * connections dropped after the request) and Slack faults armed, and SIGKILLs of an instance at
 * random moments, each followed by a restart. Then it waits until nothing more happens by itself,
 * settles what people would settle (approve again or cancel; read the console and mark an unknown
 * outcome), and checks (checks.ts): at most one push per request, none without a valid approval,
 * every card and thread telling the truth. Used by chaos.e2e.test.ts (short) and run.ts (long).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { atRest } from '../robustness/support.js';
import { Requests } from '../../src/broadcast/requests.js';
import { openStore } from '../../src/broadcast/store/open.js';
import type { Store } from '../../src/broadcast/store/store.js';
import type { BroadcastRequest } from '../../src/broadcast/types.js';
import { PUSH_PATH } from '../../src/tim/client.js';
import { PushEmulator, type AcceptedPush, type EmulatorRequest, type FaultMode } from '../../src/tim/emulator.js';
import { MARK_SENT_TASK_ID } from '../../views/mark-sent-modal.js';
import { REJECT_REASON_ID } from '../../views/reject-modal.js';
import { FakeSlack, type SlackFault, type StoredMessage } from '../fakes/fake-slack.js';
import {
  APPROVAL_CHANNEL,
  APPROVER,
  APPROVER_2,
  APPROVER_GROUP,
  FORMS,
  GROUP_MEMBER,
  OUTSIDER,
  SDKAPPID,
  SIGNING_SECRET,
  TIM_SECRET_KEY,
  baseEnv,
  openRequestModal,
  submissionBody,
} from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { blockActionBody, fakeTriggerId, postSigned } from '../helpers/slack-requests.js';
import { RESTING_STATES, buttonsOf, checkTrial, type SlackView, type Violation } from './checks.js';
import { Instance, buildApp, pause } from './instances.js';
import { Rng } from './prng.js';

export type { Violation } from './checks.js';

const APPROVERS = [APPROVER, APPROVER_2, GROUP_MEMBER] as const;
/** A push lease this short settles a killed instance's push within a couple of seconds. */
const LEASE_SECONDS = 2;
/** The smallest client timeout the settings allow; 'timeout' faults answer later than this. */
const TIM_TIMEOUT_MS = 3500;
/** How long a trial may take to come to rest before what is left is reported. */
const SETTLE_LIMIT_MS = 120_000;

// ------------------------------------------------------------------ the plan of a trial

type ValueKind = 'current' | 'stale' | 'bare';
type ActionKind = 'approve' | 'reject' | 'cancel' | 'edit' | 'mark_not_sent';

interface ActionPlan {
  kind: ActionKind;
  user: string;
  role: 'approver' | 'requester' | 'outsider';
  atMs: number;
  instance: number;
  /** approve: which button value the clicker's card shows. */
  value?: ValueKind;
  /** approve: clicks in a row (double clicks), and whether the repeats are Slack's retries of the same payload. */
  repeats?: number;
  retryHeader?: boolean;
  /** reject/edit: where the modal's submission goes, and how long the person takes to fill it in. */
  submitTo?: number;
  thinkMs?: number;
}

interface RequestPlan {
  requester: string;
  /** Requester's account is deactivated: every DM fails for good; the card and thread must not care. */
  deactivated: boolean;
  requesterIsApprover: boolean;
  form: Record<string, string>;
  submitTo: number;
  actions: ActionPlan[];
  /** If nothing decided it by the end: approve it after all (else the requester cancels it). */
  thenApprove: boolean;
  /** An unknown outcome is settled by an approver reading the console (else it stays unknown). */
  resolveUnknown: boolean;
  withTaskId: boolean;
}

type TencentFaultKind = '91000' | '90024' | '60008' | 'refusal' | 'http5xx' | 'timeout' | 'slow' | 'drop';
interface TencentFault {
  kind: TencentFaultKind;
  mode: FaultMode;
}

type SlackFaultKind = '429' | '500' | '503' | 'drop' | 'refuse' | 'internal_error';
interface SlackFaultPlan {
  kind: SlackFaultKind;
  method: string;
  n: number;
  fault: SlackFault;
}

interface KillPlan {
  instance: number;
  atMs: number;
  downMs: number;
  /** Restart under the same INSTANCE_ID (a StatefulSet) or a new one (a Deployment). */
  sameName: boolean;
}

export interface TrialPlan {
  requests: RequestPlan[];
  tencentFaults: TencentFault[];
  slackFaults: SlackFaultPlan[];
  kills: KillPlan[];
}

const TENCENT_FAULTS: ReadonlyArray<readonly [TencentFaultKind, number]> = [
  ['91000', 3],
  ['90024', 1],
  ['60008', 1],
  ['refusal', 1],
  ['http5xx', 2],
  ['timeout', 2],
  ['slow', 2],
  ['drop', 2],
];

function tencentFault(rng: Rng): TencentFault {
  const kind = rng.weighted(TENCENT_FAULTS);
  const accept = rng.chance(0.5);
  switch (kind) {
    case '91000':
      // Tencent documents 91000 as "not carried out, retry": the emulator does not act on it.
      return { kind, mode: { kind: 'error', code: 91000 } };
    case '90024':
      return { kind, mode: { kind: 'error', code: 90024 } };
    case '60008':
      return { kind, mode: { kind: 'error', code: 60008, accept } };
    case 'refusal':
      return { kind, mode: { kind: 'error', code: 60010 } };
    case 'http5xx':
      return { kind, mode: { kind: 'http', status: rng.pick([500, 502, 503, 504]), accept } };
    case 'timeout':
      return { kind, mode: { kind: 'delay', ms: rng.int(TIM_TIMEOUT_MS + 500, TIM_TIMEOUT_MS + 2000), accept } };
    case 'slow':
      return { kind, mode: { kind: 'delay', ms: rng.int(300, 2500), accept: true } };
    case 'drop':
      return { kind, mode: { kind: 'drop', accept } };
  }
}

function slackFault(rng: Rng): SlackFaultPlan {
  const method = rng.weighted([
    ['chat.postMessage', 4],
    ['chat.update', 3],
    ['chat.getPermalink', 1],
    ['usergroups.users.list', 1],
    ['views.open', 1],
  ] as const);
  const kind = rng.weighted([
    ['429', 2],
    ['500', 2],
    ['503', 1],
    ['drop', 2],
    ['refuse', 1],
    ['internal_error', 1],
  ] as const);
  const fault: SlackFault =
    kind === '429'
      ? { status: 429, retryAfter: 1 }
      : kind === '500'
        ? { status: 500 }
        : kind === '503'
          ? { status: 503 }
          : kind === 'drop'
            ? { drop: true }
            : kind === 'refuse'
              ? { refuse: true, forMs: rng.int(100, 600) }
              : { error: 'internal_error' };
  return { kind, method, n: rng.int(1, 2), fault };
}

function count<T>(rng: Rng, weights: readonly number[], each: () => T): T[] {
  const n = rng.weighted(weights.map((w, i) => [i, w] as const));
  return Array.from({ length: n }, each);
}

/** Everything a trial will do, drawn before anything runs (timings of the system itself are not seeded). */
export function drawPlan(rng: Rng, trial: number): TrialPlan {
  const requests = count(rng, [0, 55, 35, 10], () => null).map((_, k): RequestPlan => {
    const requesterIsApprover = rng.chance(0.2);
    const requester = requesterIsApprover ? APPROVER_2 : `U0CH${trial.toString(36).toUpperCase()}R${k}`;
    const deactivated = !requesterIsApprover && rng.chance(0.1);
    const everyone = rng.chance(0.45);
    const form = { ...(everyone ? FORMS.all : FORMS.tagsAny), message: `Chaos trial ${trial} request ${k}: maintenance at 23:00.` };
    const required = everyone ? 2 : 1;
    const pool = APPROVERS.filter((a) => a !== requester);
    const actions: ActionPlan[] = [];
    const instance = () => rng.int(0, 1);
    // Approvers: usually enough of them (sometimes one more), sometimes too few.
    const approvers = [...pool].sort(() => rng.next() - 0.5);
    const approving = rng.chance(0.8) ? Math.min(pool.length, required + (rng.chance(0.3) ? 1 : 0)) : rng.int(0, required - 1);
    for (const user of approvers.slice(0, approving)) {
      const repeats = rng.weighted([
        [1, 6],
        [2, 3],
        [3, 1],
      ] as const);
      actions.push({
        kind: 'approve',
        user,
        role: 'approver',
        atMs: rng.int(0, 1500),
        instance: instance(),
        value: rng.weighted([
          ['current', 75],
          ['stale', 15],
          ['bare', 10],
        ] as const),
        repeats,
        retryHeader: repeats > 1 && rng.chance(0.4),
      });
    }
    // A requester who is an approver trying to approve their own request is the case that matters most.
    if (rng.chance(requesterIsApprover ? 0.7 : 0.3)) actions.push({ kind: 'approve', user: requester, role: 'requester', atMs: rng.int(0, 1500), instance: instance(), value: 'current', repeats: 1 });
    if (rng.chance(0.35)) actions.push({ kind: 'approve', user: OUTSIDER, role: 'outsider', atMs: rng.int(0, 1500), instance: instance(), value: 'current', repeats: 1 });
    if (rng.chance(0.3)) {
      actions.push({ kind: 'reject', user: rng.pick(pool), role: 'approver', atMs: rng.int(0, 1500), instance: instance(), submitTo: instance(), thinkMs: rng.int(0, 800) });
    }
    if (rng.chance(0.1)) actions.push({ kind: 'reject', user: OUTSIDER, role: 'outsider', atMs: rng.int(0, 1500), instance: instance(), submitTo: instance(), thinkMs: 0 });
    if (rng.chance(0.1)) actions.push({ kind: 'cancel', user: requester, role: 'requester', atMs: rng.int(0, 1500), instance: instance() });
    if (rng.chance(0.1)) actions.push({ kind: 'cancel', user: OUTSIDER, role: 'outsider', atMs: rng.int(0, 1500), instance: instance() });
    if (rng.chance(0.15)) actions.push({ kind: 'edit', user: requester, role: 'requester', atMs: rng.int(0, 1000), instance: instance(), submitTo: instance(), thinkMs: rng.int(0, 600) });
    if (rng.chance(0.1)) actions.push({ kind: 'mark_not_sent', user: OUTSIDER, role: 'outsider', atMs: rng.int(0, 1500), instance: instance() });
    return {
      requester,
      deactivated,
      requesterIsApprover,
      form,
      submitTo: instance(),
      actions,
      thenApprove: rng.chance(0.5),
      resolveUnknown: rng.chance(0.5),
      withTaskId: rng.chance(0.7),
    };
  });
  const tencentFaults = count(rng, [30, 35, 20, 15], () => tencentFault(rng));
  const slackFaults = count(rng, [35, 30, 20, 15], () => slackFault(rng));
  const kills = count(rng, [45, 45, 10], () => null).map(
    (): KillPlan => ({ instance: rng.int(0, 1), atMs: rng.int(0, 3000), downMs: rng.int(0, 1500), sameName: rng.chance(0.5) }),
  );
  kills.sort((a, b) => a.atMs - b.atMs);
  return { requests, tencentFaults, slackFaults, kills };
}

// ------------------------------------------------------------------ figures

export interface Figures {
  seed: number;
  firstTrial: number;
  trials: number;
  seconds: number;
  requests: number;
  /** Payloads sent to the app, by kind (`total` = all of them). */
  clicks: Record<string, number>;
  /** im_push requests that reached the emulator, and the push tasks it accepted. */
  pushAttempts: number;
  pushes: number;
  kills: number;
  restarts: number;
  /** Instances that exited without being killed (each is also a violation). */
  crashes: number;
  tencentFaults: Record<string, { armed: number; fired: number }>;
  slackFaults: Record<string, { armed: number; fired: number }>;
  /** Slack posts made twice (at least once delivery after a crash): counted, not violations. */
  duplicates: { thread: number; dm: number; card: number };
  finalStates: Record<string, number>;
  violations: Violation[];
}

function emptyFigures(seed: number, firstTrial: number): Figures {
  return {
    seed,
    firstTrial,
    trials: 0,
    seconds: 0,
    requests: 0,
    clicks: { total: 0 },
    pushAttempts: 0,
    pushes: 0,
    kills: 0,
    restarts: 0,
    crashes: 0,
    tencentFaults: Object.fromEntries(TENCENT_FAULTS.map(([k]) => [k, { armed: 0, fired: 0 }])),
    slackFaults: Object.fromEntries(['429', '500', '503', 'drop', 'refuse', 'internal_error'].map((k) => [k, { armed: 0, fired: 0 }])),
    duplicates: { thread: 0, dm: 0, card: 0 },
    finalStates: {},
    violations: [],
  };
}

/** The short profile the test suite runs (and `npm run chaos -- --quick`). */
export const QUICK = { trials: 6, seed: 20240607 };

/** The figures as a two-column table. */
export function figuresTable(f: Figures): string {
  const rows: [string, string][] = [
    ['seed', String(f.seed)],
    ['trials', `${f.trials}${f.firstTrial ? ` (from trial ${f.firstTrial})` : ''}`],
    ['duration', `${f.seconds} s (${f.trials ? (f.seconds / f.trials).toFixed(1) : '-'} s per trial)`],
    ['requests', String(f.requests)],
    ['clicks (payloads sent)', String(f.clicks['total'] ?? 0)],
    ...Object.entries(f.clicks)
      .filter(([k]) => k !== 'total')
      .sort()
      .map(([k, v]): [string, string] => [`  ${k}`, String(v)]),
    ['push requests (attempts)', String(f.pushAttempts)],
    ['pushes (accepted tasks)', String(f.pushes)],
    ['SIGKILLs', String(f.kills)],
    ['restarts', String(f.restarts)],
    ['crashes', String(f.crashes)],
    ['Tencent faults (fired/armed)', ''],
    ...Object.entries(f.tencentFaults).map(([k, v]): [string, string] => [`  ${k}`, `${v.fired}/${v.armed}`]),
    ['Slack faults (fired/armed)', ''],
    ...Object.entries(f.slackFaults).map(([k, v]): [string, string] => [`  ${k}`, `${v.fired}/${v.armed}`]),
    ['duplicate Slack posts', `thread ${f.duplicates.thread}, dm ${f.duplicates.dm}, card ${f.duplicates.card}`],
    ['final states', Object.entries(f.finalStates).sort().map(([k, v]) => `${k} ${v}`).join(', ')],
    ['VIOLATIONS', String(f.violations.length)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

// ------------------------------------------------------------------ the campaign

export interface CampaignOptions {
  trials: number;
  seed: number;
  /** Index of the first trial (to replay one trial of a longer campaign: same seed, from N, 1 trial). */
  from?: number;
  /** A line per trial (progress), and diagnostics of violations. */
  log?: (line: string) => void;
  /** Stop at the first trial with a violation. */
  stopOnViolation?: boolean;
  /** Write what a trial with a violation left behind (requests, Slack calls, both instances' logs) here. */
  reportDir?: string;
}

interface Tracked {
  id: string;
  plan: RequestPlan;
  /** The approve button's value when the card first appeared (what an out-of-date client still shows). */
  firstValue?: string;
}

/** Run a campaign from scratch (its own Redis, fake Slack, emulator and two app instances) and return its figures. */
export async function runCampaign(o: CampaignOptions): Promise<Figures> {
  const log = o.log ?? (() => undefined);
  const from = o.from ?? 0;
  const figures = emptyFigures(o.seed, from);
  const started = Date.now();
  const main = await buildApp();

  let redis: RedisHandle | undefined;
  let fake: FakeSlack | undefined;
  let emulator: PushEmulator | undefined;
  let store: Store | undefined;
  const instances: Instance[] = [];
  try {
    redis = await startRedis();
    fake = await FakeSlack.start();
    fake.usergroups.set(APPROVER_GROUP, [GROUP_MEMBER]);
    let faultsFired = 0;
    emulator = await PushEmulator.start({
      sdkAppId: SDKAPPID,
      secretKey: TIM_SECRET_KEY,
      minIntervalMs: 1000,
      dedupWindowMs: 1000,
      dailyQuota: 1_000_000,
      onRequest: (e) => {
        if (e.fault && e.path === PUSH_PATH) faultsFired++;
      },
    });
    store = await openStore(redis.url);
    const env: Record<string, string> = {
      ...baseEnv({ slackApiUrl: fake.apiUrl, timBaseUrl: emulator.url, storeUrl: redis.url }),
      PUSH_LEASE_SECONDS: String(LEASE_SECONDS),
      TIM_TIMEOUT_MS: String(TIM_TIMEOUT_MS),
      EVERYONE_APPROVALS: '2',
      TARGETED_APPROVALS: '1',
      DAILY_QUOTA: '1000000',
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    };
    for (const name of ['a', 'b']) instances.push(new Instance(name, await freePort(), main, env));
    const ids = ['chaos-a-1', 'chaos-b-1'];
    await Promise.all(instances.map((inst, i) => inst.start({ instanceId: ids[i]! })));

    const world: World = {
      fake,
      emulator,
      requests: new Requests(store),
      store,
      instances,
      instanceIds: ids,
      figures,
      acceptedByMsgRandom: new Map(),
      requestOfMsgRandom: new Map(),
      quotaOf: new Map(),
      faultsFired: () => faultsFired,
      log,
      ...(o.reportDir ? { reportDir: o.reportDir } : {}),
    };
    for (let t = from; t < from + o.trials; t++) {
      const before = figures.violations.length;
      const plan = drawPlan(Rng.forTrial(o.seed, t), t);
      const trialStart = Date.now();
      await runTrial(world, t, plan);
      figures.trials++;
      const found = figures.violations.slice(before);
      log(
        `trial ${t}: ${plan.requests.length} request(s), ${plan.tencentFaults.map((f) => f.kind).join('+') || 'no'} Tencent faults, ` +
          `${plan.slackFaults.map((f) => `${f.kind}@${f.method}`).join('+') || 'no'} Slack faults, ${plan.kills.length} kill(s): ` +
          `${found.length ? `${found.length} VIOLATION(S)` : 'ok'} (${((Date.now() - trialStart) / 1000).toFixed(1)} s)`,
      );
      for (const v of found) log(`  ✗ [${v.check}] ${v.requestId ?? ''} ${v.detail}`);
      if (found.length && o.stopOnViolation) break;
    }
    for (const inst of instances) {
      figures.crashes += inst.crashes.length;
    }
  } finally {
    for (const inst of instances) {
      await inst.stop(10_000).catch(() => undefined);
      inst.dispose();
    }
    await store?.close().catch(() => undefined);
    await emulator?.close();
    await fake?.close();
    await redis?.stop();
    figures.seconds = Math.round((Date.now() - started) / 100) / 10;
  }
  return figures;
}

interface World {
  fake: FakeSlack;
  emulator: PushEmulator;
  requests: Requests;
  store: Store;
  instances: Instance[];
  /** The INSTANCE_ID each slot runs under now. */
  instanceIds: string[];
  figures: Figures;
  acceptedByMsgRandom: Map<number, AcceptedPush[]>;
  requestOfMsgRandom: Map<number, string>;
  /** Quota day and state of every request so far (the quota check counts them). */
  quotaOf: Map<string, { day?: string; state: string }>;
  faultsFired: () => number;
  log: (line: string) => void;
  reportDir?: string;
}

const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

// ------------------------------------------------------------------ Slack's side: payloads to the app

/** Cards of a request: top-level messages in the approval channel whose metadata names it. */
function cardsOf(fake: FakeSlack, id: string): StoredMessage[] {
  return fake
    .messages(APPROVAL_CHANNEL)
    .filter((m) => !m.thread_ts && (m.metadata as { event_payload?: { request_id?: unknown } } | undefined)?.event_payload?.request_id === id);
}

function valueOn(card: StoredMessage | undefined, actionId: string): string | undefined {
  return buttonsOf(card).find((b) => b.actionId === actionId)?.value;
}

let responseSeq = 0;

function clickOn(fake: FakeSlack, card: StoredMessage, actionId: string, userId: string, value: string, triggerId = fakeTriggerId()): string {
  return blockActionBody({
    userId,
    actionId,
    value,
    triggerId,
    responseUrl: fake.responseUrl(`chaos-${userId}-${++responseSeq}`),
    channelId: APPROVAL_CHANNEL,
    messageTs: card.ts,
    message: { type: 'message', ts: card.ts, text: card.text, blocks: card.blocks },
  });
}

/**
 * Deliver a payload to instance `to` as Slack would. If the instance cannot be reached (killed),
 * Slack's retry (X-Slack-Retry-Num) reaches the other one after a moment.
 */
async function deliver(w: World, body: string, to: number, kind: string, headers: Record<string, string> = {}): Promise<boolean> {
  bump(w.figures.clicks, kind);
  bump(w.figures.clicks, 'total');
  for (let attempt = 0; attempt < 4; attempt++) {
    const inst = w.instances[(to + attempt) % w.instances.length]!;
    const retry: Record<string, string> = attempt > 0 ? { 'x-slack-retry-num': String(attempt), 'x-slack-retry-reason': 'http_error' } : {};
    try {
      const res = await postSigned(inst.url, SIGNING_SECRET, body, { headers: { ...headers, ...retry } });
      if (res.status === 200) return true;
      bump(w.figures.clicks, `http_${res.status}`);
    } catch {
      // Refused or reset: the instance is down (or went down mid-request).
    }
    bump(w.figures.clicks, 'redelivered');
    await pause(250 * (attempt + 1));
  }
  return false;
}

/** Wait until `probe` answers (polling the fake in this process), or give up after `ms`. */
async function waitUntil<T>(probe: () => T | undefined | false, ms: number): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() >= deadline) return undefined;
    await pause(25);
  }
}

async function openedModal(fake: FakeSlack, triggerId: string, ms: number): Promise<any> {
  const opened = await waitUntil(() => fake.views.find((v) => v.method === 'views.open' && v.trigger_id === triggerId), ms);
  return opened?.view;
}

// ------------------------------------------------------------------ one trial

async function runTrial(w: World, trial: number, plan: TrialPlan): Promise<void> {
  const { fake, emulator, figures } = w;
  const violation = (check: string, detail: string, requestId?: string) =>
    figures.violations.push({ trial, check, detail, ...(requestId ? { requestId } : {}) });
  await ensureRunning(w, trial);
  const firedBefore = w.faultsFired();

  // 1. People open the form with /broadcast; then Slack starts failing; then they submit.
  const modals: any[] = [];
  for (const rp of plan.requests) {
    if (rp.deactivated) fake.userStates.set(rp.requester, 'deactivated');
    bump(figures.clicks, 'command');
    bump(figures.clicks, 'total');
    modals.push(await openRequestModal(fake, w.instances[rp.submitTo]!.url, SIGNING_SECRET, rp.requester));
  }
  for (const f of plan.slackFaults) {
    fake.failNext(f.method, f.n, f.fault);
    figures.slackFaults[f.kind]!.armed += f.n;
  }
  const tracked: Tracked[] = [];
  for (const [k, rp] of plan.requests.entries()) {
    const delivered = await deliver(w, submissionBody(modals[k], rp.form, rp.requester), rp.submitTo, 'submit');
    const newest = (await w.store.list({ requester: rp.requester, limit: 1 }))[0];
    if (!delivered || !newest || tracked.some((t) => t.id === newest.data.id)) {
      violation('submit', `the submission of request ${k} by ${rp.requester} was not stored (delivered: ${delivered})`);
      continue;
    }
    tracked.push({ id: newest.data.id, plan: rp });
  }
  figures.requests += tracked.length;
  for (const f of plan.tencentFaults) {
    emulator.failNext(1, f.mode);
    figures.tencentFaults[f.kind]!.armed++;
  }

  // 2. The cards appear (through whatever Slack faults); people read them.
  for (const t of tracked) {
    const card = await waitUntil(() => cardsOf(fake, t.id)[0], 20_000);
    t.firstValue = valueOn(card, 'approve');
  }

  // 3. Everything at once: clicks, modals, and SIGKILLs with restarts.
  const begin = Date.now();
  const killing = (async () => {
    for (const k of plan.kills) {
      const wait = begin + k.atMs - Date.now();
      if (wait > 0) await pause(wait);
      const inst = w.instances[k.instance]!;
      if (!inst.alive) continue;
      await inst.kill();
      figures.kills++;
      await pause(k.downMs);
      await restart(w, k.instance, k.sameName);
    }
  })();
  await Promise.all([killing, ...tracked.flatMap((t) => t.plan.actions.map((a) => act(w, t, a)))]);

  // 4. Wait for rest, settling what people would settle.
  await settle(w, trial, tracked);

  // 5. Check.
  const fired = w.faultsFired() - firedBefore;
  let left = fired;
  for (const f of plan.tencentFaults) if (left-- > 0) figures.tencentFaults[f.kind]!.fired++;
  countSlackFaults(w, plan);
  const newPushes = emulator.pushes.slice();
  const pushRequests: EmulatorRequest[] = emulator.requests.filter((q) => q.path === PUSH_PATH);
  figures.pushAttempts += pushRequests.length;
  figures.pushes += newPushes.length;
  for (const p of newPushes) w.acceptedByMsgRandom.set(p.body.MsgRandom, [...(w.acceptedByMsgRandom.get(p.body.MsgRandom) ?? []), p]);
  const finals: BroadcastRequest[] = [];
  for (const t of tracked) {
    const r = await w.requests.get(t.id);
    if (!r) {
      violation('lost', 'the request is gone from the store', t.id);
      continue;
    }
    finals.push(r);
    w.requestOfMsgRandom.set(r.body.MsgRandom, r.id);
    w.quotaOf.set(r.id, { state: r.state, ...(r.quotaDay ? { day: r.quotaDay } : {}) });
    bump(figures.finalStates, r.state);
  }
  const slack = new Map<string, SlackView>();
  const requesters = plan.requests.map((rp) => rp.requester);
  for (const r of finals) {
    const t = tracked.find((x) => x.id === r.id)!;
    const own = !t.plan.requesterIsApprover && requesters.filter((u) => u === r.requesterId).length === 1;
    slack.set(r.id, {
      cards: cardsOf(fake, r.id),
      thread: r.card ? fake.threadReplies(APPROVAL_CHANNEL, r.card.ts) : [],
      ...(own ? { dms: fake.dms(r.requesterId) } : {}),
    });
  }
  const result = checkTrial({
    trial,
    approvers: new Set(APPROVERS),
    requests: finals,
    slack,
    acceptedByMsgRandom: w.acceptedByMsgRandom,
    pushRequests,
    requestOfMsgRandom: w.requestOfMsgRandom,
    newPushes,
  });
  figures.violations.push(...result.violations);
  figures.duplicates.thread += result.duplicates.thread;
  figures.duplicates.dm += result.duplicates.dm;
  figures.duplicates.card += result.duplicates.card;
  await checkQuota(w, trial);
  for (const [i, inst] of w.instances.entries()) {
    for (const c of inst.crashes.splice(0)) {
      figures.crashes++;
      violation('crash', `instance ${inst.name} (${w.instanceIds[i]}) exited by itself (${JSON.stringify(c.exit)}):\n${c.output.slice(-3000)}`);
    }
    // A forgotten promise, or a push run that died of an error, is a bug even when nothing else shows it.
    const bugs = inst.output().match(/^.*"msg":"(?:unhandled promise rejection|push run failed).*$/gm);
    if (bugs) violation('logged-bug', `instance ${inst.name}: ${bugs.length} line(s) like ${bugs[0]!.slice(0, 1500)}`);
  }
  if (figures.violations.some((v) => v.trial === trial)) {
    w.log(`  plan of trial ${trial}: ${JSON.stringify(plan)}`);
    for (const r of finals) w.log(`  ${r.id} (${r.requesterId}) ${r.state}: ${r.history.map((e) => `${e.kind}${e.by ? `(${e.by})` : ''}`).join(' → ')}; outbox ${JSON.stringify(r.outbox)}`);
    if (w.reportDir) {
      mkdirSync(w.reportDir, { recursive: true });
      const file = join(w.reportDir, `trial-${trial}.log`);
      const calls = fake.calls.map((c) => `${new Date(c.at).toISOString()} ${c.method} ${c.status} ${JSON.stringify(c.answer).slice(0, 200)}`);
      writeFileSync(
        file,
        [
          `plan: ${JSON.stringify(plan)}`,
          `requests: ${JSON.stringify(finals, null, 1)}`,
          `im_push requests: ${JSON.stringify(pushRequests.map((q) => ({ MsgRandom: (q.body as { MsgRandom?: number }).MsgRandom, response: q.response })))}`,
          `Slack calls:\n${calls.join('\n')}`,
          ...w.instances.map((inst, i) => `--- instance ${inst.name} (${w.instanceIds[i]}) output:\n${inst.output()}`),
        ].join('\n\n'),
      );
      w.log(`  details: ${file}`);
    }
  }

  // 6. Clean slate for the next trial (nothing is in flight now: every request is at rest).
  fake.reset();
  emulator.reset();
  for (const inst of w.instances) inst.clearOutput();
}

function countSlackFaults(w: World, plan: TrialPlan): void {
  const calls = w.fake.calls;
  for (const f of plan.slackFaults) {
    const matching = calls.filter((c) => {
      if (c.method !== f.method) return false;
      const answer = c.answer as { dropped?: boolean; refused?: boolean; error?: string } | undefined;
      switch (f.kind) {
        case '429':
        case '500':
        case '503':
          return c.status === Number(f.kind);
        case 'drop':
          return c.status === 0 && !answer?.refused;
        case 'refuse':
          return c.status === 0 && answer?.refused === true;
        case 'internal_error':
          return answer?.error === 'internal_error';
      }
    }).length;
    w.figures.slackFaults[f.kind]!.fired += Math.min(f.n, matching);
  }
}

/** The daily count holds exactly the requests that were (or may have been) pushed that day. */
async function checkQuota(w: World, trial: number): Promise<void> {
  const expected = new Map<string, number>();
  for (const q of w.quotaOf.values()) if (q.day && ['sent', 'unknown', 'approved', 'sending'].includes(q.state)) expected.set(q.day, (expected.get(q.day) ?? 0) + 1);
  const days = new Set([...w.quotaOf.values()].map((q) => q.day).filter((d): d is string => Boolean(d)));
  for (const day of days) {
    const used = await w.store.counter(`quota:${day}:used`);
    if (used !== (expected.get(day) ?? 0)) {
      w.figures.violations.push({ trial, check: 'quota', detail: `quota of ${day} counts ${used}, but ${expected.get(day) ?? 0} requests were (or may have been) pushed that day` });
      // Report a drift once, not at every later trial.
      for (const [id, q] of w.quotaOf) if (q.day === day) w.quotaOf.set(id, { state: q.state, day: `${day} (reported)` });
    }
  }
}

async function restart(w: World, slot: number, sameName: boolean): Promise<void> {
  const inst = w.instances[slot]!;
  if (!sameName) w.instanceIds[slot] = `chaos-${inst.name}-${inst.starts + 1}`;
  await inst.start({ instanceId: w.instanceIds[slot]! });
  w.figures.restarts++;
}

/** Both instances up (an instance that exited by itself is reported as a crash and started again). */
async function ensureRunning(w: World, trial: number): Promise<void> {
  for (const [i, inst] of w.instances.entries()) {
    if (inst.alive) continue;
    for (const c of inst.crashes.splice(0)) {
      w.figures.crashes++;
      w.figures.violations.push({ trial, check: 'crash', detail: `instance ${inst.name} exited by itself (${JSON.stringify(c.exit)}):\n${c.output.slice(-3000)}` });
    }
    await restart(w, i, true);
  }
}

// ------------------------------------------------------------------ what people do

async function act(w: World, t: Tracked, a: ActionPlan): Promise<void> {
  await pause(a.atMs);
  const { fake } = w;
  const card = cardsOf(fake, t.id)[0];
  if (!card) return; // nobody can click a card Slack never showed
  const current = valueOn(card, a.kind === 'mark_not_sent' ? 'approve' : a.kind) ?? t.firstValue ?? `${t.id}:`;
  switch (a.kind) {
    case 'approve': {
      const value = a.value === 'bare' ? t.id : a.value === 'stale' ? (t.firstValue ?? current) : current;
      const kind = a.role !== 'approver' ? `approve:${a.role}` : a.value === 'current' ? 'approve' : `approve:${a.value}`;
      const body = clickOn(fake, card, 'approve', a.user, value);
      await deliver(w, body, a.instance, kind);
      for (let k = 1; k < (a.repeats ?? 1); k++) {
        await pause(40 * k);
        // A double click is a new payload; Slack's retry is the same one again, with its headers.
        if (a.retryHeader) await deliver(w, body, 1 - a.instance, 'approve:retry-header', { 'x-slack-retry-num': String(k), 'x-slack-retry-reason': 'http_timeout' });
        else await deliver(w, clickOn(fake, card, 'approve', a.user, value), k % 2 ? 1 - a.instance : a.instance, 'approve:repeat');
      }
      return;
    }
    case 'reject':
    case 'edit': {
      const trigger = fakeTriggerId();
      await deliver(w, clickOn(fake, card, a.kind, a.user, valueOn(card, a.kind) ?? current, trigger), a.instance, `${a.kind}:${a.role}`);
      const view = await openedModal(fake, trigger, 3000);
      if (!view) return; // refused (told privately), or Slack could not open the modal
      await pause(a.thinkMs ?? 0);
      const fields: Record<string, string> = a.kind === 'reject' ? { [REJECT_REASON_ID]: 'Chaos says no.' } : { message: `${t.plan.form.message} (edited)` };
      await deliver(w, submissionBody(view, fields, a.user), a.submitTo ?? a.instance, `${a.kind}:submit`);
      return;
    }
    case 'cancel':
      await deliver(w, clickOn(fake, card, 'cancel', a.user, valueOn(card, 'cancel') ?? current), a.instance, `cancel:${a.role}`);
      return;
    case 'mark_not_sent':
      await deliver(w, clickOn(fake, card, 'mark_not_sent', a.user, current), a.instance, `mark_not_sent:${a.role}`);
      return;
  }
}

/**
 * Wait until every request of the trial is at rest, doing what people would do meanwhile: a
 * request still pending is approved after all (or cancelled by its requester); an unknown outcome
 * is settled by an approver who reads the Tencent console (the emulator) and tells the truth.
 */
async function settle(w: World, trial: number, tracked: Tracked[]): Promise<void> {
  const { fake } = w;
  const deadline = Date.now() + SETTLE_LIMIT_MS;
  const rounds = new Map<string, number>();
  const resolveRounds = new Map<string, number>();
  const nextActAt = new Map<string, number>();
  let quietRevs = '';
  for (;;) {
    await ensureRunning(w, trial);
    const rs = (await Promise.all(tracked.map((t) => w.requests.get(t.id)))).filter((r): r is BroadcastRequest => Boolean(r));
    const resting = rs.every((r) => (RESTING_STATES as readonly string[]).includes(r.state) && atRest(r) && !r.lease);
    let acted = false;
    for (const r of rs) {
      const t = tracked.find((x) => x.id === r.id)!;
      if (!atRest(r) || r.lease || (nextActAt.get(r.id) ?? 0) > Date.now()) continue;
      const card = cardsOf(fake, r.id).find((c) => c.ts === r.card?.ts);
      if (!card) continue;
      const round = rounds.get(r.id) ?? 0;
      const resolveRound = resolveRounds.get(r.id) ?? 0;
      if (r.state === 'pending') {
        rounds.set(r.id, round + 1);
        nextActAt.set(r.id, Date.now() + 1500);
        acted = true;
        const value = valueOn(card, 'approve');
        if (t.plan.thenApprove && round === 0 && value) {
          const needed = r.requiredApprovals - r.approvals.length;
          const fresh = APPROVERS.filter((a) => a !== r.requesterId && !r.approvals.some((x) => x.userId === a)).slice(0, needed);
          for (const user of fresh) await deliver(w, clickOn(fake, card, 'approve', user, value), round % 2, 'settle:approve');
        } else {
          await deliver(w, clickOn(fake, card, 'cancel', r.requesterId, valueOn(card, 'cancel') ?? `${r.id}:${r.version}`), round % 2, 'settle:cancel');
        }
      } else if (r.state === 'unknown' && t.plan.resolveUnknown && resolveRound < 3) {
        resolveRounds.set(r.id, resolveRound + 1);
        nextActAt.set(r.id, Date.now() + 1500);
        acted = true;
        const value = valueOn(card, 'mark_sent') ?? `${r.id}:${r.version}`;
        const user = APPROVERS.find((a) => a !== r.requesterId)!;
        // The approver reads the console: did a task with this MsgRandom go out?
        const accepted = [...(w.acceptedByMsgRandom.get(r.body.MsgRandom) ?? []), ...w.emulator.acceptedFor(r.body.MsgRandom)][0];
        if (accepted) {
          const trigger = fakeTriggerId();
          await deliver(w, clickOn(fake, card, 'mark_sent', user, value, trigger), resolveRound % 2, 'settle:mark_sent');
          const view = await openedModal(fake, trigger, 3000);
          if (view) await deliver(w, submissionBody(view, { [MARK_SENT_TASK_ID]: t.plan.withTaskId ? accepted.taskId : '' }, user), resolveRound % 2, 'settle:mark_sent_submit');
        } else {
          await deliver(w, clickOn(fake, card, 'mark_not_sent', user, valueOn(card, 'mark_not_sent') ?? value), resolveRound % 2, 'settle:mark_not_sent');
        }
      }
    }
    if (resting && !acted && !rs.some((r) => r.state === 'unknown' && tracked.find((x) => x.id === r.id)!.plan.resolveUnknown && (resolveRounds.get(r.id) ?? 0) === 0)) {
      // Quiet twice in a row with nothing changed in between: done.
      const revs = rs.map((r) => `${r.id}@${r.rev}`).join(',');
      if (revs === quietRevs) return;
      quietRevs = revs;
      await pause(400);
      continue;
    }
    quietRevs = '';
    if (Date.now() > deadline) return; // the checks report what did not settle
    await pause(100);
  }
}
