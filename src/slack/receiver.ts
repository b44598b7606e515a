// How Slack reaches the app: the Bolt receiver for HTTP mode or Socket Mode, and `GET /healthz` in both.
//
// Socket Mode must survive the network. @slack/socket-mode 3.1.0 gives up on an HTTP 5xx or a refused
// connection from `apps.connections.open`, and its automatic reconnect drops the promise of the retry, so
// one such failure during a reconnect is an unhandled rejection that ends the process. Here the client's
// own reconnect is off and a single loop (SocketModeLink) opens the link, retrying 5xx, network failures
// and 429s (after Retry-After) until Slack answers; only a refused app-level token is final.

import type { Server, ServerResponse } from 'node:http';
import {
  defaultProcessEventErrorHandler,
  HTTPReceiver,
  SocketModeReceiver,
  type CustomRoute,
  type Logger as BoltLogger,
  type SocketModeReceiverOptions,
} from '@slack/bolt';
import { UnrecoverableSocketModeStartError, type SocketModeClient } from '@slack/socket-mode';
import { ErrorCode, type AppsConnectionsOpenResponse, type WebClientOptions } from '@slack/web-api';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

export interface HealthReport {
  ok: boolean;
  store: 'ok' | 'down';
  /** Socket Mode only. */
  socketMode?: 'up' | 'down';
}

export interface HealthOptions {
  /** How long /healthz waits for the store before calling it down (default 2000 ms). */
  storeTimeoutMs?: number;
  /** How long the Socket Mode link may be down before /healthz answers 503 (default 30 000 ms). */
  linkDownMs?: number;
  /** Clock of the link-down threshold (tests move it forward). */
  now?: () => number;
}

export interface SocketModeTuning {
  /** The SDK's pong deadline; it pings every third of it (SDK default 5000 ms). */
  clientPingTimeoutMs?: number;
  /** The SDK's deadline for Slack's next ping once Slack has pinged (SDK default 30 000 ms). */
  serverPingTimeoutMs?: number;
  /** Wait before the 2nd attempt to open the link; it doubles up to maxDelayMs, with jitter (default 1000 ms). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Longest wait for one `apps.connections.open` answer (default 10 000 ms). */
  requestTimeoutMs?: number;
}

export interface ReceiverTuning {
  health?: HealthOptions;
  socketMode?: SocketModeTuning;
}

export interface SlackReceiverOptions extends ReceiverTuning {
  config: Pick<Config, 'SLACK_APP_TOKEN' | 'SLACK_SIGNING_SECRET' | 'SLACK_API_URL' | 'PORT'>;
  logger: Logger;
  /** Bolt-shaped logger for the receiver and the Socket Mode client. */
  boltLogger: BoltLogger;
  /** Resolves when the store answers; /healthz reports the store down when it rejects or is slower than storeTimeoutMs. */
  storePing: () => Promise<unknown>;
}

export interface LinkStatus {
  up: boolean;
  /** Date (per the health clock) of the last change between up and down. */
  since: number;
  /** Slack refused the app-level token: the link will not be opened again by this process. */
  gaveUp: boolean;
}

export interface SlackReceiver {
  mode: 'http' | 'socket';
  /** Pass to `new App({ receiver })`. */
  receiver: HTTPReceiver | SocketModeReceiver;
  /** What /healthz answers now. */
  health(): Promise<HealthReport>;
  /** Socket Mode: the port /healthz listens on, once started. HTTP mode: undefined (app.start() returns the server). */
  healthPort(): number | undefined;
  /** Socket Mode: the link's state. HTTP mode: undefined. */
  link(): LinkStatus | undefined;
}

const DEFAULTS = {
  storeTimeoutMs: 2000,
  linkDownMs: 30_000,
  minDelayMs: 1000,
  maxDelayMs: 30_000,
  requestTimeoutMs: 10_000,
};

/** Errors after which opening the link again cannot help: the SDK's list, plus a bot token given as the app token. */
const FINAL_ERRORS = new Set<string>([...Object.values(UnrecoverableSocketModeStartError), 'not_allowed_token_type']);

