// `npm run bench`: the app against a bare Bolt app and a bare POST, in one run on loopback.
// Each subject runs as its own child process so that CPU and memory are read per process from
// /proc; app and baseline get the same signed requests in alternating rounds so drift hits both.
// Options: --quick (small counts, ~1 min), --profile (CPU profiles of the children in bench/profiles/),
// --app compiled|tsx, --stores sqlite,redis, --history sqlite[,redis], --out <file>.
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  APP_EVENTS_PATH,
  APP_HEALTH_PATH,
  EMULATOR_SETTINGS,
  FAKE_SLACK_DEFAULTS,
  PushEmulator,
  ROOT,
  SIGNING_SECRET,
  appEnv,
  approveClickBody,
  auditCommand,
  freePort,
  prepareAppLaunch,
  pushFloorRequest,
  redisAvailable,
  requestForm,
  seedHistory,
  slashCommandBody,
  startRedis,
  statusCommandText,
  submissionBody,
  type AppMode,
  type Launch,
  type RedisHandle,
  type SeedSummary,
} from './app-adapter.js';
import { cpuSeconds, rssMiB, runMeasured, sleep, startChild, stopChild, type Child } from './proc.js';
import { topSelfTime } from './profile.js';
import { SlackSide, appHomeOpenedBody } from './slack-side.js';
import { Figures, appAtMost, median, overheadAtMost, percentile, ratioAtMost, table } from './stats.js';

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    app: { type: 'string', default: 'compiled' },
    stores: { type: 'string', default: 'sqlite,redis' },
    history: { type: 'string', default: 'sqlite' },
    out: { type: 'string' },
  },
});

const FULL = {
  warmup: 200,
  commands: 2000,
  rounds: 4,
  rssEarly: 5000,
  rssLate: 20_000,
  submissions: 200,
  approvals: 20,
  coldStarts: 5,
  history: [50, 36_500] as [number, number],
  settleS: 5,
  idleS: 30,
  homeSamples: 20,
};
const QUICK: typeof FULL = {
  warmup: 30,
  commands: 200,
  rounds: 2,
  rssEarly: 300,
  rssLate: 1000,
  submissions: 10,
  approvals: 3,
  coldStarts: 2,
  history: [50, 1000] as [number, number],
  settleS: 2,
  idleS: 5,
  homeSamples: 6,
};
const P = opt.quick ? QUICK : FULL;
const mode = opt.quick ? 'quick' : 'full';
const stores = opt.stores!.split(',').filter(Boolean) as StoreKind[];
const historyStores = opt.history!.split(',').filter(Boolean) as StoreKind[];
const outPath = opt.out ?? join(ROOT, 'bench', opt.quick ? 'results-quick.json' : 'results.json');
const profileDir = join(ROOT, 'bench', 'profiles');

type StoreKind = 'sqlite' | 'redis';
type Who = 'app' | 'baseline';
interface Target {
  who: Who;
  child: Child;
  url: string;
}

const runStarted = performance.now();
const loadAtStart = loadAverage();
const figures = new Figures();
const notes: string[] = [];
const log = (s: string) => process.stderr.write(`[bench ${((performance.now() - runStarted) / 1000).toFixed(0).padStart(3)} s] ${s}\n`);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const tmp = mkdtempSync(join(tmpdir(), 'tim-bench-'));
const side = await SlackSide.start();
let pushWaiter: ((at: number) => void) | undefined;
const emulator = await PushEmulator.start({
  ...EMULATOR_SETTINGS,
  onRequest: (e) => {
    if (!e.path.endsWith('/im_push')) return;
    const w = pushWaiter;
    pushWaiter = undefined;
    w?.(performance.now());
  },
});
const nextPush = (timeoutMs = 5000) =>
  new Promise<number | undefined>((resolve) => {
    const timer = setTimeout(() => {
      pushWaiter = undefined;
      resolve(undefined);
    }, timeoutMs);
    pushWaiter = (at) => {
      clearTimeout(timer);
      resolve(at);
    };
  });

