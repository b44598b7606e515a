import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import type { Decisions } from './decisions.js';
import { withCardDue } from './outbox.js';
import type { PushRunner } from './push-runner.js';
import type { Quota } from './quota.js';
import type { Requests } from './requests.js';
import { inQuietHours, type QuietHours } from './time.js';

/**
 * The periodic work of every instance: settle requests whose owner is gone, expire requests nobody
 * decided, claim scheduled pushes whose time has come, and re-render pending cards when the quota
 * they show changes. Each step reads an index (a few rows), never the history, so its cost stays
 * flat however many requests accumulate.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastQuota: string | undefined;

  constructor(
    private readonly o: { requests: Requests; decisions: Decisions; runner: PushRunner; quota: Quota; clock: Clock; log: Logger; quietHours?: QuietHours },
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.tick().finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One round; each step's failure is logged and does not stop the others. */
  async tick(): Promise<void> {
    const step = async (what: string, work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (error) {
        this.o.log.warn(`sweep: could not ${what}`, { error });
      }
    };
    await step('settle requests whose owner is gone', () => this.o.runner.reap());
    await step('expire requests', () => this.o.decisions.expireDue());
    await step('claim scheduled pushes', () => this.o.runner.claimDue());
    await step('follow the quota', () => this.followQuota());
  }

  /**
   * Pending cards show today's quota, hide Approve while it is used up, and offer "send now anyway"
   * during quiet hours: re-render them when any of that changes.
   */
  async followQuota(): Promise<void> {
    const now = this.o.clock.now();
    const s = await this.o.quota.status(now);
    const quiet = this.o.quietHours ? inQuietHours(now, this.o.quota.timeZone, this.o.quietHours) : false;
    const seen = `${s.day}|${s.used}|${s.exhausted}|${quiet}`;
    if (seen === this.lastQuota) return;
    // Also on the first round: the quota may have reset while this instance was down.
    this.lastQuota = seen;
    for (const r of await this.o.requests.store.list({ states: ['pending'], limit: 100 })) {
      await this.o.requests.update(r.data.id, (cur) => (cur.state === 'pending' ? { next: { ...cur, outbox: withCardDue(cur.outbox, now) } } : { refuse: 'moved' }));
    }
  }
}