/** Build the receiver the settings ask for: Socket Mode when SLACK_APP_TOKEN is set, else HTTP. */
export function buildReceiver(o: SlackReceiverOptions): SlackReceiver {
  const now = o.health?.now ?? Date.now;
  const storeTimeoutMs = o.health?.storeTimeoutMs ?? DEFAULTS.storeTimeoutMs;
  const linkDownMs = o.health?.linkDownMs ?? DEFAULTS.linkDownMs;
  let link: SocketModeLink | undefined;

  const health = async (): Promise<HealthReport> => {
    const storeOk = await answersWithin(o.storePing, storeTimeoutMs);
    const report: HealthReport = { ok: storeOk, store: storeOk ? 'ok' : 'down' };
    if (link) {
      const s = link.status();
      report.socketMode = s.up ? 'up' : 'down';
      if (!s.up && (s.gaveUp || now() - s.since > linkDownMs)) report.ok = false;
    }
    return report;
  };
  const customRoutes = [healthRoute(health)];

  const appToken = o.config.SLACK_APP_TOKEN;
  if (!appToken) {
    const receiver = new HTTPReceiver({
      signingSecret: o.config.SLACK_SIGNING_SECRET!,
      port: o.config.PORT,
      customRoutes,
      logger: o.boltLogger,
    });
    return { mode: 'http', receiver, health, healthPort: () => undefined, link: () => undefined };
  }

  const t = o.socketMode ?? {};
  // The link's own client settings: our Web API calls use {retries: 0} (the outbox retries them), and
  // this client must not retry inside the WebClient either, so that stop() can end the loop at once.
  const clientOptions: WebClientOptions = {
    ...(o.config.SLACK_API_URL ? { slackApiUrl: o.config.SLACK_API_URL } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: t.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
  };
  const receiver = new LinkedSocketModeReceiver(
    {
      appToken,
      logger: o.boltLogger,
      autoReconnectEnabled: false,
      ...(t.clientPingTimeoutMs !== undefined ? { clientPingTimeout: t.clientPingTimeoutMs } : {}),
      ...(t.serverPingTimeoutMs !== undefined ? { serverPingTimeout: t.serverPingTimeoutMs } : {}),
      installerOptions: { port: o.config.PORT, clientOptions },
      customRoutes,
      // Bolt acks some failed events itself; over a closed link that ack would reject with nobody listening.
      processEventErrorHandler: async (args) => {
        if (await defaultProcessEventErrorHandler(args)) {
          await args.event.ack().catch((error: unknown) => o.logger.warn('could not ack a failed Socket Mode event', { error }));
        }
        return false;
      },
    },
    { port: o.config.PORT, logger: o.logger, now, minDelayMs: t.minDelayMs ?? DEFAULTS.minDelayMs, maxDelayMs: t.maxDelayMs ?? DEFAULTS.maxDelayMs },
  );
  link = receiver.link;
  return { mode: 'socket', receiver, health, healthPort: () => receiver.healthPort(), link: () => receiver.link.status() };
}

function healthRoute(check: () => Promise<HealthReport>): CustomRoute {
  const reply = (res: ServerResponse, report: HealthReport) => {
    const body = JSON.stringify(report);
    res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body);
  };
  return {
    path: '/healthz',
    method: ['GET'],
    handler: (_req, res) => {
      check().then(
        (report) => reply(res, report),
        () => reply(res, { ok: false, store: 'down' }),
      );
    },
  };
}

/** True when `ping` resolves within `timeoutMs`. */
async function answersWithin(ping: () => Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    const answered = Promise.resolve()
      .then(ping)
      .then(
        () => true,
        () => false,
      );
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface LinkOptions {
  port: number;
  logger: Logger;
  now: () => number;
  minDelayMs: number;
  maxDelayMs: number;
}

/** SocketModeReceiver whose link is kept open by SocketModeLink, and whose /healthz server reports its port. */
class LinkedSocketModeReceiver extends SocketModeReceiver {
  readonly link: SocketModeLink;
  private readonly port: number;

  constructor(options: SocketModeReceiverOptions, o: LinkOptions) {
    super(options);
    this.port = o.port;
    this.link = new SocketModeLink(this.client, o);
  }

  // Bolt 5.1 listens without an error handler (EADDRINUSE would crash) and never tells the port; do both here.
  override async start(): Promise<AppsConnectionsOpenResponse> {
    const server = this.healthServer();
    if (server && !server.listening) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.port, () => {
          server.off('error', reject);
          resolve();
        });
      });
    }
    return this.link.open();
  }

  override async stop(): Promise<void> {
    await this.link.close();
    const server = this.healthServer();
    if (server?.listening) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  healthPort(): number | undefined {
    const address = this.healthServer()?.address();
    return typeof address === 'object' && address ? address.port : undefined;
  }

  /** Bolt keeps the custom-routes server in a TypeScript-private field. */
  private healthServer(): Server | undefined {
    return (this as unknown as { httpServer?: Server }).httpServer;
  }
}

class LinkStoppedError extends Error {
  constructor() {
    super('the Socket Mode receiver was stopped');
    this.name = 'LinkStoppedError';
  }
}