log(`preparing the app (${opt.app})`);
const launch = await prepareAppLaunch(opt.app as AppMode);
if (launch.buildSeconds !== undefined) log(`compiled in ${launch.buildSeconds.toFixed(1)} s`);
if (opt.profile) {
  mkdirSync(profileDir, { recursive: true });
  notes.push('run with --profile: the children ran under the V8 profiler, so these numbers are slower than without it');
}
const BASELINE_LAUNCH: Launch = { command: process.execPath, args: [join(ROOT, 'bench', 'bare-bolt.mjs')], label: 'node bench/bare-bolt.mjs' };

// ------------------------------------------------------------------ children

let childSeq = 0;
async function startSubject(who: Who, name: string, storeUrl?: string, o: { profile?: boolean } = {}): Promise<Child> {
  const port = await freePort();
  const l = who === 'app' ? launch : BASELINE_LAUNCH;
  const env =
    who === 'app'
      ? appEnv({ slackApiUrl: side.apiUrl, timBaseUrl: emulator.url, storeUrl: storeUrl!, port })
      : {
          SLACK_BOT_TOKEN: FAKE_SLACK_DEFAULTS.botToken,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          SLACK_API_URL: side.apiUrl,
          PORT: String(port),
          BENCH_BOT_ID: FAKE_SLACK_DEFAULTS.botId,
          BENCH_BOT_USER_ID: FAKE_SLACK_DEFAULTS.botUserId,
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        };
  const profiling = opt.profile && o.profile !== false ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${name}-${Date.now()}.cpuprofile`] : [];
  return startChild({
    name,
    command: l.command,
    args: [...profiling, ...l.args],
    env,
    cwd: tmp, // never the repo: the app would read a developer's .env
    port,
    healthPath: APP_HEALTH_PATH,
    logPath: join(tmp, `${name}-${++childSeq}.log`),
  });
}

const target = (who: Who, child: Child): Target => ({ who, child, url: child.origin + APP_EVENTS_PATH });

async function openStore(kind: StoreKind, name: string): Promise<{ url: string; close: () => Promise<void> }> {
  if (kind === 'sqlite') return { url: `sqlite://${join(tmp, `${name}.sqlite`)}`, close: async () => undefined };
  const redis: RedisHandle = await startRedis();
  return { url: redis.url, close: () => redis.stop() };
}

// ------------------------------------------------------------------ load

interface CommandStats {
  ack: number[];
  open: number[];
  missing: number;
  errors: number;
  cpuS: number;
  n: number;
}
const emptyStats = (): CommandStats => ({ ack: [], open: [], missing: 0, errors: 0, cpuS: 0, n: 0 });
const commandsDone: Record<Who, number> = { app: 0, baseline: 0 };

/** `n` /broadcast commands from `concurrency` closed-loop users (each waits for the modal before the next). */
async function commands(t: Target, n: number, concurrency: number, into = emptyStats()): Promise<CommandStats> {
  const cpu0 = cpuSeconds(t.child.pid);
  let next = 0;
  const user = async () => {
    while (next < n) {
      next++;
      const r = await side.command(t.url, SIGNING_SECRET, t.who);
      if (r.status !== 200) into.errors++;
      into.ack.push(r.ackMs);
      if (r.openMs === undefined) into.missing++;
      else into.open.push(r.openMs);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, user));
  into.cpuS += cpuSeconds(t.child.pid) - cpu0;
  into.n += n;
  commandsDone[t.who] += n;
  side.forget();
  return into;
}

/** Run `fn` for app and baseline in `rounds` alternating rounds (ABBA…), so drift hits both. */
async function alternating(targets: Record<Who, Target>, rounds: number, fn: (t: Target, round: number) => Promise<void>): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    const order: Who[] = r % 2 === 0 ? ['app', 'baseline'] : ['baseline', 'app'];
    for (const who of order) await fn(targets[who], r);
  }
}

function splitRounds(total: number, rounds: number): number[] {
  const base = Math.floor(total / rounds);
  return Array.from({ length: rounds }, (_, i) => (i < total % rounds ? base + 1 : base));
}

