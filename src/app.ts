import { hostname } from 'node:os';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { App, LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { reachesEveryone } from './broadcast/decisions.js';
import { BroadcastService, type Clock } from './broadcast/service.js';
import type { UnrecordedResult } from './broadcast/push-runner.js';
import { openStore } from './broadcast/store/open.js';
import type { Store } from './broadcast/store/store.js';
import type { BroadcastRequest } from './broadcast/types.js';
import type { Config } from './config.js';
import { createLogger, loggerSettings, type Logger } from './logger.js';
import { logSandboxStart, pushBaseUrl, startSandbox } from './sandbox.js';
import { registerActions } from './slack/actions/index.js';
import { Approvers } from './slack/approvers.js';
import type { ListenerDeps } from './slack/deps.js';
import { registerCommands } from './slack/commands/index.js';
import { registerEvents } from './slack/events/index.js';
import { Notifier } from './slack/notifier.js';
import { buildReceiver, type ReceiverTuning } from './slack/receiver.js';
import { SlackApi } from './slack/slack-api.js';
import { registerViews } from './slack/views/index.js';
import { TimClient } from './tim/client.js';
import { AttributeNameCache, AudienceSizeCache } from './tim/lookup-cache.js';
import { REGIONS } from './tim/regions.js';
import { UserSigCache } from './tim/usersig.js';
import type { ViewContext } from '../views/context.js';

export interface RunningApp {
  app: App;
  service: BroadcastService;
  notifier: Notifier;
  store: Store;
  logger: Logger;
  /** TIM_REGION=sandbox: every push goes to the emulator inside this process, never to Tencent. */
  sandbox: boolean;
  /** Settle what a previous run left behind, deliver owed notifications, then listen. Returns the HTTP port. */
  start(): Promise<{ port?: number }>;
  /** Stop taking new work, let pushes in flight finish and be recorded, close the store. */
  stop(): Promise<void>;
  /** Push results known but not yet recorded (printed when the shutdown budget runs out). */
  abandon(): UnrecordedResult[];
  /** Resolves when all work started after an ack has finished (tests, shutdown). */
  idle(): Promise<void>;
}

export interface BuildOptions {
  logger?: Logger;
  clock?: Clock;
  /** Outbox sweep interval; owed notifications are also delivered at once and retried by timers. */
  outboxIntervalMs?: number;
  /** How often leases, expiry and schedules are checked. */
  sweepIntervalMs?: number;
  /** Retry tuning of the push (tests use short waits). */
  pushRetry?: { baseDelayMs?: number; maxDelayMs?: number; rateLimitWaitMs?: number };
  /** Health thresholds and Socket Mode reconnect timings (tests use short ones). */
  receiver?: ReceiverTuning;
}

/** Route Bolt's own logging through our redacting logger. */
function boltLogger(log: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const join = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...m: unknown[]) => log.debug(join(m), { source: 'bolt' }),
    info: (...m: unknown[]) => log.info(join(m), { source: 'bolt' }),
    warn: (...m: unknown[]) => log.warn(join(m), { source: 'bolt' }),
    error: (...m: unknown[]) => log.error(join(m), { source: 'bolt' }),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

/** Build the whole app from validated settings: store, Tencent client, domain, Bolt, listeners. */
export async function buildApp(config: Config, o: BuildOptions = {}): Promise<RunningApp> {
  const instanceId = config.INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const userSigs = new UserSigCache({ sdkAppId: config.TIM_SDKAPPID, secretKey: config.TIM_SECRET_KEY, identifier: config.TIM_ADMIN });
  const logger =
    o.logger ??
    createLogger({ ...loggerSettings(config), extraSecrets: () => [userSigs.get()] });
  const sandboxEmulator = await startSandbox(config, logger); // undefined unless TIM_REGION=sandbox
  const sandbox = sandboxEmulator !== undefined;
  const store = await openStore(config.STORE_URL);
  const baseUrl = pushBaseUrl(config, sandboxEmulator);
  const tim = new TimClient({
    sdkAppId: config.TIM_SDKAPPID,
    secretKey: config.TIM_SECRET_KEY,
    admin: config.TIM_ADMIN,
    baseUrl,
    responseTimeoutMs: config.TIM_TIMEOUT_MS,
    userSigs,
    explainContext: { region: config.TIM_REGION === 'sandbox' ? 'sandbox' : REGIONS[config.TIM_REGION].label, dailyQuota: config.DAILY_QUOTA, quotaTimezone: config.QUOTA_TIMEZONE },
  });

  const kicks = new Set<(r: BroadcastRequest) => void>();
  const service = new BroadcastService({
    store,
    pusher: tim,
    dailyQuota: config.DAILY_QUOTA,
    quotaTimeZone: config.QUOTA_TIMEZONE,
    everyoneApprovals: config.EVERYONE_APPROVALS,
    targetedApprovals: config.TARGETED_APPROVALS,
    requestTtlMs: config.REQUEST_TTL_SECONDS * 1000,
    maxLateMs: config.SCHEDULE_MAX_LATE_SECONDS * 1000,
    leaseMs: config.PUSH_LEASE_SECONDS * 1000,
    ...(config.QUIET_HOURS ? { quietHours: config.QUIET_HOURS } : {}),
    retry: { maxAttempts: config.PUSH_MAX_ATTEMPTS, ...o.pushRetry },
    explainContext: tim.explainContext,
    logger,
    instanceId,
    onChange: (r) => {
      for (const k of kicks) k(r);
    },
    ...(o.clock ? { clock: o.clock } : {}),
  });

  const socketMode = Boolean(config.SLACK_APP_TOKEN);
  const clientOptions = {
    ...(config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {}),
    // Failed notifications are retried by the outbox, which survives restarts.
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  };
  // Bolt would call auth.test in its constructor and cache the promise: one Slack failure at that
  // moment is an unhandled rejection (the process dies) and fails every later event. Ask here; if
  // Slack does not answer, Bolt verifies the token per request instead, until the next start.
  const identity = await new WebClient(config.SLACK_BOT_TOKEN, { ...clientOptions, logger: boltLogger(logger) }).auth.test().then(
    (r) => (r.bot_id && r.user_id ? { botId: r.bot_id, botUserId: r.user_id } : undefined),
    (error: unknown) => {
      logger.warn('Slack did not answer auth.test at start; verifying the token per request until it does', { error });
      return undefined;
    },
  );
  const slack = buildReceiver({ config, logger, boltLogger: boltLogger(logger), storePing: () => store.ping(), ...o.receiver });
  const app = new App({
    token: config.SLACK_BOT_TOKEN,
    ...(identity ?? { tokenVerificationEnabled: false }),
    logger: boltLogger(logger),
    clientOptions,
    receiver: slack.receiver,
  });
  app.error(async (error) => {
    logger.error('listener failed', { error });
  });

  const approvers = new Approvers(config.APPROVERS, app.client, { cacheMs: config.APPROVERS_CACHE_SECONDS * 1000, logger });
  const attributeNames = new AttributeNameCache(tim);
  const audienceSize = new AudienceSizeCache(tim);

  /** Card permalinks of the requests `r` links to. */
  const linksOf = async (r: BroadcastRequest): Promise<Record<string, string | undefined>> => {
    const ids = [r.againOf, ...(r.againAs ?? [])].filter((x): x is string => Boolean(x));
    const links: Record<string, string | undefined> = {};
    if (r.duplicateOf) links[r.duplicateOf.id] = r.duplicateOf.card?.permalink;
    await Promise.all(
      ids.map(async (id) => {
        links[id] = (await service.get(id).catch(() => undefined))?.card?.permalink;
      }),
    );
    return links;
  };
  const viewContext = async (r?: BroadcastRequest): Promise<ViewContext> => {
    const [quota, size, links] = await Promise.all([
      service.quotaStatus(),
      r && reachesEveryone(r) ? audienceSize.get() : Promise.resolve(undefined),
      r ? linksOf(r) : Promise.resolve({}),
    ]);
    return {
      now: service.clock.now(),
      sandbox,
      approvalChannel: config.APPROVAL_CHANNEL_ID,
      approvers: approvers.list(),
      quota,
      ...(config.QUIET_HOURS ? { quietHours: config.QUIET_HOURS } : {}),
      ...(size ? { audienceSize: size.kind === 'known' ? { count: size.value.registeredUsers, date: size.value.date } : ('unknown' as const) } : {}),
      links,
    };
  };

  const notifier = new Notifier({
    client: app.client,
    service,
    approvalChannel: config.APPROVAL_CHANNEL_ID,
    logger,
    viewContext,
    holdWhile: (id) => service.runner.untilSending(id),
  });
  // After the current turn of the event loop: the decision that caused the change (and a push it
  // starts) goes first; rendering and posting cards never delay it.
  kicks.add((r) => setImmediate(() => void notifier.kick(r.id)));

  const slackApi = new SlackApi({ token: config.SLACK_BOT_TOKEN, ...(config.SLACK_API_URL ? { apiUrl: config.SLACK_API_URL } : {}) });
  const pending = new Set<Promise<unknown>>();
  const deps: ListenerDeps = {
    service,
    approvers,
    slack: slackApi,
    approvalChannel: config.APPROVAL_CHANNEL_ID,
    logger,
    sandbox,
    attributeNames: async () => {
      const names = await attributeNames.names();
      return names.length ? names : undefined;
    },
    viewContext,
    track: async (work) => {
      const running = work().then(
        () => undefined,
        (error: unknown) => logger.error('work after an ack failed', { error }),
      );
      pending.add(running);
      try {
        await running;
      } finally {
        pending.delete(running);
      }
    },
  };
  registerCommands(app, deps);
  registerActions(app, deps);
  registerViews(app, deps);
  registerEvents(app, deps);

  let stopped = false;
  const idle = async () => {
    for (;;) {
      await new Promise((r) => setImmediate(r));
      if (!pending.size && !service.runner.isBusy() && !notifier.isBusy()) return;
      await Promise.allSettled([...pending]);
      await service.drain();
      await notifier.idle();
    }
  };
  return {
    app,
    service,
    notifier,
    store,
    logger,
    sandbox,
    async start() {
      if (sandboxEmulator) logSandboxStart(logger, config, sandboxEmulator);
      await service.start(o.sweepIntervalMs ?? 1000);
      await notifier.deliverDue().catch((error) => logger.warn('could not deliver owed notifications yet', { error }));
      notifier.start(o.outboxIntervalMs ?? 5000);
      if (socketMode) {
        await app.start();
        const port = slack.healthPort();
        logger.info('tim-broadcast running in Socket Mode', { port, path: '/healthz' });
        return port === undefined ? {} : { port };
      }
      const server = (await app.start(config.PORT)) as Server;
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.PORT;
      logger.info('tim-broadcast listening', { port, path: '/slack/events' });
      return { port };
    },
    idle,
    abandon: () => service.abandon(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.stop().catch((error: unknown) => logger.warn('error while stopping the Slack receiver', { error }));
      await service.stop();
      await idle();
      await notifier.stop();
      await tim.close().catch(() => undefined);
      await slackApi.close().catch(() => undefined);
      await sandboxEmulator?.close();
      await store.close();
      logger.info('tim-broadcast stopped');
    },
  };
}
