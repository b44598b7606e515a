import type { Server } from 'node:http';
import { App, LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { BroadcastService, type Clock } from './broadcast/service.js';
import type { AtomicKv } from './broadcast/store/atomic-kv.js';
import { openKv } from './broadcast/store/open.js';
import type { Config } from './config.js';
import { createLogger, loggerSettings, type Logger } from './logger.js';
import { logSandboxStart, pushBaseUrl, startSandbox } from './sandbox.js';
import { registerActions } from './slack/actions/index.js';
import { Approvers } from './slack/approvers.js';
import { AttributeNames } from './slack/attribute-names.js';
import type { ListenerDeps } from './slack/deps.js';
import { registerCommands } from './slack/commands/index.js';
import { registerEvents } from './slack/events/index.js';
import { Notifier } from './slack/notifier.js';
import { registerViews } from './slack/views/index.js';
import { TimClient } from './tim/client.js';
import { UserSigCache } from './tim/usersig.js';

export interface RunningApp {
  app: App;
  service: BroadcastService;
  notifier: Notifier;
  kv: AtomicKv;
  logger: Logger;
  /** TIM_REGION=sandbox: every push goes to the emulator inside this process, never to Tencent. */
  sandbox: boolean;
  /** Recover interrupted requests, deliver owed notifications, then listen. Returns the HTTP port (HTTP mode). */
  start(): Promise<{ port?: number }>;
  /** Stop taking new work, let pushes in flight finish and be recorded, close the store. */
  stop(): Promise<void>;
  /** Resolves when all work started after an ack has finished (tests, shutdown). */
  idle(): Promise<void>;
}

export interface BuildOptions {
  logger?: Logger;
  clock?: Clock;
  /** Outbox sweep interval; the sweep retries Slack notifications that failed. */
  outboxIntervalMs?: number;
  /** Retry tuning of the push (tests use short waits). */
  pushRetry?: { baseDelayMs?: number; maxDelayMs?: number; rateLimitWaitMs?: number };
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
  const userSigs = new UserSigCache({ sdkAppId: config.TIM_SDKAPPID, secretKey: config.TIM_SECRET_KEY, identifier: config.TIM_ADMIN });
  const logger =
    o.logger ??
    createLogger({ ...loggerSettings(config), extraSecrets: () => [userSigs.get()] });
  const sandbox = await startSandbox(config, logger); // undefined unless TIM_REGION=sandbox
  const kv = await openKv(config.STORE_URL);
  const tim = new TimClient({
    sdkAppId: config.TIM_SDKAPPID,
    secretKey: config.TIM_SECRET_KEY,
    admin: config.TIM_ADMIN,
    baseUrl: pushBaseUrl(config, sandbox),
    responseTimeoutMs: config.TIM_TIMEOUT_MS,
    userSigs,
  });
  const service = new BroadcastService({
    kv,
    pusher: tim,
    dailyQuota: config.DAILY_QUOTA,
    quotaTimeZone: config.QUOTA_TIMEZONE,
    retry: { maxAttempts: config.PUSH_MAX_ATTEMPTS, ...o.pushRetry },
    logger,
    instanceId: config.INSTANCE_ID,
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
  const app = new App({
    token: config.SLACK_BOT_TOKEN,
    ...(identity ?? { tokenVerificationEnabled: false }),
    logger: boltLogger(logger),
    clientOptions,
    ...(socketMode
      ? { socketMode: true, appToken: config.SLACK_APP_TOKEN! }
      : {
          signingSecret: config.SLACK_SIGNING_SECRET!,
          customRoutes: [
            {
              path: '/healthz',
              method: ['GET'],
              handler: (_req, res) => {
                res.writeHead(200, { 'content-type': 'application/json' });
                res.end(JSON.stringify({ ok: true }));
              },
            },
          ],
        }),
  });
  app.error(async (error) => {
    logger.error('listener failed', { error });
  });

  const approvers = new Approvers(config.APPROVERS, app.client, { cacheMs: config.APPROVERS_CACHE_SECONDS * 1000, logger });
  const notifier = new Notifier({ client: app.client, service, approvalChannel: config.APPROVAL_CHANNEL_ID, logger });
  const attributeNames = new AttributeNames(() => tim.getAttrNames());
  const pending = new Set<Promise<unknown>>();
  const deps: ListenerDeps = {
    service,
    notifier,
    approvers,
    approvalChannel: config.APPROVAL_CHANNEL_ID,
    logger,
    attributeNames: () => attributeNames.get(),
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
    while (pending.size) await Promise.allSettled([...pending]);
  };
  return {
    app,
    service,
    notifier,
    kv,
    logger,
    sandbox: sandbox !== undefined,
    async start() {
      if (sandbox) logSandboxStart(logger, config, sandbox);
      await service.recover();
      await notifier.deliverDue().catch((error) => logger.warn('could not deliver owed notifications yet', { error }));
      notifier.start(o.outboxIntervalMs ?? 5000);
      if (socketMode) {
        await app.start();
        logger.info('tim-broadcast running in Socket Mode');
        return {};
      }
      const server = (await app.start(config.PORT)) as Server;
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.PORT;
      logger.info('tim-broadcast listening', { port, path: '/slack/events' });
      return { port };
    },
    idle,
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.stop().catch((error: unknown) => logger.warn('error while stopping the Slack receiver', { error }));
      await service.drain();
      await idle();
      await notifier.stop();
      await tim.close().catch(() => undefined);
      await sandbox?.close();
      await kv.close();
      logger.info('tim-broadcast stopped');
    },
  };
}