async function commandFigures(prefix: string, label: string, targets: Record<Who, Target>, concurrency: number): Promise<CommandStats[]> {
  const stats: Record<Who, CommandStats> = { app: emptyStats(), baseline: emptyStats() };
  const sizes = splitRounds(P.commands, P.rounds);
  log(`${label}: ${P.commands} commands each at ${concurrency} concurrent, ${P.rounds} alternating rounds`);
  await alternating(targets, P.rounds, async (t, r) => {
    await commands(t, sizes[r]!, concurrency, stats[t.who]);
  });
  const { app, baseline } = stats;
  const c = `${concurrency} concurrent`;
  const tgtAck = concurrency === 50 ? ratioAtMost(1.25) : undefined;
  const tgtOpen = concurrency === 50 ? ratioAtMost(1.5) : undefined;
  const samples = { app: app.ack.length, baseline: baseline.ack.length };
  const bare = 'bare Bolt';
  figures.add({ id: `${prefix}.ack_p50_c${concurrency}`, label: `${label} /broadcast ack p50, ${c}`, unit: 'ms', app: percentile(app.ack, 50), baseline: percentile(baseline.ack, 50), baseline_is: bare, samples });
  figures.add({ id: `${prefix}.ack_p99_c${concurrency}`, label: `${label} /broadcast ack p99, ${c}`, unit: 'ms', app: percentile(app.ack, 99), baseline: percentile(baseline.ack, 99), baseline_is: bare, samples, ...(tgtAck ? { target: tgtAck } : {}) });
  figures.add({ id: `${prefix}.cpu_per_command_c${concurrency}`, label: `${label} CPU per command, ${c}`, unit: 'ms', app: (1000 * app.cpuS) / app.n, baseline: (1000 * baseline.cpuS) / baseline.n, baseline_is: bare, samples: { app: app.n, baseline: baseline.n }, ...(concurrency === 50 ? { target: ratioAtMost(1.5) } : {}) });
  figures.add({ id: `${prefix}.open_p50_c${concurrency}`, label: `${label} command → views.open p50, ${c}`, unit: 'ms', app: percentile(app.open, 50), baseline: percentile(baseline.open, 50), baseline_is: bare, samples: { app: app.open.length, baseline: baseline.open.length } });
  figures.add({ id: `${prefix}.open_p99_c${concurrency}`, label: `${label} command → views.open p99, ${c}`, unit: 'ms', app: percentile(app.open, 99), baseline: percentile(baseline.open, 99), baseline_is: bare, samples: { app: app.open.length, baseline: baseline.open.length }, ...(tgtOpen ? { target: tgtOpen } : {}) });
  for (const s of [app, baseline]) if (s.errors || s.missing) notes.push(`${label} at ${c}: ${s === app ? 'app' : 'baseline'} had ${s.errors} non-200 acks and ${s.missing} commands without a views.open within 10 s`);
  return [app, baseline];
}

// ------------------------------------------------------------------ phases

async function coldStart(): Promise<void> {
  log(`cold start: ${P.coldStarts} starts each (+1 unmeasured), alternating`);
  const times: Record<Who, number[]> = { app: [], baseline: [] };
  for (let i = 0; i <= P.coldStarts; i++) {
    for (const who of (i % 2 === 0 ? ['app', 'baseline'] : ['baseline', 'app']) as Who[]) {
      const c = await startSubject(who, `cold-${who}`, `sqlite://${join(tmp, `cold-${i}.sqlite`)}`, { profile: false });
      if (i > 0) times[who].push(c.startMs);
      await stopChild(c);
    }
  }
  figures.add({ id: 'cold_start_median', label: `cold start (spawn → health 200), median of ${P.coldStarts}`, unit: 'ms', app: median(times.app), baseline: median(times.baseline), baseline_is: 'bare Bolt', samples: { app: times.app.length, baseline: times.baseline.length }, target: ratioAtMost(1.5) });
}

interface Submitted {
  requestId: string;
}

