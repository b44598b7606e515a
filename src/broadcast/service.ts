import { randomBytes } from 'node:crypto';
import { silentLogger, type Logger } from '../logger.js';
import type { ExplainContext } from '../tim/errors.js';
import type { RetryOptions } from '../tim/push-with-retry.js';
import { systemClock, type Clock } from './clock.js';
import { Decisions, type DecisionSettings } from './decisions.js';
import { Deliveries } from './deliveries.js';
import { PushRunner, type Pusher, type UnrecordedResult } from './push-runner.js';
import { Queries } from './queries.js';
import { Quota } from './quota.js';
import { Requests } from './requests.js';
import type { Store } from './store/store.js';
import { Sweeper } from './sweeper.js';
import type { QuietHours } from './time.js';
import type { BroadcastRequest, QuotaStatus } from './types.js';

export type { Clock } from './clock.js';
export type { Pusher } from './push-runner.js';

export interface BroadcastServiceOptions {
  store: Store;
  pusher: Pusher;
  dailyQuota: number;
  quotaTimeZone: string;
  everyoneApprovals?: number;
  targetedApprovals?: number;
  requestTtlMs?: number;
  quietHours?: QuietHours;
  maxLateMs?: number;
  leaseMs?: number;
  minPushGapMs?: number;
  retry?: Omit<RetryOptions, 'beforeAttempt' | 'sleep' | 'explainContext' | 'onAttempt'>;
  explainContext?: ExplainContext;
  clock?: Clock;
  logger?: Logger;
  instanceId?: string;
  /** Called after every change people must hear about (the notifier delivers it). */
  onChange?: (request: BroadcastRequest) => void;
}

/**
 * The broadcast domain, assembled: decisions, the push runner, the outbox bookkeeping, queries and
 * the periodic sweep, over one store. It knows nothing about Slack: it stores requests, applies
 * the lifecycle atomically and records what people must be told.
 */
export class BroadcastService {
  readonly requests: Requests;
  readonly quota: Quota;
  readonly decisions: Decisions;
  readonly runner: PushRunner;
  readonly deliveries: Deliveries;
  readonly queries: Queries;
  readonly sweeper: Sweeper;
  readonly instanceId: string;
  readonly clock: Clock;
  private readonly log: Logger;
  private readonly listeners: Array<(r: BroadcastRequest) => void> = [];

  constructor(o: BroadcastServiceOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.logger ?? silentLogger;
    this.instanceId = o.instanceId ?? `i-${randomBytes(4).toString('hex')}`;
    if (o.onChange) this.listeners.push(o.onChange);
    this.requests = new Requests(o.store, {
      onChange: (r) => {
        for (const l of this.listeners) l(r);
      },
      sleep: (ms) => this.clock.sleep(ms),
    });
    this.quota = new Quota(o.store, o.dailyQuota, o.quotaTimeZone);
    const requestTtlMs = o.requestTtlMs ?? 86_400_000;
    const leaseMs = o.leaseMs ?? 30_000;
    this.runner = new PushRunner({
      requests: this.requests,
      quota: this.quota,
      pusher: o.pusher,
      clock: this.clock,
      log: this.log,
      settings: {
        instanceId: this.instanceId,
        leaseMs,
        minPushGapMs: o.minPushGapMs ?? 1100,
        maxLateMs: o.maxLateMs ?? 3_600_000,
        requestTtlMs,
        retry: o.retry ?? {},
        explainContext: { dailyQuota: o.dailyQuota, quotaTimezone: o.quotaTimeZone, ...o.explainContext },
        soleInstance: o.store.kind === 'sqlite',
      },
    });
    const settings: DecisionSettings = {
      everyoneApprovals: o.everyoneApprovals ?? 1,
      targetedApprovals: o.targetedApprovals ?? 1,
      requestTtlMs,
      timeZone: o.quotaTimeZone,
      ...(o.quietHours ? { quietHours: o.quietHours } : {}),
    };
    this.decisions = new Decisions({ requests: this.requests, quota: this.quota, runner: this.runner, clock: this.clock, log: this.log, settings });
    this.deliveries = new Deliveries({ requests: this.requests, clock: this.clock, instanceId: this.instanceId, leaseMs });
    this.queries = new Queries(this.requests);
    this.sweeper = new Sweeper({
      requests: this.requests,
      decisions: this.decisions,
      runner: this.runner,
      quota: this.quota,
      clock: this.clock,
      log: this.log,
      ...(o.quietHours ? { quietHours: o.quietHours } : {}),
    });
  }

  /** Subscribe to changes people must hear about. */
  onChange(listener: (r: BroadcastRequest) => void): void {
    this.listeners.push(listener);
  }

  quotaStatus(): Promise<QuotaStatus> {
    return this.quota.status(this.clock.now());
  }

  get(id: string): Promise<BroadcastRequest | undefined> {
    return this.requests.get(id);
  }

  /** Settle what a previous run left behind, then sweep every `sweepMs`. */
  async start(sweepMs = 1000): Promise<void> {
    await this.runner.reap({ atStart: true });
    await this.sweeper.tick();
    this.sweeper.start(sweepMs);
  }

  /** Stop taking scheduled work and let every push in flight finish and be recorded. */
  async stop(): Promise<void> {
    this.runner.stopClaiming();
    await this.sweeper.stop();
    await this.runner.drain();
  }

  /** The shutdown budget ran out: stop retrying; what is left is returned to be printed. */
  abandon(): UnrecordedResult[] {
    this.runner.abandon();
    return this.runner.unrecordedResults();
  }

  unrecordedResults(): UnrecordedResult[] {
    return this.runner.unrecordedResults();
  }

  /** Wait for pushes in flight (tests, shutdown). */
  drain(): Promise<void> {
    return this.runner.drain();
  }
}
