import type { WebClient } from '@slack/web-api';
import type { DeliveryFailure } from '../broadcast/deliveries.js';
import { nextOwed, withCardDue } from '../broadcast/outbox.js';
import type { BroadcastService } from '../broadcast/service.js';
import type { BroadcastRequest, NotifyTarget } from '../broadcast/types.js';
import type { Logger } from '../logger.js';
import { approverMentions, buildApprovalCard, cardFallbackText } from '../../views/approval-card.js';
import { asJson } from './wire.js';
import type { ViewContext } from '../../views/context.js';
import { requesterMessage } from '../../views/replies.js';
import { threadEntry } from '../../views/thread.js';

/** Slack errors that will not fix themselves: retrying the same message to the same place cannot help. */
const PERMANENT = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'user_not_found',
  'account_inactive',
  'cannot_dm_bot',
  'user_disabled',
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'no_text',
  'invalid_metadata_format',
  'invalid_metadata_schema',
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'team_access_not_granted',
  'channel_is_archived',
]);
/**
 * A thread entry that links another request's card ("asked again as …") waits for that card to be
 * posted, a few short tries at most: the new card is posted moments after the link is recorded.
 */
const LINKED_CARD_WAIT_MS = 250;
const LINKED_CARD_MAX_WAITS = 20;
/** Of those, the ones that mean no DM to this person will ever work. */
const RECIPIENT_GONE = new Set(['user_not_found', 'account_inactive', 'cannot_dm_bot', 'user_disabled', 'channel_not_found']);