async function submissions(prefix: string, label: string, targets: Record<Who, Target>): Promise<Submitted[]> {
  const modal = side.lastModal;
  if (!modal) throw new Error('the app never opened its request modal; cannot build a submission');
  log(`${label}: ${P.submissions} submissions each, alternating`);
  const ack: Record<Who, number[]> = { app: [], baseline: [] };
  const card: number[] = [];
  const ids: Submitted[] = [];
  let errors = 0;
  let seq = 0;
  const sizes = splitRounds(P.submissions, 2);
  await alternating(targets, 2, async (t, r) => {
    for (let i = 0; i < sizes[r]!; i++) {
      const marker = `bench-${++seq}`;
      const body = submissionBody(modal, requestForm(marker));
      const seen = t.who === 'app' ? side.waitForCard(marker) : undefined;
      const t0 = performance.now();
      const res = await side.post(t.url, SIGNING_SECRET, body);
      ack[t.who].push(performance.now() - t0);
      if (res.status !== 200 || (res.json as { response_action?: unknown } | undefined)?.response_action) errors++;
      const c = await seen;
      if (c) {
        card.push(c.at - t0);
        ids.push({ requestId: c.requestId });
      }
    }
  });
  if (errors) notes.push(`${label}: ${errors} submissions were refused`);
  const samples = { app: ack.app.length, baseline: ack.baseline.length };
  figures.add({ id: `${prefix}.submit_ack_p50`, label: `${label} submission ack p50`, unit: 'ms', app: percentile(ack.app, 50), baseline: percentile(ack.baseline, 50), baseline_is: 'bare Bolt', samples });
  figures.add({ id: `${prefix}.submit_ack_p99`, label: `${label} submission ack p99`, unit: 'ms', app: percentile(ack.app, 99), baseline: percentile(ack.baseline, 99), baseline_is: 'bare Bolt', samples });
  figures.add({ id: `${prefix}.submit_card_p50`, label: `${label} submission → card p50`, unit: 'ms', app: percentile(card, 50), baseline: null, baseline_is: 'bare Bolt posts no card', samples: { app: card.length } });
  figures.add({ id: `${prefix}.submit_card_p99`, label: `${label} submission → card p99`, unit: 'ms', app: percentile(card, 99), baseline: null, baseline_is: 'bare Bolt posts no card', samples: { app: card.length } });
  return ids;
}

/** Approve clicks spaced > 1.1 s apart (no push waits for spacing), each followed by bare POSTs of the same body. */
async function approvals(prefix: string, label: string, app: Target, ids: Submitted[]): Promise<void> {
  const n = Math.min(P.approvals, ids.length);
  log(`${label}: ${n} approvals spaced 1.25 s apart, each followed by 3 bare POSTs to the emulator`);
  const push: number[] = [];
  const floor: number[] = [];
  let lastPushAt = -Infinity;
  let missing = 0;
  const bare = async (body: unknown) => {
    const req = pushFloorRequest(emulator.url, body);
    const arrived = nextPush();
    const t0 = performance.now();
    const res = await fetch(req.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: req.body });
    await res.arrayBuffer();
    const at = await arrived;
    return at === undefined ? undefined : at - t0;
  };
  for (let k = 0; k < n; k++) {
    const wait = lastPushAt + 1250 - performance.now();
    if (wait > 0) await sleep(wait);
    const body = approveClickBody(side.fake, ids[k]!.requestId);
    const arrived = nextPush();
    const t0 = performance.now();
    await side.post(app.url, SIGNING_SECRET, body);
    const at = await arrived;
    if (at === undefined) {
      missing++;
      continue;
    }
    push.push(at - t0);
    lastPushAt = at;
    await sleep(300); // let the app finish recording and announcing the result
    const pushed = emulator.requests.filter((r) => r.path.endsWith('/im_push')).at(-1)!.body;
    if (k === 0) await bare(pushed); // opens the connection, as the app's pool already has
    for (let j = 0; j < 3; j++) {
      const ms = await bare(pushed);
      if (ms !== undefined) floor.push(ms);
    }
  }
  if (missing) notes.push(`${label}: ${missing} approvals reached no im_push within 5 s`);
  const samples = { app: push.length, baseline: floor.length };
  const floorIs = 'bare POST';
  const p50 = { app: percentile(push, 50), floor: percentile(floor, 50) };
  const p99 = { app: percentile(push, 99), floor: percentile(floor, 99) };
  figures.add({ id: `${prefix}.approve_push_p50`, label: `${label} approve → push p50 (overhead over the floor)`, unit: 'ms', app: p50.app, baseline: p50.floor, baseline_is: floorIs, overhead_ms: p50.app - p50.floor, samples, target: overheadAtMost(3) });
  figures.add({ id: `${prefix}.approve_push_p99`, label: `${label} approve → push p99 (overhead over the floor)`, unit: 'ms', app: p99.app, baseline: p99.floor, baseline_is: floorIs, overhead_ms: p99.app - p99.floor, samples, target: overheadAtMost(10) });
}

