import type { WebClient } from '@slack/web-api';
import type { BroadcastService } from '../broadcast/service.js';
import type { BroadcastRequest, NotifyTarget, PendingNotification, RequestState } from '../broadcast/types.js';
import type { Logger } from '../logger.js';
import { buildApprovalCard } from '../../views/approval-card.js';
import {
  cancelledReply,
  expiredReply,
  failedReply,
  handedBackReply,
  rejectedReply,
  requesterNotice,
  sentReply,
  submittedNotice,
  unknownReply,
} from '../../views/result-messages.js';

type Message = { text: string; blocks?: unknown[] };

const THREAD_REPLY: Partial<Record<RequestState, (r: BroadcastRequest) => Message>> = {
  sent: sentReply,
  failed: failedReply,
  unknown: unknownReply,
  rejected: rejectedReply,
  expired: expiredReply,
  cancelled: cancelledReply,
  pending: handedBackReply,
};

/**
 * Delivers the notifications stored in each request (its outbox) to Slack: the approval card,
 * the reply in its thread, the requester's DM. A Slack failure leaves the notification stored
 * and it is retried later with backoff, after a restart too; nothing here ever pushes.
 */
export class Notifier {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly o: {
      client: WebClient;
      service: BroadcastService;
      approvalChannel: string;
      logger: Logger;
      now?: () => Date;
      leaseMs?: number;
    },
  ) {}

  private now(): Date {
    return (this.o.now ?? (() => new Date()))();
  }

  /** Deliver what is due for one request now; concurrent calls for the same request share one run. */
  deliver(requestId: string): Promise<void> {
    const existing = this.running.get(requestId);
    if (existing) return existing.then(() => this.deliver(requestId));
    const run = this.deliverOnce(requestId)
      .catch((error) => this.o.logger.error('notification delivery stopped', { requestId, error }))
      .finally(() => this.running.delete(requestId));
    this.running.set(requestId, run);
    return run;
  }

  /** Deliver everything due, for all requests (the periodic sweep). */
  async deliverDue(): Promise<void> {
    const now = this.now().toISOString();
    const owing = (await this.o.service.requests.list()).filter((r) => r.outbox[0] && r.outbox[0].nextAt <= now);
    for (const r of owing) await this.deliver(r.id);
  }

  start(intervalMs = 5000): void {
    this.timer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.deliverDue()
        .catch((error) => this.o.logger.warn('outbox sweep failed', { error }))
        .finally(() => (this.sweeping = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
    await Promise.allSettled([...this.running.values()]);
  }

  private async deliverOnce(requestId: string): Promise<void> {
    const requests = this.o.service.requests;
    const me = this.o.service.instanceId;
    const leaseMs = this.o.leaseMs ?? 30_000;
    const now = this.now();
    // A lease in the record keeps two instances from posting the same thread reply.
    let request = await requests.updateIf(
      requestId,
      (r) =>
        r.outbox.length > 0 &&
        (r.outbox[0]?.nextAt ?? '') <= now.toISOString() &&
        (!r.outboxLease || r.outboxLease.owner === me || r.outboxLease.until < now.toISOString()),
      () => ({ outboxLease: { owner: me, until: new Date(now.getTime() + leaseMs).toISOString() } }),
    );
    if (!request) return;
    try {
      for (;;) {
        const head = request.outbox[0];
        if (!head || head.nextAt > this.now().toISOString()) break;
        const target = head.targets[0];
        if (target) {
          try {
            await this.send(target, head.event, request);
          } catch (error) {
            await this.postpone(requestId, head, target, error);
            break;
          }
        }
        const next = await requests.update(requestId, (r) => ({ outbox: withoutDelivered(r.outbox, head.event, target) }));
        if (!next) break;
        request = next;
      }
    } finally {
      await requests.updateIf(
        requestId,
        (r) => r.outboxLease?.owner === me,
        () => ({ outboxLease: undefined }),
      );
    }
  }

  private async postpone(requestId: string, head: PendingNotification, target: NotifyTarget, error: unknown): Promise<void> {
    const attempts = head.attempts + 1;
    const retryAfterS = Number((error as { retryAfter?: unknown })?.retryAfter);
    const delayMs = Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : Math.min(2000 * 2 ** (attempts - 1), 300_000);
    const message = (error as Error)?.message ?? String(error);
    this.o.logger.warn('Slack notification failed; will retry', { requestId, event: head.event, target, attempts, delayMs, error: message });
    await this.o.service.requests.update(requestId, (r) => ({
      outbox: r.outbox.map((n, i) =>
        i === 0 && n.event === head.event
          ? { ...n, attempts, lastError: message.slice(0, 300), nextAt: new Date(this.now().getTime() + delayMs).toISOString() }
          : n,
      ),
    }));
  }

  private async send(target: NotifyTarget, event: RequestState, request: BroadcastRequest): Promise<void> {
    const client = this.o.client;
    if (target === 'card') {
      const quota = await this.o.service.quotaStatus();
      const card = buildApprovalCard({ request, quota, now: this.now() });
      if (!request.card) {
        const posted = await client.chat.postMessage({ channel: this.o.approvalChannel, text: card.text, blocks: card.blocks as never });
        const ref = { channel: String(posted.channel), ts: String(posted.ts) };
        await this.o.service.requests.update(request.id, () => ({ card: ref }));
        request.card = ref;
      } else {
        await client.chat.update({ channel: request.card.channel, ts: request.card.ts, text: card.text, blocks: card.blocks as never });
      }
      return;
    }
    if (target === 'thread') {
      const reply = THREAD_REPLY[event];
      if (!reply) return;
      if (!request.card) throw new Error('the approval card has not been posted yet');
      const m = reply(request);
      await client.chat.postMessage({ channel: request.card.channel, thread_ts: request.card.ts, text: m.text, blocks: m.blocks as never });
      return;
    }
    const m: Message =
      event === 'pending' ? submittedNotice(request, { channelId: this.o.approvalChannel }) : requesterNotice(request, {});
    await client.chat.postMessage({ channel: request.requesterId, text: m.text, blocks: m.blocks as never });
  }
}

/** Remove a delivered target from the first notification of that event. */
function withoutDelivered(outbox: PendingNotification[], event: RequestState, target: NotifyTarget | undefined): PendingNotification[] {
  const i = outbox.findIndex((n) => n.event === event);
  if (i < 0) return outbox;
  const n = outbox[i]!;
  const targets = target ? n.targets.filter((t) => t !== target) : [];
  const copy = [...outbox];
  if (targets.length === 0) copy.splice(i, 1);
  else copy[i] = { ...n, targets, attempts: 0 };
  return copy;
}