/** What a failed Slack call means for the outbox. */
export function classifySlackError(error: unknown): DeliveryFailure {
  const e = error as { data?: { error?: unknown }; retryAfter?: unknown; code?: unknown; message?: unknown; statusCode?: unknown };
  const platform = typeof e?.data?.error === 'string' ? e.data.error : undefined;
  const retryAfterS = Number(e?.retryAfter);
  if (platform) {
    return { error: platform, permanent: PERMANENT.has(platform), recipientGone: RECIPIENT_GONE.has(platform) };
  }
  const retryAfterMs = Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : undefined;
  const what = retryAfterMs !== undefined ? 'ratelimited' : typeof e?.statusCode === 'number' ? `http_${e.statusCode}` : String(e?.code ?? 'request_error');
  return { error: what, permanent: false, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}

/**
 * Delivers what requests owe people (their outbox) to Slack: the approval card, one entry per event
 * in its thread, and DMs to the requester. Targets are independent: a DM that fails never holds up
 * the card or the thread; a transient failure is retried after Slack's Retry-After (or a short
 * backoff) by a timer, a permanent one ends that target and is noted. Slack messages are
 * therefore at least once: a crash after Slack accepted a post and before it was recorded posts
 * it again. Nothing here can ever push.
 */
export class Notifier {
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly o: {
      client: WebClient;
      service: BroadcastService;
      approvalChannel: string;
      logger: Logger;
      /** The view context of the moment (quota, approvers, audience size...). */
      viewContext: (r: BroadcastRequest) => Promise<ViewContext>;
      /** A push about to leave for this request: deliver after it did (at most briefly), so Slack never delays a push. */
      holdWhile?: (requestId: string) => Promise<void> | undefined;
    },
  ) {}

  /** Something is owed for this request: deliver it now (coalesced with a run already going). */
  kick(requestId: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const existing = this.running.get(requestId);
    if (existing) {
      this.again.add(requestId);
      return existing;
    }
    const run = (async () => {
      const hold = this.o.holdWhile?.(requestId);
      if (hold) await Promise.race([hold, new Promise((r) => setTimeout(r, 250).unref())]);
      do {
        this.again.delete(requestId);
        await this.deliverOnce(requestId).catch((error: unknown) => this.o.logger.warn('notification delivery stopped; will retry', { requestId, error }));
      } while (this.again.has(requestId) && !this.stopped);
    })().finally(() => this.running.delete(requestId));
    this.running.set(requestId, run);
    return run;
  }

  /** Deliver everything due (the periodic sweep: a look at the outbox index, never the history). */
  async deliverDue(): Promise<void> {
    for (const id of await this.o.service.deliveries.due(100)) await this.kick(id);
  }

  start(intervalMs = 5000): void {
    this.sweepTimer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.deliverDue()
        .catch((error) => this.o.logger.warn('outbox sweep failed', { error }))
        .finally(() => (this.sweeping = undefined));
    }, intervalMs);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.sweeping;
    await this.idle();
  }

  isBusy(): boolean {
    return this.running.size > 0;
  }

  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
  }

  /** A retry is due later: come back then, rather than at the next sweep. */
  private later(r: BroadcastRequest): void {
    const times: number[] = [];
    if (r.outbox.card && !r.outbox.ended?.card) times.push(Date.parse(r.outbox.card.nextAt));
    for (const t of ['thread', 'dm'] as const) if (nextOwed(r, t) !== undefined && r.outbox[t].retry) times.push(Date.parse(r.outbox[t].retry!.nextAt));
    if (!times.length || this.stopped) return;
    const wait = Math.max(0, Math.min(...times) - Date.now());
    clearTimeout(this.timers.get(r.id));
    const timer = setTimeout(() => {
      this.timers.delete(r.id);
      void this.kick(r.id);
    }, wait + 20);
    timer.unref();
    this.timers.set(r.id, timer);
  }

  private async deliverOnce(requestId: string): Promise<void> {
    const d = this.o.service.deliveries;
    let r = await d.claim(requestId);
    if (!r) return;
    try {
      const now = () => this.o.service.clock.now().getTime();
      const ctx = await this.o.viewContext(r);
      // The card first: the thread and the DM link to it.
      if (r.outbox.card && !r.outbox.ended?.card && Date.parse(r.outbox.card.nextAt) <= now()) {
        r = (await this.attempt(r, 'card', () => this.sendCard(r!, ctx))) ?? r;
      }
      for (let i = nextOwed(r, 'thread'); i !== undefined && r.card && dueNow(r, 'thread', now()); i = nextOwed(r, 'thread')) {
        const index = i;
        if (linkNotReady(r, index, ctx)) {
          r = (await d.failed(r.id, 'thread', { error: 'waiting for the linked card to be posted', permanent: false, retryAfterMs: LINKED_CARD_WAIT_MS }, index)) ?? r;
          break;
        }
        const next = await this.attempt(r, 'thread', () => this.sendThread(r!, index, ctx), index);
        if (!next || next.outbox.thread.cursor <= index) {
          r = next ?? r;
          break;
        }
        r = next;
      }
      for (let i = nextOwed(r, 'dm'); i !== undefined && (r.card || r.outbox.ended?.card) && dueNow(r, 'dm', now()); i = nextOwed(r, 'dm')) {
        const index = i;
        const next = await this.attempt(r, 'dm', () => this.sendDm(r!, index, ctx), index);
        if (!next || (next.outbox.dm.cursor <= index && nextOwed(next, 'dm') === index)) {
          r = next ?? r;
          break;
        }
        r = next;
      }
    } finally {
      const released = await d.release(requestId).catch(() => undefined);
      if (released) this.later(released);
    }
  }

  /** Run one delivery; record success or failure; the request as it now stands. */
  private async attempt(
    r: BroadcastRequest,
    target: NotifyTarget,
    send: () => Promise<BroadcastRequest | undefined>,
    index?: number,
  ): Promise<BroadcastRequest | undefined> {
    try {
      return await send();
    } catch (error) {
      const failure = classifySlackError(error);
      const log = failure.permanent ? this.o.logger.error : this.o.logger.warn;
      log.call(this.o.logger, failure.permanent ? 'Slack refused a notification for good; that target is ended' : 'Slack notification failed; will retry', {
        requestId: r.id,
        target,
        error: failure.error,
        ...(failure.retryAfterMs ? { retryAfterMs: failure.retryAfterMs } : {}),
      });
      return this.o.service.deliveries.failed(r.id, target, failure, index);
    }
  }

  private async sendCard(r: BroadcastRequest, ctx: ViewContext): Promise<BroadcastRequest | undefined> {
    const mark = r.outbox.card!.mark;
    const card = buildApprovalCard(r, ctx);
    const client = this.o.client;
    if (!r.card) {
      // The first post names the approvers, so Slack notifies them.
      const text = cardFallbackText(r, approverMentions(ctx), ctx);
      const posted = await client.chat.postMessage({ channel: this.o.approvalChannel, text, blocks: asJson(card.blocks), metadata: asJson(card.metadata), unfurl_links: false });
      const ref = { channel: String(posted.channel), ts: String(posted.ts) };
      let next = await this.o.service.deliveries.cardDone(r.id, mark, ref);
      const permalink = await client.chat
        .getPermalink({ channel: ref.channel, message_ts: ref.ts })
        .then((p) => (typeof p.permalink === 'string' ? p.permalink : undefined))
        .catch(() => undefined);
      if (permalink) next = (await this.o.service.deliveries.setPermalink(r.id, permalink)) ?? next;
      // The request this one asks again for shows a link to this card: render it again now that there is one.
      if (r.againOf) await this.renderCardAgain(r.againOf);
      return next;
    }
    await client.chat.update({ channel: r.card.channel, ts: r.card.ts, text: card.text, blocks: asJson(card.blocks), metadata: asJson(card.metadata) });
    return this.o.service.deliveries.cardDone(r.id, mark);
  }

  private async renderCardAgain(id: string): Promise<void> {
    const now = this.o.service.clock.now();
    await this.o.service.requests
      .update(id, (r) => (r.card ? { next: { ...r, outbox: withCardDue(r.outbox, now) } } : { refuse: 'no_card' }))
      .catch((error: unknown) => this.o.logger.warn('could not mark a linked card for re-rendering', { requestId: id, error }));
  }

  private async sendThread(r: BroadcastRequest, index: number, ctx: ViewContext): Promise<BroadcastRequest | undefined> {
    const m = threadEntry(r, index, ctx);
    await this.o.client.chat.postMessage({ channel: r.card!.channel, thread_ts: r.card!.ts, text: m.text, blocks: asJson(m.blocks), unfurl_links: false });
    return this.o.service.deliveries.entryDone(r.id, 'thread', index);
  }

  private async sendDm(r: BroadcastRequest, index: number, ctx: ViewContext): Promise<BroadcastRequest | undefined> {
    const m = requesterMessage(r, index, ctx);
    await this.o.client.chat.postMessage({ channel: r.requesterId, text: m.text, blocks: asJson(m.blocks), unfurl_links: false });
    return this.o.service.deliveries.entryDone(r.id, 'dm', index);
  }
}

/** Entry `index` links another request's card that is not posted yet (and we have not waited long). */
function linkNotReady(r: BroadcastRequest, index: number, ctx: ViewContext): boolean {
  const e = r.history[index];
  if (e?.kind !== 'requested_again' || !e.otherId || ctx.links?.[e.otherId]) return false;
  return (r.outbox.thread.retry?.attempts ?? 0) < LINKED_CARD_MAX_WAITS;
}

function dueNow(r: BroadcastRequest, target: 'thread' | 'dm', nowMs: number): boolean {
  const retry = r.outbox[target].retry;
  return !retry || Date.parse(retry.nextAt) <= nowMs;
}