async function storePhase(kind: StoreKind): Promise<void> {
  const prefix = kind;
  const label = `[${kind}]`;
  const store = await openStore(kind, `load-${kind}`);
  const expired0 = new Map(side.expired);
  const app = await startSubject('app', `app-${kind}`, store.url);
  const baseline = await startSubject('baseline', `baseline-${kind}`);
  commandsDone.app = commandsDone.baseline = 0;
  await sleep(1000);
  const rssStart = { app: rssMiB(app.pid), baseline: rssMiB(baseline.pid) };
  figures.add({ id: `${prefix}.rss_start`, label: `${label} RSS after start`, unit: 'MiB', app: rssStart.app, baseline: rssStart.baseline, baseline_is: 'bare Bolt', target: ratioAtMost(1.3) });
  const targets = { app: target('app', app), baseline: target('baseline', baseline) };
  log(`${label} warm-up: ${P.warmup} commands each`);
  for (const who of ['app', 'baseline'] as Who[]) await commands(targets[who], P.warmup, 10);
  await commandFigures(prefix, label, targets, 1);
  await commandFigures(prefix, label, targets, 50);

  if (kind === stores[0]) {
    // Memory under sustained load: commands at 50 concurrent up to rssEarly, then up to rssLate.
    const rss: Record<string, Record<Who, number>> = {};
    for (const [mark, goal] of [['early', P.rssEarly], ['late', P.rssLate]] as const) {
      const left = Math.max(0, goal - commandsDone.app);
      log(`${label} sustained load: ${left} more commands each at 50 concurrent (to ${goal})`);
      const rounds = mark === 'early' ? 1 : P.rounds;
      const sizes = splitRounds(left, rounds);
      await alternating(targets, rounds, async (t, r) => {
        await commands(t, sizes[r]!, 50);
      });
      rss[mark] = { app: rssMiB(app.pid), baseline: rssMiB(baseline.pid) };
    }
    const early = rss['early']!;
    const late = rss['late']!;
    figures.add({ id: `${prefix}.rss_after_${P.rssEarly}`, label: `${label} RSS after ${P.rssEarly.toLocaleString('en-US')} commands`, unit: 'MiB', app: early.app, baseline: early.baseline, baseline_is: 'bare Bolt', target: ratioAtMost(1.3) });
    figures.add({ id: `${prefix}.rss_after_${P.rssLate}`, label: `${label} RSS after ${P.rssLate.toLocaleString('en-US')} commands`, unit: 'MiB', app: late.app, baseline: late.baseline, baseline_is: 'bare Bolt', target: ratioAtMost(1.3) });
    figures.add({ id: `${prefix}.rss_growth`, label: `${label} RSS growth ${P.rssEarly.toLocaleString('en-US')} → ${P.rssLate.toLocaleString('en-US')} commands (ratio = app's own growth)`, unit: '×', app: late.app / early.app, baseline: late.baseline / early.baseline, baseline_is: "bare Bolt's own", ratio: late.app / early.app, target: ratioAtMost(1.1) });
  }
  const expired = (who: Who) => (side.expired.get(who) ?? 0) - (expired0.get(who) ?? 0);
  figures.add({ id: `${prefix}.expired_triggers`, label: `${label} expired triggers (views.open > 3 s after the command) in ${commandsDone.app.toLocaleString('en-US')} commands`, unit: '', app: expired('app'), baseline: expired('baseline'), baseline_is: 'bare Bolt', ratio: null, target: appAtMost(0, '0') });

  const ids = await submissions(prefix, label, targets);
  await approvals(prefix, label, targets.app, ids);
  await Promise.all([stopChild(app), stopChild(baseline)]);
  await store.close();
}