/**
 * Opens the Socket Mode link and opens it again whenever it closes, until close(). One loop at a time;
 * every failure is caught here, so nothing the network does can reject a promise nobody awaits.
 */
class SocketModeLink {
  private up = false;
  private since: number;
  private gaveUp = false;
  private stopped = false;
  private running: Promise<AppsConnectionsOpenResponse> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly client: SocketModeClient,
    private readonly o: LinkOptions,
  ) {
    this.since = o.now();
    // State names of @slack/socket-mode 3.1.0 (its `State` enum): 'connected' follows Slack's hello.
    client.on('connected', () => {
      if (this.up) return;
      this.up = true;
      this.since = o.now();
      o.logger.info('Socket Mode link up');
    });
    client.on('disconnected', () => {
      if (this.up) {
        this.up = false;
        this.since = o.now();
        if (!this.stopped) o.logger.warn('Socket Mode link down; opening it again');
      }
      if (!this.stopped && !this.running) this.reopen();
    });
  }

  status(): LinkStatus {
    return { up: this.up, since: this.since, gaveUp: this.gaveUp };
  }

  /** Resolves once the link is up; rejects only when Slack refuses the app-level token, or on close(). */
  open(): Promise<AppsConnectionsOpenResponse> {
    this.stopped = false;
    this.gaveUp = false;
    return this.run();
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.client.disconnect();
    await this.running?.catch(() => undefined);
  }

  private run(): Promise<AppsConnectionsOpenResponse> {
    if (!this.running) {
      const loop = this.loop();
      this.running = loop;
      loop.then(
        () => {
          this.running = undefined;
          // The link may have closed again before this loop ended (its 'disconnected' saw a loop running).
          if (!this.up && !this.stopped) this.reopen();
        },
        () => {
          this.running = undefined;
        },
      );
    }
    return this.running;
  }

  private reopen(): void {
    this.run().catch((error: unknown) => {
      if (error instanceof LinkStoppedError) return;
      this.gaveUp = true;
      this.o.logger.error('Slack refused the app-level token; Socket Mode stays down and /healthz reports it', {
        reason: describeFailure(error),
      });
    });
  }

  private async loop(): Promise<AppsConnectionsOpenResponse> {
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) throw new LinkStoppedError();
      try {
        const opened = await this.client.start();
        if (this.stopped) {
          await this.client.disconnect();
          throw new LinkStoppedError();
        }
        return opened;
      } catch (error) {
        if (this.stopped || error instanceof LinkStoppedError) throw new LinkStoppedError();
        if (isFinal(error)) throw error;
        const waitMs = retryAfterMs(error) ?? backoffMs(attempt, this.o.minDelayMs, this.o.maxDelayMs);
        this.o.logger.warn('could not open the Socket Mode link; trying again', { attempt, reason: describeFailure(error), waitMs });
        await this.sleep(waitMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}

type CodedError = Error & {
  code?: string;
  data?: { error?: string };
  statusCode?: number;
  retryAfter?: number;
  original?: Error & { code?: string; cause?: { code?: string } };
};

function isFinal(error: unknown): boolean {
  const e = error as CodedError | undefined;
  return e?.code === ErrorCode.PlatformError && typeof e.data?.error === 'string' && FINAL_ERRORS.has(e.data.error);
}

function retryAfterMs(error: unknown): number | undefined {
  const e = error as CodedError | undefined;
  return e?.code === ErrorCode.RateLimitedError && typeof e.retryAfter === 'number' ? e.retryAfter * 1000 : undefined;
}

/** Exponential backoff with jitter: the 2nd attempt waits about `min`, then twice as long each time, at most `max`. */
function backoffMs(attempt: number, min: number, max: number): number {
  const base = Math.min(max, min * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.5 + Math.random() / 2));
}

/** A short, secret-free reason for the logs. */
function describeFailure(error: unknown): string {
  const e = error as CodedError | undefined;
  if (e === undefined || e === null) return 'the link closed before Slack said hello';
  switch (e.code) {
    case ErrorCode.RateLimitedError:
      return `rate limited by Slack (Retry-After ${String(e.retryAfter)} s)`;
    case ErrorCode.HTTPError:
      return `HTTP ${String(e.statusCode)} from apps.connections.open`;
    case ErrorCode.RequestError: {
      const cause = e.original?.cause?.code ?? e.original?.code;
      return `request to apps.connections.open failed${cause ? ` (${cause})` : ''}: ${e.original?.message ?? e.message}`;
    }
    case ErrorCode.PlatformError:
      return `Slack answered ${String(e.data?.error)}`;
    default:
      return e instanceof Error ? e.message : String(e);
  }
}