async function historyPhase(kind: StoreKind): Promise<void> {
  const [small, large] = P.history;
  const label = `[${kind}, history]`;
  const prefix = `${kind}.history`;
  const vs = `${large.toLocaleString('en-US')} vs ${small} stored`;
  const shortIs = `${small} stored`;
  const stores = { small: await openStore(kind, `history-${small}`), large: await openStore(kind, `history-${large}`) };
  const seeded: Record<'small' | 'large', SeedSummary> = {} as never;
  for (const size of ['small', 'large'] as const) {
    const n = size === 'small' ? small : large;
    log(`${label} seeding ${n.toLocaleString('en-US')} requests through the app's store code`);
    seeded[size] = await seedHistory(stores[size].url, n);
    log(`${label} seeded ${n} in ${seeded[size].seconds.toFixed(1)} s: ${JSON.stringify(seeded[size].states)}`);
  }
  const apps = {
    small: await startSubject('app', `app-${kind}-${small}`, stores.small.url),
    large: await startSubject('app', `app-${kind}-${large}`, stores.large.url),
  };
  log(`${label} idle CPU over ${P.idleS} s (after ${P.settleS} s to settle)`);
  await sleep(P.settleS * 1000);
  const cpu0 = { small: cpuSeconds(apps.small.pid), large: cpuSeconds(apps.large.pid) };
  await sleep(P.idleS * 1000);
  const idle = { small: cpuSeconds(apps.small.pid) - cpu0.small, large: cpuSeconds(apps.large.pid) - cpu0.large };
  figures.add({ id: `${prefix}.idle_cpu`, label: `${label} idle CPU over ${P.idleS} s, ${vs}`, unit: 's', app: idle.large, baseline: idle.small, baseline_is: shortIs, target: ratioAtMost(1.5) });

  // One app at a time, the other paused (SIGSTOP), so the long history's background sweeps do not
  // slow the short one down on two cores.
  log(`${label} App Home: ${P.homeSamples} opens each, the other app paused`);
  const home: Record<'small' | 'large', number[]> = { small: [], large: [] };
  let seq = 0;
  for (const size of ['small', 'large'] as const) {
    const other = apps[size === 'small' ? 'large' : 'small'];
    process.kill(other.pid, 'SIGSTOP');
    try {
      for (let i = 0; i < P.homeSamples; i++) {
        const user = `U0HOME${String(++seq).padStart(5, '0')}`;
        const published = side.waitForPublish(user, 30_000);
        const t0 = performance.now();
        await side.post(apps[size].origin + APP_EVENTS_PATH, SIGNING_SECRET, appHomeOpenedBody(user, seq), { contentType: 'application/json' });
        const at = await published;
        if (at !== undefined) home[size].push(at - t0);
      }
    } finally {
      process.kill(other.pid, 'SIGCONT');
    }
  }
  side.forget();
  figures.add({ id: `${prefix}.app_home_p50`, label: `${label} App Home open → views.publish p50, ${vs}`, unit: 'ms', app: median(home.large), baseline: median(home.small), baseline_is: shortIs, samples: { app: home.large.length, baseline: home.small.length }, target: ratioAtMost(1.2) });

  await statusFigure(label, prefix, vs, shortIs, apps, seeded);
  await Promise.all([stopChild(apps.small), stopChild(apps.large)]);
  await auditFigures(label, prefix, vs, shortIs, stores, seeded);
  await Promise.all([stores.small.close(), stores.large.close()]);
}

/** `/broadcast status <TaskId>`: measured to the first answer (ack text, response_url or ephemeral), when the app has it. */
async function statusFigure(label: string, prefix: string, vs: string, shortIs: string, apps: Record<'small' | 'large', Child>, seeded: Record<'small' | 'large', SeedSummary>): Promise<void> {
  const id = `${prefix}.status_p50`;
  const title = `${label} /broadcast status <TaskId> p50, ${vs}`;
  const ask = async (size: 'small' | 'large', i: number): Promise<{ implemented: boolean; ms?: number }> => {
    const taskIds = seeded[size].taskIds;
    const taskId = taskIds[(i * 7919) % taskIds.length]!;
    const user = `U0STATUS${String(i).padStart(4, '0')}`;
    const responseId = `status-${size}-${i}`;
    const trigger = side.trigger('status');
    const body = slashCommandBody({ text: statusCommandText(taskId), userId: user, triggerId: trigger.id, responseUrl: side.fake.responseUrl(responseId) });
    let settled = false;
    const opened = side.waitForOpen(trigger.id, 2000).then((at) => (at === undefined ? undefined : ('opened the form' as const)));
    const ephemeral = side.waitForEphemeral(user, 2000);
    const response = side.waitForResponse(responseId, 2000, () => settled);
    const t0 = trigger.markSent();
    const acked = side.post(apps[size].origin + APP_EVENTS_PATH, SIGNING_SECRET, body).then((r) => {
      const text = (r.json as { text?: unknown } | undefined)?.text;
      return typeof text === 'string' && text.includes(taskId) ? performance.now() : undefined;
    });
    const first = await firstDefined<number | 'opened the form'>([opened, acked, ephemeral, response]);
    settled = true;
    if (first === undefined || first === 'opened the form') return { implemented: false };
    return { implemented: true, ms: first - t0 };
  };
  if (!seeded.small.taskIds.length || !(await ask('small', 0)).implemented) {
    figures.skip(id, title, 'not implemented (the app opens the form for "status …")', ratioAtMost(1.2));
    return;
  }
  const ms: Record<'small' | 'large', number[]> = { small: [], large: [] };
  for (let i = 1; i <= P.homeSamples; i++) {
    for (const size of ['small', 'large'] as const) {
      const r = await ask(size, i);
      if (r.ms !== undefined) ms[size].push(r.ms);
    }
  }
  figures.add({ id, label: title, unit: 'ms', app: median(ms.large), baseline: median(ms.small), baseline_is: shortIs, target: ratioAtMost(1.2), note: 'to the first answer; response_url polled every 1 ms' });
}

/** The first promise to resolve with a value; undefined when none does. */
function firstDefined<T>(promises: Promise<T | undefined>[]): Promise<T | undefined> {
  return new Promise((resolve) => {
    let left = promises.length;
    for (const p of promises) {
      void p.then((v) => {
        left--;
        if (v !== undefined) resolve(v);
        else if (left === 0) resolve(undefined);
      });
    }
  });
}

async function auditFigures(label: string, prefix: string, vs: string, shortIs: string, stores: Record<'small' | 'large', { url: string }>, seeded: Record<'small' | 'large', SeedSummary>): Promise<void> {
  const cmd = auditCommand(new Date(seeded.small.earliest.getTime() - 24 * 3600 * 1000));
  if (!cmd) {
    figures.skip(`${prefix}.audit_throughput`, `${label} npm run audit throughput, ${vs}`, 'not implemented (no "audit" script)');
    figures.skip(`${prefix}.audit_peak_rss`, `${label} npm run audit peak memory, ${vs}`, 'not implemented (no "audit" script)', ratioAtMost(1.2));
    return;
  }
  log(`${label} npm run audit on each store`);
  const r: Record<'small' | 'large', { seconds: number; peakMiB: number; code: number | null }> = {} as never;
  for (const size of ['small', 'large'] as const) {
    const env = appEnv({ slackApiUrl: side.apiUrl, timBaseUrl: emulator.url, storeUrl: stores[size].url, port: 0 });
    r[size] = await runMeasured({ command: cmd.command, args: cmd.args, env, cwd: ROOT, logPath: join(tmp, `audit-${size}.log`) });
    if (r[size].code !== 0) notes.push(`${label} npm run audit exited with ${r[size].code} on the ${size} store (see its log)`);
  }
  figures.add({ id: `${prefix}.audit_throughput`, label: `${label} npm run audit throughput, ${vs}`, unit: 'req/s', app: seeded.large.requests / r.large.seconds, baseline: seeded.small.requests / r.small.seconds, baseline_is: shortIs, note: 'includes npm and node start-up' });
  figures.add({ id: `${prefix}.audit_peak_rss`, label: `${label} npm run audit peak memory, ${vs}`, unit: 'MiB', app: r.large.peakMiB, baseline: r.small.peakMiB, baseline_is: shortIs, target: ratioAtMost(1.2) });
}

// ------------------------------------------------------------------ run

function loadAverage(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}
function machine() {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return { cpu: model.trim(), cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), os: `${process.platform} ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}` };
}

const profilesBefore = new Set(existsSync(profileDir) ? readdirSync(profileDir) : []);
let failed: unknown;
try {
  await coldStart();
  for (const kind of stores) {
    if (kind === 'redis' && !redisAvailable()) {
      notes.push('redis-server is not on the PATH: the Redis figures were skipped');
      continue;
    }
    await storePhase(kind);
  }
  for (const kind of historyStores) {
    if (kind === 'redis' && !redisAvailable()) continue;
    await historyPhase(kind);
  }
} catch (error) {
  failed = error;
} finally {
  await side.fake.close();
  await emulator.close();
}

if (side.clientErrors.size) notes.push(`bench requests that failed before any answer (each retried once): ${JSON.stringify(Object.fromEntries(side.clientErrors))}`);
const seconds = (performance.now() - runStarted) / 1000;
const info = { date: new Date().toISOString(), machine: { ...machine(), loadAverage: { start: loadAtStart, end: loadAverage() } }, benchProcessCpuSeconds: Math.round(cpuSeconds(process.pid)), node: process.version, mode, app: launch.label, baseline: BASELINE_LAUNCH.label, durationSeconds: Math.round(seconds) };
const results = { ...info, figures: figures.list, notes };
const header = `${info.date.slice(0, 16).replace('T', ' ')} UTC · ${info.machine.cpu}, ${info.machine.cores} cores, ${info.machine.memoryGiB} GiB · load ${loadAtStart[0]} → ${info.machine.loadAverage.end[0]} · Node ${info.node} · ${mode} run, ${Math.round(seconds)} s · app: ${info.app}`;
const rendered = `${header}\n\n${table(figures.list)}${notes.length ? `\n\n${notes.map((n) => `- ${n}`).join('\n')}` : ''}`;
process.stdout.write(`\n${rendered}\n`);

if (opt.profile) {
  for (const f of readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile') && !profilesBefore.has(f))) {
    const summary = topSelfTime(join(profileDir, f), ROOT);
    writeFileSync(join(profileDir, f.replace(/\.cpuprofile$/, '.top.txt')), `${summary}\n`);
    process.stdout.write(`\n${summary}\n`);
  }
}

if (failed) {
  process.stderr.write(`\nbench failed: ${(failed as Error)?.stack ?? failed}\nlogs kept in ${tmp}\n`);
  process.exit(1);
}
writeFileSync(outPath, `${JSON.stringify(results, null, 2)}\n`);
log(`wrote ${outPath}`);
if (!opt.quick && !opt.profile && !opt.out) {
  // Paste the latest table between the markers of each README that has them.
  for (const readme of [join(ROOT, 'README.md'), join(ROOT, 'bench', 'README.md')]) {
    if (!existsSync(readme)) continue;
    const text = readFileSync(readme, 'utf8');
    const start = '<!-- bench:table:start -->';
    const end = '<!-- bench:table:end -->';
    const a = text.indexOf(start);
    const b = text.indexOf(end);
    if (a < 0 || b < a) continue;
    writeFileSync(readme, `${text.slice(0, a + start.length)}\n${rendered}\n${text.slice(b)}`);
    log(`updated the table in ${readme}`);
  }
}
rmSync(tmp, { recursive: true, force: true });
process.exit(0);
